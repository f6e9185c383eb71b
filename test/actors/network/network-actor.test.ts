import { expect } from 'chai';
import type { ActorRef } from '../../../src/actor-types.js';
import { InsufficientCapacityError, ResourceInUseError } from '../../../src/errors.js';
import { NETWORK_PATH, type NetworkProtocolType } from '../../../actors/network/protocol.js';
import { networkActor } from '../../../actors/network/network-actor.js';
import { SYSTEM } from '../../../actors/data/store/index.js';
import { startDataFixture, type DataFixture } from '../../helpers/data-fixture.js';

describe('network component', () => {
  let f: DataFixture;
  let net: ActorRef<NetworkProtocolType>;
  let n = 0;
  const key = (): string => `k${++n}`;

  beforeEach(async () => {
    f = await startDataFixture({ vlanStart: 100, vlanEnd: 101 });
    net = f.system.spawn(NETWORK_PATH, networkActor({ locator: f.locator }));
  });

  afterEach(async () => { await f.stop(); });

  it('implements an isolated network once: one VLAN, one source NAT address, however often it is asked', async () => {
    const id = await f.createNetwork();
    const [a, b] = await Promise.all([net.ask('implementNetwork', { key: key(), networkid: id }), net.ask('implementNetwork', { key: key(), networkid: id })]);
    expect(a.state).to.equal('Implemented');
    expect(b.vlan).to.equal(a.vlan);
    expect((await net.ask('implementNetwork', { key: key(), networkid: id })).vlan).to.equal(a.vlan);
    const snat = await f.data.ipAddresses.list(SYSTEM, { associatednetworkid: id, issourcenat: true });
    expect(snat.count).to.equal(1);
  });

  it('hands out distinct guest addresses to concurrent NICs and takes them back', async () => {
    const id = await f.createNetwork();
    await net.ask('implementNetwork', { key: key(), networkid: id });
    const vms = await Promise.all(Array.from({ length: 20 }, () => f.createVm(id)));
    const nics = await Promise.all(vms.map(async (vm) => (await f.data.vms.get(SYSTEM, vm)).nic[0]!.id));
    const prepared = await Promise.all(nics.map((nicid) => net.ask('prepareNic', { key: key(), nicid })));
    const ips = prepared.map((p) => p.ipaddress);
    expect(new Set(ips).size).to.equal(20);
    expect(ips).to.not.include('10.1.1.1'); // the gateway
    // A repeated prepare keeps the address.
    expect((await net.ask('prepareNic', { key: key(), nicid: nics[0]! })).ipaddress).to.equal(ips[0]);
    expect((await net.ask('releaseNic', { key: key(), nicid: nics[0]! })).ipaddress).to.equal(undefined);
  });

  it('leaves a network Allocated, holding nothing, when no VLAN is free', async () => {
    const [a, b, c] = [await f.createNetwork('a'), await f.createNetwork('b'), await f.createNetwork('c')];
    await net.ask('implementNetwork', { key: key(), networkid: a });
    await net.ask('implementNetwork', { key: key(), networkid: b });
    const err = await net.ask('implementNetwork', { key: key(), networkid: c }).then(() => undefined, (e: Error) => e);
    expect(err).to.be.instanceOf(InsufficientCapacityError);
    const left = await f.data.networks.get(SYSTEM, c);
    expect(left.state).to.equal('Allocated');
    expect(left.vlan).to.equal(undefined);
    expect((await f.data.ipAddresses.list(SYSTEM, { associatednetworkid: c, allocatedonly: true })).count).to.equal(0);
  });

  it('refuses to delete a network with NICs (in use), then deletes it and frees its VLAN and addresses', async () => {
    const id = await f.createNetwork();
    const implemented = await net.ask('implementNetwork', { key: key(), networkid: id });
    const vm = await f.createVm(id);
    const err = await net.ask('deleteNetwork', { key: key(), networkid: id, scope: SYSTEM }).then(() => undefined, (e: Error) => e);
    expect(err).to.be.instanceOf(ResourceInUseError);
    await f.data.vmOps.transition(SYSTEM, vm, 'ExpungeOperation');
    await f.data.vmOps.markExpunged(SYSTEM, vm);
    await net.ask('deleteNetwork', { key: key(), networkid: id, scope: SYSTEM });
    await net.ask('deleteNetwork', { key: key(), networkid: id, scope: SYSTEM }); // repeated: done already
    expect((await f.data.networks.list(SYSTEM, { id })).count).to.equal(0);
    const again = await f.createNetwork('again');
    expect((await net.ask('implementNetwork', { key: key(), networkid: again })).vlan).to.equal(implemented.vlan);
  });

  it('applies and releases an associated public address', async () => {
    const id = await f.createNetwork();
    const ip = await f.data.addresses.allocatePublicIp(SYSTEM, { zoneid: f.seed.zoneid, networkid: id });
    const applied = await net.ask('applyPublicIp', { key: key(), ipid: ip.id });
    expect(applied.state).to.equal('Allocated');
    expect((await f.data.networks.get(SYSTEM, id)).state).to.equal('Implemented');
    expect((await net.ask('releasePublicIp', { key: key(), ipid: ip.id, scope: SYSTEM })).state).to.equal('Free');
    expect((await net.ask('releasePublicIp', { key: key(), ipid: ip.id, scope: SYSTEM })).state).to.equal('Free');
  });
});
