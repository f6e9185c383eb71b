import { expect } from 'chai';
import type { ActorRef } from '../../../src/actor-types.js';
import { InsufficientCapacityError, InvalidParameterError, ResourceInUseError, ResourceUnavailableError } from '../../../src/errors.js';
import { STORAGE_PATH, type StorageProtocolType } from '../../../actors/storage/protocol.js';
import { storageActor } from '../../../actors/storage/storage-actor.js';
import { SYSTEM } from '../../../actors/data/store/index.js';
import { startDataFixture, type DataFixture } from '../../helpers/data-fixture.js';

const GIB = 1024 ** 3;

describe('storage component', () => {
  let f: DataFixture;
  let st: ActorRef<StorageProtocolType>;
  let n = 0;
  const key = (): string => `k${++n}`;
  const rootOf = async (vm: string): Promise<string> => (await f.data.orchestration.vmVolumes(vm)).find((v) => v.type === 'ROOT')!.id;
  const fail = (p: Promise<unknown>): Promise<Error> => p.then(() => { throw new Error('expected a failure'); }, (e: Error) => e);

  beforeEach(async () => {
    f = await startDataFixture({ primaryStorageBytes: 6 * GIB });
    st = f.system.spawn(STORAGE_PATH, storageActor({ locator: f.locator }));
  });

  afterEach(async () => { await f.stop(); });

  it('creates ROOT volumes from the template, copying the template to the pool once', async () => {
    const [a, b] = [await rootOf(await f.createVm()), await rootOf(await f.createVm())];
    const va = await st.ask('prepareVolume', { key: key(), volumeid: a, clusterid: f.seed.clusterid });
    const vb = await st.ask('prepareVolume', { key: key(), volumeid: b, clusterid: f.seed.clusterid });
    expect(va).to.include({ state: 'Ready', storageid: f.seed.storagepoolid, format: 'VHD' });
    expect(vb.state).to.equal('Ready');
    expect(await f.data.orchestration.templateCopies(f.seed.templateid)).to.equal(1);
    // Prepared again: answered as it is, nothing reserved twice.
    await st.ask('prepareVolume', { key: key(), volumeid: a, clusterid: f.seed.clusterid });
    expect((await f.data.storage.getPool(f.seed.storagepoolid)).disksizeallocated).to.equal(4 * GIB);
  });

  it('refuses a pool without room (533) leaving the volume Allocated, and one out of reach (534)', async () => {
    // 6 GiB over-provisioned 2x = 12 GiB: six 2 GiB ROOT disks fit, the seventh does not.
    const roots = await Promise.all(Array.from({ length: 7 }, async () => rootOf(await f.createVm())));
    const results = await Promise.all(roots.map((volumeid) => st.ask('prepareVolume', { key: key(), volumeid }).then(() => 'ok', (e: Error) => e)));
    expect(results.filter((r) => r === 'ok')).to.have.length(6);
    const refused = results.find((r) => r !== 'ok') as Error;
    expect(refused).to.be.instanceOf(InsufficientCapacityError);
    const left = await f.data.volumes.get(SYSTEM, roots[results.indexOf(refused)]!);
    expect(left.state).to.equal('Allocated');
    expect(left.storageid).to.equal(undefined);
    const far = await fail(st.ask('prepareVolume', { key: key(), volumeid: roots[0]!, clusterid: '00000000-0000-4000-8000-000000000000' }));
    expect(far).to.be.instanceOf(ResourceUnavailableError);
  });

  it('resizes (a shrink needs shrinkok), snapshots, and destroys a volume idempotently', async () => {
    const root = await rootOf(await f.createVm());
    await st.ask('prepareVolume', { key: key(), volumeid: root });
    expect(await fail(st.ask('resizeVolume', { key: key(), volumeid: root, size: GIB, scope: SYSTEM }))).to.be.instanceOf(InvalidParameterError);
    expect(await st.ask('resizeVolume', { key: key(), volumeid: root, size: 3 * GIB, scope: SYSTEM })).to.include({ state: 'Ready', size: 3 * GIB });
    const snap = await f.data.snapshots.create(SYSTEM, { volumeid: root });
    const taken = await st.ask('createSnapshot', { key: key(), snapshotid: snap.id });
    expect(taken).to.include({ state: 'BackedUp', physicalsize: 3 * GIB });
    expect((await f.data.volumes.get(SYSTEM, root)).state).to.equal('Ready');
    await st.ask('deleteSnapshot', { key: key(), snapshotid: snap.id, scope: SYSTEM });
    await st.ask('destroyVolume', { key: key(), volumeid: root });
    await st.ask('destroyVolume', { key: key(), volumeid: root });
    expect((await f.data.storage.getPool(f.seed.storagepoolid)).disksizeallocated).to.equal(0);
  });

  it('refuses to delete an attached volume (in use) and deletes it once detached', async () => {
    const vm = await f.createVm();
    const vol = await f.data.volumes.create(SYSTEM, { name: 'd', zoneid: f.seed.zoneid, size: 1, accountid: f.seed.adminAccountId });
    await f.data.volumes.attach(SYSTEM, vol.id, vm);
    expect(await fail(st.ask('deleteVolume', { key: key(), volumeid: vol.id, scope: SYSTEM }))).to.be.instanceOf(ResourceInUseError);
    await f.data.volumes.detach(SYSTEM, vol.id);
    await st.ask('deleteVolume', { key: key(), volumeid: vol.id, scope: SYSTEM });
    expect((await f.data.volumes.list(SYSTEM, { id: vol.id })).count).to.equal(0);
  });
  it('takes and deletes a snapshot in stages around a host\'s file: BackedUp only after finish, Error on fail, BackedUp again when a removal fails', async () => {
    const root = await rootOf(await f.createVm());
    await st.ask('prepareVolume', { key: key(), volumeid: root });
    const snap = await f.data.snapshots.create(SYSTEM, { volumeid: root });
    expect(await fail(st.ask('createSnapshot', { key: key(), snapshotid: snap.id, stage: 'finish' }))).to.match(/only one being created/);
    expect(await st.ask('createSnapshot', { key: key(), snapshotid: snap.id, stage: 'begin' })).to.include({ state: 'Creating' });
    expect((await f.data.volumes.get(SYSTEM, root)).state).to.equal('Snapshotting');
    // begin again (a resent step) answers the same
    expect(await st.ask('createSnapshot', { key: key(), snapshotid: snap.id, stage: 'begin' })).to.include({ state: 'Creating' });
    expect(await st.ask('createSnapshot', { key: key(), snapshotid: snap.id, stage: 'finish', physicalsize: 12_345 }))
      .to.include({ state: 'BackedUp', physicalsize: 12_345 });
    expect((await f.data.volumes.get(SYSTEM, root)).state).to.equal('Ready');
    // A removal that fails on the host puts it back; one that succeeds removes it.
    await st.ask('deleteSnapshot', { key: key(), snapshotid: snap.id, scope: SYSTEM, stage: 'begin' });
    expect((await f.data.snapshots.get(SYSTEM, snap.id)).state).to.equal('Destroying');
    await st.ask('deleteSnapshot', { key: key(), snapshotid: snap.id, scope: SYSTEM, stage: 'fail' });
    expect((await f.data.snapshots.get(SYSTEM, snap.id)).state).to.equal('BackedUp');
    await st.ask('deleteSnapshot', { key: key(), snapshotid: snap.id, scope: SYSTEM, stage: 'begin' });
    await st.ask('deleteSnapshot', { key: key(), snapshotid: snap.id, scope: SYSTEM, stage: 'finish' });
    expect((await f.data.snapshots.list(SYSTEM, { id: snap.id })).count).to.equal(0);
    // A copy the host refused: Error, and the volume Ready again.
    const bad = await f.data.snapshots.create(SYSTEM, { volumeid: root });
    await st.ask('createSnapshot', { key: key(), snapshotid: bad.id, stage: 'begin' });
    expect(await st.ask('createSnapshot', { key: key(), snapshotid: bad.id, stage: 'fail' })).to.include({ state: 'Error' });
    expect((await f.data.volumes.get(SYSTEM, root)).state).to.equal('Ready');
  });

  it('makes a data volume from a BackedUp snapshot with the size it was taken at, and refuses one not BackedUp', async () => {
    const root = await rootOf(await f.createVm());
    await st.ask('prepareVolume', { key: key(), volumeid: root });
    const snap = await f.data.snapshots.create(SYSTEM, { volumeid: root });
    expect(await fail(f.data.volumes.create(SYSTEM, { name: 'x', zoneid: f.seed.zoneid, snapshotid: snap.id, accountid: f.seed.adminAccountId }))).to.match(/only a BackedUp snapshot/);
    await st.ask('createSnapshot', { key: key(), snapshotid: snap.id });
    const vol = await f.data.volumes.create(SYSTEM, { name: 'x', zoneid: f.seed.zoneid, snapshotid: snap.id, accountid: f.seed.adminAccountId });
    expect(vol).to.include({ type: 'DATADISK', state: 'Allocated', size: 2 * GIB, snapshotid: snap.id });
  });
});
