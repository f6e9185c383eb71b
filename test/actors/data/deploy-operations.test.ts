import { expect } from 'chai';
import type { ActorRef } from '../../../src/actor-types.js';
import { Node } from '../../../src/node.js';
import { silentLogger } from '../../../src/logger.js';
import { FencedError, IllegalStateError, ValidationError } from '../../../src/errors.js';
import { validate } from '../../../src/schema.js';
import { InprocHub } from '../../../transports/inproc/hub.js';
import { InprocTransport } from '../../../transports/inproc/inproc-transport.js';
import { dataActor } from '../../../actors/data/data-actor.js';
import {
  DATA_PATH, DataProtocol, PlacementSchema, SYSTEM, VmStartContextSchema, VolumeSchema, dataOps, type DataOps, type HostPickQuery,
} from '../../../actors/data/protocol.js';
import type { DataStore } from '../../../actors/data/store/index.js';
import { openTestStore } from '../../helpers/test-store.js';
import { seedLab, type SeedResult } from '../../../actors/data/store/seed.js';

describe('data service: named deploy operations over a transport', () => {
  let store: DataStore;
  let seed: SeedResult;
  let nodes: Node[];
  let ops: DataOps;
  let ref: ActorRef<typeof DataProtocol>;

  beforeEach(async () => {
    store = openTestStore();
    seed = seedLab(store, { hosts: 2 });
    const hub = new InprocHub();
    nodes = ['data-node', 'client-node'].map((id) => new Node({
      nodeId: id, transport: new InprocTransport({ nodeId: id, hub }), logger: silentLogger, strict: true,
    }));
    for (const n of nodes) await n.start();
    nodes[0]!.system.spawn(DATA_PATH, dataActor({ store, maxCallsPerCommit: 256 }));
    ref = nodes[1]!.system.ref({ node: 'data-node', path: DATA_PATH }, DataProtocol);
    ops = dataOps((type, body) => ref.ask(type, body as never));
  });

  afterEach(async () => {
    for (const n of nodes) await n.stop();
    store.close();
  });

  const newVm = (): string => store.vmOps.create(SYSTEM, { zoneid: seed.zoneid, serviceofferingid: seed.serviceofferings.small,
    templateid: seed.templateid, accountid: seed.adminAccountId }).id;
  const query = (vm: { zoneid: string; cpunumber: number; cpuspeed: number; memory: number }, extra: Partial<HostPickQuery> = {}): HostPickQuery =>
    ({ zoneid: vm.zoneid, cpu: vm.cpunumber * vm.cpuspeed, memory: vm.memory * 1024 * 1024, order: 'firstfit', limit: 20, ...extra });
  const allocatedCpu = (): number => seed.hostids.reduce((n, h) => n + store.hosts.get(h).cpuallocatedvalue, 0);

  it('startContext answers the VM, its volumes, host tags and affinity in one read, in its declared shape', async () => {
    const vmid = newVm();
    const sc = await ops.startContext({ vmid });
    expect(validate(VmStartContextSchema, sc)).to.equal(undefined);
    expect(sc.vm).to.include({ id: vmid, state: 'Stopped', zoneid: seed.zoneid });
    expect(sc.volumes.map((v) => v.type)).to.deep.equal(['ROOT']);
    expect(sc.affinity.avoidHosts).to.deep.equal([]);
  });

  it('reserveHostForStart holds capacity on one host only, however often it is sent, and answers no host when nothing fits', async () => {
    const vmid = newVm();
    const vm = store.vms.get(SYSTEM, vmid);
    const { host: first } = await ops.reserveHostForStart({ vmid, query: query(vm) });
    expect(validate(PlacementSchema, first)).to.equal(undefined);
    expect(seed.hostids).to.include(first!.hostid);
    const held = allocatedCpu();
    expect(held).to.equal(vm.cpunumber * vm.cpuspeed);
    // Sent again (a resumed step): the earlier reservation is released first, so the VM holds one host.
    const { host: again } = await ops.reserveHostForStart({ vmid, query: query(vm, { avoid: [first!.hostid] }) });
    expect(again!.hostid).to.not.equal(first!.hostid);
    expect(allocatedCpu()).to.equal(held);
    const none = await ops.reserveHostForStart({ vmid, query: query(vm, { cpu: 1e12 }) });
    expect(none).to.deep.equal({});
    expect(allocatedCpu()).to.equal(0);
    // `spread` picks which candidate is tried first (the last of two here), the others following.
    const candidates = store.orchestration.hostCandidates(query(vm)).map((h) => h.hostid);
    expect(candidates).to.have.length(2);
    expect((await ops.reserveHostForStart({ vmid, query: query(vm), spread: 0.99 })).host!.hostid).to.equal(candidates[1]);
    expect((await ops.reserveHostForStart({ vmid, query: query(vm), spread: 0 })).host!.hostid).to.equal(candidates[0]);
  });

  it('creates a volume in two operations: placed and Creating, then Ready with the template\'s format', async () => {
    const vmid = newVm();
    const rootid = store.orchestration.vmVolumes(vmid)[0]!.id;
    const begun = await ops.beginVolumeCreate({ volumeid: rootid, clusterid: seed.clusterid, poolCandidates: 20 });
    expect(validate(VolumeSchema, begun)).to.equal(undefined);
    expect(begun).to.include({ state: 'Creating', storageid: seed.storagepoolid });
    const done = await ops.completeVolumeCreate({ volumeid: rootid, path: rootid, templateid: seed.templateid });
    expect(done).to.include({ state: 'Ready', path: rootid });
    expect(done.format).to.equal(store.templates.get(SYSTEM, seed.templateid).format);
    // A Ready volume is answered as it is; completing it again is refused (it is no longer Creating).
    expect((await ops.beginVolumeCreate({ volumeid: rootid, poolCandidates: 20 })).state).to.equal('Ready');
    const err = await ops.completeVolumeCreate({ volumeid: rootid, path: rootid }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(IllegalStateError);
  });

  it('refuses a write under a lease its writer no longer holds, changing nothing, and a malformed request', async () => {
    const vmid = newVm();
    const vm = store.vms.get(SYSTEM, vmid);
    const claim = store.leases.claim('job:x', 'orch-1', 60_000);
    store.leases.release('job:x', 'orch-1', claim.epoch);
    const stale = dataOps((type, body) => ref.ask(type, body as never), { lease: 'job:x', owner: 'orch-1', epoch: claim.epoch });
    const err = await stale.reserveHostForStart({ vmid, query: query(vm) }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(FencedError);
    expect(allocatedCpu()).to.equal(0);
    const bad = await ref.ask('reserveHostForStart', { vmid, query: { zoneid: seed.zoneid } } as never).catch((e: unknown) => e);
    expect(bad).to.be.instanceOf(ValidationError);
  });
});
