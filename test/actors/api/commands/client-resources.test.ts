/**
 * Tags, user data, VM updates, instance groups, affinity groups (honoured by the planner) and
 * snapshot policies on a real lab: success, error codes, another account's resources, pagination.
 */
import { expect } from 'chai';
import type { Lab } from '../../../../bin/lab.js';
import type { CsApi, Json } from '../../../helpers/cs-api.js';
import { deploy, fails, list, ok, startClientLab, tenant, type Tenant } from './client-fixture.js';
import type { LabClient } from './lab-client.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

describe('api/commands: tags, user data, groups, snapshot policies', function () {
  this.timeout(60_000);
  let lab: Lab;
  let admin: CsApi;
  let client: LabClient;
  let a: Tenant;
  let b: Tenant;

  before(async () => {
    ({ lab, admin, client } = await startClientLab());
    a = await tenant(lab, client);
    b = await tenant(lab, client);
  });

  after(async () => {
    admin.close();
    a.api.close();
    b.api.close();
    await lab.stop();
  });

  it('tags resources of any case-insensitive type, shows them on the resource, and scopes them', async () => {
    await ok(a.api, 'createTags', { resourcetype: 'uservm', resourceids: a.vmId, 'tags[0].key': 'env', 'tags[0].value': 'prod',
      'tags[1].key': 'team', 'tags[1].value': 'web' });
    const vm = (await list(a.api, 'listVirtualMachines', 'virtualmachine', { id: a.vmId }))[0]!;
    expect((vm['tags'] as Json[]).map((t) => `${String(t['key'])}=${String(t['value'])}`)).to.deep.equal(['env=prod', 'team=web']);
    const tags = await a.api.call('listTags', { resourcetype: 'UserVm', page: 1, pagesize: 1 });
    expect(tags['count']).to.equal(2);
    expect(tags['tag']).to.have.length(1);
    expect(await list(b.api, 'listTags', 'tag', { listall: true })).to.deep.equal([]);
    await fails(431, b.api, 'createTags', { resourcetype: 'UserVm', resourceids: a.vmId, 'tags[0].key': 'x', 'tags[0].value': 'y' });
    await fails(431, a.api, 'createTags', { resourcetype: 'Spaceship', resourceids: a.vmId, 'tags[0].key': 'x', 'tags[0].value': 'y' });
    await fails(531, a.api, 'createTags', { resourcetype: 'Zone', resourceids: lab.seed.zoneid, 'tags[0].key': 'x', 'tags[0].value': 'y' });
    await ok(admin, 'createTags', { resourcetype: 'Zone', resourceids: lab.seed.zoneid, 'tags[0].key': 'x', 'tags[0].value': 'y' });
    await ok(a.api, 'deleteTags', { resourcetype: 'UserVm', resourceids: a.vmId, 'tags[0].key': 'env' });
    expect((await list(a.api, 'listTags', 'tag', { resourceid: a.vmId })).map((t) => t['key'])).to.deep.equal(['team']);
  });

  it('registers user data, deploys and updates with it, and reads a VM\'s user data back', async () => {
    const ud = (await a.api.call('registerUserData', { name: 'boot', userdata: b64('#!/bin/sh\necho hi\n'), params: 'x' }))['userdata'] as Json;
    expect(ud).to.include({ name: 'boot', userdata: b64('#!/bin/sh\necho hi\n'), params: 'x', account: a.name });
    await fails(431, a.api, 'registerUserData', { name: 'boot', userdata: b64('again') });
    await fails(431, a.api, 'registerUserData', { name: 'bad', userdata: 'not base64!' });
    expect(await list(b.api, 'listUserData', 'userdata', { listall: true })).to.deep.equal([]);
    const vm = await deploy(lab, a.api, a.networkId, 'with-ud', { userdataid: String(ud['id']) });
    expect(vm).to.include({ userdataid: ud['id'], userdataname: 'boot' });
    const read = (await a.api.call('getVirtualMachineUserData', { virtualmachineid: String(vm['id']) }))['virtualmachineuserdata'] as Json;
    expect(read).to.include({ virtualmachineid: vm['id'], userdata: ud['userdata'], userdataid: ud['id'] });
    await fails(431, b.api, 'getVirtualMachineUserData', { virtualmachineid: String(vm['id']) });
    await fails(536, a.api, 'deleteUserData', { id: String(ud['id']) });
    const updated = (await a.api.call('updateVirtualMachine', { id: String(vm['id']), userdata: b64('new'), displayname: 'With UD',
      haenable: true }))['virtualmachine'] as Json;
    expect(updated).to.include({ displayname: 'With UD', haenable: true });
    expect(updated['userdataid']).to.equal(undefined);
    expect(((await a.api.call('getVirtualMachineUserData', { virtualmachineid: String(vm['id']) }))['virtualmachineuserdata'] as Json)['userdata'])
      .to.equal(b64('new'));
    await fails(431, a.api, 'updateVirtualMachine', { id: String(vm['id']), name: 'renamed' });
    await a.api.call('deleteUserData', { id: String(ud['id']) });
    expect(await list(a.api, 'listUserData', 'userdata')).to.deep.equal([]);
  });

  it('changes the offering of a stopped VM only', async () => {
    await fails(431, a.api, 'changeServiceForVirtualMachine', { id: a.vmId, serviceofferingid: lab.seed.serviceofferings.medium });
    const vm = await deploy(lab, a.api, a.networkId, 'resize-me', { startvm: 'false' });
    const changed = (await a.api.call('changeServiceForVirtualMachine', { id: String(vm['id']),
      serviceofferingid: lab.seed.serviceofferings.medium }))['virtualmachine'] as Json;
    expect(changed).to.include({ serviceofferingid: lab.seed.serviceofferings.medium });
    await fails(431, b.api, 'changeServiceForVirtualMachine', { id: String(vm['id']), serviceofferingid: lab.seed.serviceofferings.small });
  });

  it('keeps instance groups per account; deploy with a new group creates it; renaming moves its VMs', async () => {
    const g = (await a.api.call('createInstanceGroup', { name: 'g1' }))['instancegroup'] as Json;
    await fails(431, a.api, 'createInstanceGroup', { name: 'g1' });
    await b.api.call('createInstanceGroup', { name: 'g1' });
    const vm = await deploy(lab, a.api, a.networkId, 'grouped', { group: 'g2', startvm: 'false' });
    expect(vm['group']).to.equal('g2');
    const groups = await a.api.call('listInstanceGroups', { page: 1, pagesize: 1 });
    expect(groups['count']).to.equal(2);
    expect(vm['groupid']).to.be.a('string');
    const renamed = (await a.api.call('updateInstanceGroup', { id: String(vm['groupid']), name: 'g3' }))['instancegroup'] as Json;
    expect(renamed['name']).to.equal('g3');
    expect((await list(a.api, 'listVirtualMachines', 'virtualmachine', { id: String(vm['id']) }))[0]!['group']).to.equal('g3');
    await fails(431, b.api, 'deleteInstanceGroup', { id: String(g['id']) });
    await a.api.call('deleteInstanceGroup', { id: String(vm['groupid']) });
    expect((await list(a.api, 'listVirtualMachines', 'virtualmachine', { id: String(vm['id']) }))[0]!['group']).to.equal(undefined);
  });

  it('places host anti-affinity groups on different hosts and host affinity groups on one host', async () => {
    expect((await list(a.api, 'listAffinityGroupTypes', 'affinityGroupType')).map((t) => t['type'])).to.have.members(['host anti-affinity', 'host affinity']);
    const anti = (await ok(a.api, 'createAffinityGroup', { name: 'anti', type: 'host anti-affinity' }))['affinitygroup'] as Json;
    await ok(a.api, 'createAffinityGroup', { name: 'together', type: 'host affinity' });
    await fails(431, a.api, 'createAffinityGroup', { name: 'x', type: 'rack affinity' });
    await fails(431, a.api, 'createAffinityGroup', { name: 'anti', type: 'host affinity' });
    const spread = [];
    for (let i = 0; i < 3; i++) spread.push(await deploy(lab, a.api, a.networkId, `anti-${i}`, { affinitygroupids: String(anti['id']) }));
    expect(new Set(spread.map((v) => v['hostid'])).size).to.equal(3);
    // Three hosts, three members: a fourth has nowhere to go (533).
    const fourth = await a.api.job('deployVirtualMachine', { zoneid: lab.seed.zoneid, serviceofferingid: lab.seed.serviceofferings.small,
      templateid: lab.seed.templateid, networkids: a.networkId, affinitygroupnames: 'anti' });
    expect(fourth.jobstatus).to.equal(2);
    const together = [];
    for (let i = 0; i < 3; i++) together.push(await deploy(lab, a.api, a.networkId, `tog-${i}`, { affinitygroupnames: 'together' }));
    expect(new Set(together.map((v) => v['hostid'])).size).to.equal(1);
    const groups = await list(a.api, 'listAffinityGroups', 'affinitygroup', { name: 'anti' });
    expect(groups[0]!['virtualmachineIds']).to.have.length(4);
    await fails(431, b.api, 'deleteAffinityGroup', { id: String(anti['id']) });
    await fails(431, a.api, 'updateVMAffinityGroup', { id: String(together[0]!['id']), affinitygroupids: String(anti['id']) });
    await ok(a.api, 'deleteAffinityGroup', { name: 'anti' });
    expect(await list(a.api, 'listAffinityGroups', 'affinitygroup', { name: 'anti' })).to.deep.equal([]);
  });

  it('keeps one snapshot policy per volume and interval, updating it on create', async () => {
    const root = (await list(a.api, 'listVolumes', 'volume', { virtualmachineid: a.vmId, type: 'ROOT' }))[0]!;
    const p = (await a.api.call('createSnapshotPolicy', { volumeid: String(root['id']), intervaltype: 'daily', schedule: '30:02', maxsnaps: 3,
      timezone: 'UTC' }))['snapshotpolicy'] as Json;
    expect(p).to.include({ volumeid: root['id'], intervaltype: 1, schedule: '30:02', maxsnaps: 3, timezone: 'UTC' });
    const again = (await a.api.call('createSnapshotPolicy', { volumeid: String(root['id']), intervaltype: 'DAILY', schedule: '00:03', maxsnaps: 5,
      timezone: 'Europe/Zurich' }))['snapshotpolicy'] as Json;
    expect(again).to.include({ id: p['id'], schedule: '00:03', maxsnaps: 5 });
    await a.api.call('createSnapshotPolicy', { volumeid: String(root['id']), intervaltype: 'hourly', schedule: '15', maxsnaps: 2, timezone: 'UTC' });
    await fails(431, a.api, 'createSnapshotPolicy', { volumeid: String(root['id']), intervaltype: 'weekly', schedule: '00:03:09', maxsnaps: 2, timezone: 'UTC' });
    await fails(431, a.api, 'createSnapshotPolicy', { volumeid: String(root['id']), intervaltype: 'daily', schedule: '00:03', maxsnaps: 2, timezone: 'Mars/Base' });
    await fails(431, b.api, 'createSnapshotPolicy', { volumeid: String(root['id']), intervaltype: 'daily', schedule: '00:03', maxsnaps: 2, timezone: 'UTC' });
    const page = await a.api.call('listSnapshotPolicies', { volumeid: String(root['id']), page: 1, pagesize: 1 });
    expect(page['count']).to.equal(2);
    expect(await list(b.api, 'listSnapshotPolicies', 'snapshotpolicy', { listall: true })).to.deep.equal([]);
    await ok(a.api, 'createTags', { resourcetype: 'snapshotpolicy', resourceids: String(p['id']), 'tags[0].key': 'tier', 'tags[0].value': 'gold' });
    const tag = ((await list(a.api, 'listSnapshotPolicies', 'snapshotpolicy', { id: String(p['id']) }))[0]!['tags'] as Json[])[0];
    expect(tag).to.include({ key: 'tier', value: 'gold', resourcetype: 'SnapshotPolicy', resourceid: p['id'], account: a.name });
    await fails(431, b.api, 'deleteSnapshotPolicies', { id: String(p['id']) });
    await a.api.call('deleteSnapshotPolicies', { id: String(p['id']) });
    expect(await list(a.api, 'listSnapshotPolicies', 'snapshotpolicy', { volumeid: String(root['id']) })).to.have.length(1);
  });

  it('takes VM snapshots as a tree, reverts a stopped VM to one, and deletes them', async () => {
    const vm = await deploy(lab, a.api, a.networkId, 'snappy');
    const id = String(vm['id']);
    const s1 = (await ok(a.api, 'createVMSnapshot', { virtualmachineid: id, name: 'base', description: 'clean' }))['vmsnapshot'] as Json;
    expect(s1).to.include({ name: 'base', state: 'Ready', type: 'Disk', current: true, virtualmachineid: id });
    const s2 = (await ok(a.api, 'createVMSnapshot', { virtualmachineid: id, name: 'mem', snapshotmemory: true }))['vmsnapshot'] as Json;
    expect(s2).to.include({ type: 'DiskAndMemory', current: true, parent: s1['id'], parentName: 'base' });
    await fails(431, a.api, 'createVMSnapshot', { virtualmachineid: id, name: 'base' });
    await fails(431, b.api, 'createVMSnapshot', { virtualmachineid: id });
    const page = await a.api.call('listVMSnapshot', { virtualmachineid: id, page: 2, pagesize: 1 });
    expect(page['count']).to.equal(2);
    expect((page['vmSnapshot'] as Json[])[0]!['name']).to.equal('mem');
    expect(await list(b.api, 'listVMSnapshot', 'vmSnapshot', { listall: true })).to.deep.equal([]);
    // A disk-only snapshot reverts a stopped VM only.
    await fails(431, a.api, 'revertToVMSnapshot', { vmsnapshotid: String(s1['id']) });
    await ok(a.api, 'stopVirtualMachine', { id });
    await fails(431, a.api, 'createVMSnapshot', { virtualmachineid: id, snapshotmemory: true });
    const reverted = await ok(a.api, 'revertToVMSnapshot', { vmsnapshotid: String(s1['id']) });
    expect(reverted['virtualmachine']).to.include({ id, state: 'Stopped' });
    expect((await list(a.api, 'listVMSnapshot', 'vmSnapshot', { vmsnapshotid: String(s1['id']) }))[0]).to.include({ current: true });
    await fails(431, b.api, 'deleteVMSnapshot', { vmsnapshotid: String(s1['id']) });
    await ok(a.api, 'deleteVMSnapshot', { vmsnapshotid: String(s1['id']) });
    const left = await list(a.api, 'listVMSnapshot', 'vmSnapshot', { virtualmachineid: id });
    expect(left.map((x) => x['name'])).to.deep.equal(['mem']);
    expect(left[0]!['parent']).to.equal(undefined);
  });

  it('gives a project its own resources, seen by its members only', async () => {
    const project = (await ok(a.api, 'createProject', { name: 'blue', displaytext: 'Blue team' }))['project'] as Json;
    expect(project).to.include({ name: 'blue', displaytext: 'Blue team', state: 'Active', account: a.name });
    const pid = String(project['id']);
    await fails(431, b.api, 'createNetwork', { name: 'x', displaytext: 'x', zoneid: lab.seed.zoneid, networkofferingid: lab.seed.networkofferingid, projectid: pid });
    const net = (await a.api.call('createNetwork', { name: 'blue-net', displaytext: 'blue', zoneid: lab.seed.zoneid,
      networkofferingid: lab.seed.networkofferingid, projectid: pid }))['network'] as Json;
    const vm = await deploy(lab, a.api, String(net['id']), 'blue-vm', { projectid: pid });
    // Project resources are listed with projectid, not among the member's own.
    expect((await list(a.api, 'listVirtualMachines', 'virtualmachine', { projectid: pid })).map((v) => v['id'])).to.deep.equal([vm['id']]);
    expect((await list(a.api, 'listVirtualMachines', 'virtualmachine')).map((v) => v['id'])).to.not.include(vm['id']);
    expect(await list(b.api, 'listProjects', 'project')).to.deep.equal([]);
    await fails(431, b.api, 'listVirtualMachines', { projectid: pid });
    await fails(431, b.api, 'stopVirtualMachine', { id: String(vm['id']) });
    await ok(a.api, 'addAccountToProject', { projectid: pid, account: b.name });
    expect((await list(a.api, 'listProjectAccounts', 'projectaccount', { projectid: pid })).map((m) => `${String(m['account'])}:${String(m['role'])}`))
      .to.deep.equal([`${a.name}:Admin`, `${b.name}:Regular`]);
    expect((await list(b.api, 'listProjects', 'project')).map((p) => p['id'])).to.deep.equal([pid]);
    expect((await list(b.api, 'listVirtualMachines', 'virtualmachine', { projectid: pid })).map((v) => v['id'])).to.deep.equal([vm['id']]);
    await ok(b.api, 'stopVirtualMachine', { id: String(vm['id']) });
    await fails(531, b.api, 'deleteProject', { id: pid });
    await fails(536, a.api, 'deleteProject', { id: pid });
    await ok(a.api, 'suspendProject', { id: pid });
    await fails(531, a.api, 'deployVirtualMachine', { zoneid: lab.seed.zoneid, serviceofferingid: lab.seed.serviceofferings.small,
      templateid: lab.seed.templateid, networkids: String(net['id']), projectid: pid });
    await ok(a.api, 'activateProject', { id: pid });
    await ok(a.api, 'deleteAccountFromProject', { projectid: pid, account: b.name });
    await fails(431, b.api, 'listVirtualMachines', { projectid: pid });
    await ok(a.api, 'destroyVirtualMachine', { id: String(vm['id']), expunge: true });
    await ok(a.api, 'deleteNetwork', { id: String(net['id']) });
    await ok(a.api, 'deleteProject', { id: pid });
    expect(await list(a.api, 'listProjects', 'project')).to.deep.equal([]);
  });
});
