/**
 * Several instances of the stateless network and storage components serving one cloud: four nodes in
 * one process (a data node, two network+storage nodes, a client node), found through the gossip
 * registry as in a cluster of processes. Commands are spread over both instances at once; the data
 * service's atomic allocation must keep every guest address and VLAN unique and every pool within its
 * capacity, whoever handles which command.
 */
import { expect } from 'chai';
import { silentLogger } from '../../../src/logger.js';
import { Node } from '../../../src/node.js';
import { InprocHub } from '../../../transports/inproc/hub.js';
import { InprocTransport } from '../../../transports/inproc/inproc-transport.js';
import { InsufficientCapacityError } from '../../../src/errors.js';
import { startAssembly, type Assembly } from '../../../bin/assembly.js';
import { startClusterMembership, type ClusterMembership } from '../../../bin/cluster.js';
import type { DataHandle } from '../../../actors/data/component.js';
import { SYSTEM } from '../../../actors/data/store/index.js';
import { NetworkProtocol } from '../../../actors/network/protocol.js';
import { StorageProtocol } from '../../../actors/storage/protocol.js';
import { waitFor } from '../../helpers/wait.js';

describe('network and storage: two instances racing over one data service', function () {
  this.timeout(60_000);
  const hub = new InprocHub();
  const nodes: { node: Node; cluster: ClusterMembership; assembly: Assembly }[] = [];
  let client: ClusterMembership;
  let handle: DataHandle;
  let n = 0;
  const key = (): string => `race-${++n}`;

  async function start(name: string, roles: string[], options: Record<string, unknown> = {}): Promise<(typeof nodes)[number]> {
    const node = new Node({ nodeId: name, transport: new InprocTransport({ nodeId: name, hub }), logger: silentLogger });
    await node.start();
    const cluster = await startClusterMembership(node, { roles, clusterName: 'race', profile: 'test',
      seeds: name === 'd' ? [] : ['node:d'], log: silentLogger });
    const assembly = await startAssembly({ system: node.system, services: cluster.services, transport: node.transport, log: silentLogger,
      profile: 'test' }, roles, (c) => options[c] ?? {});
    const entry = { node, cluster, assembly };
    nodes.push(entry);
    return entry;
  }

  before(async () => {
    const d = await start('d', ['data'], { data: { seed: { kind: 'lab', hosts: 0 } } });
    handle = d.assembly.handle<DataHandle>('data')!;
    await start('n1', ['network', 'storage']);
    await start('n2', ['network', 'storage']);
    client = (await start('t', [])).cluster;
    await waitFor(() => client.services.registry.lookup(NetworkProtocol.name).length === 2 && client.services.registry.lookup(StorageProtocol.name).length === 2,
      10_000, 'both instances in the client\'s registry');
  });

  after(async () => {
    for (const e of nodes.reverse()) {
      await e.assembly.stop();
      e.cluster.gossip.stop();
      await e.node.stop();
    }
  });

  const network = () => client.services.locator.ref(NetworkProtocol, undefined, { spread: true });
  const storage = () => client.services.locator.ref(StorageProtocol, undefined, { spread: true });

  it('never hands out one guest address or one VLAN twice', async () => {
    const s = handle.store;
    const seed = handle.seed!;
    const nets = Array.from({ length: 24 }, (_v, i) => s.networks.create(SYSTEM, { name: `race-${i}`, zoneid: seed.zoneid,
      networkofferingid: seed.networkofferingid, accountid: seed.adminAccountId }).id);
    const implemented = await Promise.all(nets.map((networkid) => network().ask('implementNetwork', { key: key(), networkid })));
    const vlans = implemented.map((x) => x.vlan);
    expect(new Set(vlans).size, `VLANs ${vlans.join(',')}`).to.equal(nets.length);
    const vms = Array.from({ length: 60 }, () => s.vmOps.create(SYSTEM, { zoneid: seed.zoneid, serviceofferingid: seed.serviceofferings.small,
      templateid: seed.templateid, accountid: seed.adminAccountId, networkids: [nets[0]!] }));
    const nics = vms.map((v) => s.vms.get(SYSTEM, v.id).nic[0]!.id);
    const prepared = await Promise.all(nics.map((nicid) => network().ask('prepareNic', { key: key(), nicid })));
    const ips = prepared.map((p) => p.ipaddress);
    expect(new Set(ips).size).to.equal(nics.length);
    const sourceNat = s.ipAddresses.scan(SYSTEM, { issourcenat: true }, { limit: 1000 }).items.map((ip) => ip.ipaddress);
    expect(new Set(sourceNat).size).to.equal(sourceNat.length);
  });

  it('never reserves more of a pool than it holds', async () => {
    const s = handle.store;
    const seed = handle.seed!;
    const pool = s.storage.getPool(seed.storagepoolid);
    // Volumes of a fifth of the pool each: only so many fit, however many are prepared at once.
    const size = Math.floor(pool.disksizetotal / 5 / 1024 ** 3); // GiB, as createVolume takes it
    const vols = Array.from({ length: 12 }, (_v, i) => s.volumes.create(SYSTEM, { name: `big-${i}`, zoneid: seed.zoneid, size,
      accountid: seed.adminAccountId }).id);
    const results = await Promise.allSettled(vols.map((volumeid) => storage().ask('prepareVolume', { key: key(), volumeid })));
    const ok = results.filter((r) => r.status === 'fulfilled').length;
    const refused = results.filter((r) => r.status === 'rejected');
    expect(refused.every((r) => (r as PromiseRejectedResult).reason instanceof InsufficientCapacityError),
      refused.map((r) => String((r as PromiseRejectedResult).reason)).join('; ')).to.equal(true);
    const after = s.storage.getPool(seed.storagepoolid);
    const factor = Number(after.overprovisionfactor);
    expect(after.disksizeallocated).to.be.at.most(after.disksizetotal * factor);
    expect(ok).to.be.greaterThan(0);
    expect(refused.length).to.be.greaterThan(0);
  });
});
