/**
 * Zones, pods, clusters, hosts, primary and secondary storage, and capacity on a real lab: the seeded
 * simulator hosts are listed, a second zone is built end to end through the API, and mismatches and
 * unknown ids are 431.
 */
import { expect } from 'chai';
import type { Lab } from '../../../../bin/lab.js';
import { parseSimulatorUrl } from '../../../../actors/api/commands/hosts.js';
import { LabClient, testLab, userAccount } from './lab-client.js';

const NO_SUCH = '00000000-0000-4000-8000-000000000000';

describe('api/commands: infrastructure', function () {
  this.timeout(20_000);
  let lab: Lab;
  let admin: LabClient;

  before(async () => {
    lab = await testLab({ hosts: 3 });
    admin = new LabClient(lab);
  });

  after(async () => {
    await lab.stop();
  });

  it('lists the seeded zone, pod, cluster and simulator hosts', async () => {
    const zones = await admin.list('listZones', 'zone');
    expect(zones).to.have.length(1);
    expect(zones[0]).to.include({ id: lab.seed.zoneid, networktype: 'Advanced', allocationstate: 'Enabled' });
    expect(zones[0]!['tags']).to.deep.equal([]);
    expect((await admin.list('listPods', 'pod', { zoneid: lab.seed.zoneid })).map((p) => p['id'])).to.deep.equal([lab.seed.podid]);
    const clusters = await admin.list('listClusters', 'cluster', { podid: lab.seed.podid });
    expect(clusters[0]).to.include({ id: lab.seed.clusterid, hypervisortype: 'Simulator' });
    const hosts = await admin.list('listHosts', 'host', { clusterid: lab.seed.clusterid, type: 'Routing' });
    expect(hosts.map((h) => h['id'])).to.have.members(lab.seed.hostids);
    for (const h of hosts) expect(h).to.include({ state: 'Up', hypervisor: 'Simulator', resourcestate: 'Enabled', cpunumber: 4 });
    const one = await admin.list('listHosts', 'host', { id: lab.seed.hostids[1]! });
    expect(one).to.have.length(1);
    // CloudStack's parameter layer refuses an id that names nothing.
    expect(await admin.fails(431, 'listHosts', { id: NO_SUCH })).to.match(/Invalid parameter id value=/);
  });

  it('builds a zone through the API: zone, enable, pod, cluster, simulator host, storage', async () => {
    const zone = (await admin.ok('createZone', { name: 'zone-2', networktype: 'advanced', dns1: '8.8.8.8', internaldns1: '10.0.0.2',
      domain: 'z2.example' }))['zone'] as Record<string, unknown>;
    expect(zone).to.include({ name: 'zone-2', networktype: 'Advanced', allocationstate: 'Disabled', networkdomain: 'z2.example' });
    const zid = String(zone['id']);
    const enabled = (await admin.ok('updateZone', { id: zid, allocationstate: 'Enabled', dns2: '1.1.1.1' }))['zone'];
    expect(enabled).to.include({ allocationstate: 'Enabled', dns2: '1.1.1.1', dns1: '8.8.8.8' });
    const pod = (await admin.ok('createPod', { zoneid: zid, name: 'p1', gateway: '10.9.0.1', netmask: '255.255.255.0',
      startip: '10.9.0.10', endip: '10.9.0.20' }))['pod'] as Record<string, unknown>;
    const added = await admin.ok('addCluster', { zoneid: zid, podid: String(pod['id']), clustername: 'c1', hypervisor: 'simulator',
      clustertype: 'CloudManaged' });
    expect(added['count']).to.equal(1);
    const cluster = (added['cluster'] as Record<string, unknown>[])[0]!;
    expect(cluster).to.include({ name: 'c1', hypervisortype: 'Simulator', podid: pod['id'] });
    const host = await admin.ok('addHost', { zoneid: zid, podid: String(pod['id']), clusterid: String(cluster['id']), hypervisor: 'Simulator',
      url: 'http://sim/c1/h0/cpucore=8&cpuspeed=2000&memory=17179869184', username: 'root', password: 'x', hosttags: 'ssd,fast' });
    const h = (host['host'] as Record<string, unknown>[])[0]!;
    expect(h['name']).to.match(/^SimulatedAgent\.[0-9a-f-]{36}$/);
    expect(h).to.include({ cpunumber: 8, cpuspeed: 2000, memorytotal: 17179869184, ipaddress: '10.9.0.10', hosttags: 'ssd,fast',
      clusterid: cluster['id'], state: 'Connecting' });
    const pool = (await admin.ok('createStoragePool', { zoneid: zid, podid: String(pod['id']), clusterid: String(cluster['id']),
      name: 'ps1', url: 'nfs://10.9.0.5/export/ps1', scope: 'cluster', capacitybytes: '1099511627776' }))['storagepool'];
    expect(pool).to.include({ name: 'ps1', scope: 'CLUSTER', type: 'NetworkFilesystem', ipaddress: '10.9.0.5', path: '/export/ps1',
      disksizetotal: 1099511627776 });
    const store = (await admin.ok('addImageStore', { zoneid: zid, name: 'ss1', url: 'nfs://10.9.0.5/export/ss1', provider: 'nfs' }))['imagestore'];
    expect(store).to.include({ name: 'ss1', providername: 'NFS', protocol: 'nfs', zoneid: zid });
    expect((await admin.list('listStoragePools', 'storagepool', { zoneid: zid })).map((p) => p['name'])).to.deep.equal(['ps1']);
    expect((await admin.list('listImageStores', 'imagestore', { zoneid: zid })).map((s) => s['name'])).to.deep.equal(['ss1']);
    expect((await admin.list('listZones', 'zone', { keyword: 'zone-2' })).map((z) => z['id'])).to.deep.equal([zid]);
  });

  it('refuses mismatched placement, unknown ids and bad values with 431', async () => {
    const other = (await admin.ok('createZone', { name: 'zone-3', networktype: 'Basic', dns1: '8.8.8.8', internaldns1: '10.0.0.2' }))['zone'] as { id: string };
    expect(await admin.fails(431, 'addHost', { zoneid: other.id, podid: lab.seed.podid, clusterid: lab.seed.clusterid,
      hypervisor: 'Simulator', url: 'http://sim/c0/h9' })).to.match(/is not in zone/);
    expect(await admin.fails(431, 'addHost', { zoneid: lab.seed.zoneid, podid: lab.seed.podid, clusterid: lab.seed.clusterid,
      hypervisor: 'KVM', url: 'http://10.0.0.9' })).to.match(/only Simulator hosts/);
    await admin.fails(431, 'addHost', { zoneid: lab.seed.zoneid, podid: lab.seed.podid, clusterid: lab.seed.clusterid,
      hypervisor: 'Simulator', url: 'http://kvm-host/c0/h0' });
    await admin.fails(431, 'updateZone', { id: NO_SUCH, name: 'x' });
    await admin.fails(431, 'createPod', { zoneid: NO_SUCH, name: 'x' });
    await admin.fails(431, 'createZone', { name: 'bad', networktype: 'Fancy', dns1: '1', internaldns1: '2' });
    await admin.fails(431, 'addCluster', { zoneid: lab.seed.zoneid, podid: lab.seed.podid, clustername: 'c', hypervisor: 'Frobnitz',
      clustertype: 'CloudManaged' });
    await admin.fails(431, 'createStoragePool', { zoneid: lab.seed.zoneid, clusterid: lab.seed.clusterid, name: 'p', url: 'nfs://h/p' });
    await admin.fails(431, 'addImageStore', { name: 'x', url: 'nfs://h/p', provider: 'Tape' });
    expect(await admin.fails(431, 'listZones', { id: 'not-a-uuid' })).to.match(/invalid value/i);
  });

  it('shows enabled zones only to users and keeps the admin commands from them', async () => {
    const u = await userAccount(admin);
    const zones = await u.client.list('listZones', 'zone');
    expect(zones.every((z) => z['allocationstate'] === 'Enabled')).to.equal(true);
    expect(zones.map((z) => z['name'])).to.not.include('zone-3');
    for (const cmd of ['listHosts', 'listPods', 'listClusters', 'listStoragePools', 'listImageStores', 'listCapacity']) {
      await u.client.fails(401, cmd);
    }
  });

  it('reports capacity per zone and pages it', async () => {
    const caps = await admin.list('listCapacity', 'capacity', { zoneid: lab.seed.zoneid });
    const memory = caps.find((c) => c['type'] === 0)!;
    expect(memory['capacitytotal']).to.equal(3 * 8 * 1024 ** 3);
    const cpu = caps.find((c) => c['type'] === 1)!;
    expect(cpu['capacitytotal']).to.equal(3 * 4 * 8000);
    const page = await admin.ok('listCapacity', { zoneid: lab.seed.zoneid, page: '1', pagesize: '2' });
    expect(page['count']).to.equal(caps.length);
    expect(page['capacity']).to.have.length(2);
    expect((await admin.list('listCapacity', 'capacity', { zoneid: lab.seed.zoneid, type: '1' })).map((c) => c['type'])).to.deep.equal([1]);
  });

  it('parses simulator host URLs with CloudStack\'s defaults', () => {
    expect(parseSimulatorUrl('http://sim/c0/h0')).to.deep.equal({ cpuCores: 4, cpuSpeedMhz: 8000, memoryBytes: 8 * 1024 ** 3 });
    expect(parseSimulatorUrl('http://sim/c0/h1?cpucore=2&cpuspeed=1000')).to.include({ cpuCores: 2, cpuSpeedMhz: 1000 });
    expect(() => parseSimulatorUrl('http://sim/c0/h0/cpucore=-1')).to.throw(/cpucore/);
    expect(() => parseSimulatorUrl('nfs://sim/x')).to.throw(/not a simulator url/);
  });
});
