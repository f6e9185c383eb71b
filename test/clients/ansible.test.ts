/**
 * Ansible's ngine_io.cloudstack modules (Debian's `ansible` package, with python3-cs), unchanged,
 * against a lab this test starts: a playbook creates an instance group, an affinity group, an instance
 * with user data, tags and both groups, public addresses with port forwarding, firewall, static NAT and
 * a load balancer with a member, a snapshot policy, a VM snapshot, a project and an ISO registered from a
 * URL the test serves; it also releases an address. Everything is
 * asserted through the API afterwards. Without ansible-playbook the test fails (CI installs it:
 * .ci/install-ansible.sh).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { Lab } from '../../bin/lab.js';
import { silentLogger } from '../../src/logger.js';
import { startLab } from '../../bin/lab.js';
import { CsApi, type Json } from '../helpers/cs-api.js';
import { waitFor } from '../helpers/wait.js';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Longest the playbook may run, ms (each module polls its jobs; the whole play takes a few seconds here). */
const PLAYBOOK_TIMEOUT_MS = 240_000;

const USER_DATA = '#cloud-config\nruncmd:\n  - echo hello\n';

function playbook(lab: Lab, network: string, zone: string, isoUrl: string): string {
  return `
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - ngine_io.cloudstack.cs_instancegroup: { name: web-group }
    - ngine_io.cloudstack.cs_affinitygroup: { name: spread, affinity_type: host anti-affinity }
    - name: an instance with user data, tags and both groups
      ngine_io.cloudstack.cs_instance:
        name: web1
        template: ${lab.seed.templateid}
        service_offering: ${lab.seed.serviceofferings.small}
        zone: ${JSON.stringify(zone)}
        networks: [${network}]
        user_data: ${JSON.stringify(USER_DATA)}
        group: web-group
        affinity_groups: [spread]
        tags: [{ key: role, value: web }]
    - name: the same instance again changes nothing (reads its user data back)
      ngine_io.cloudstack.cs_instance:
        name: web1
        template: ${lab.seed.templateid}
        service_offering: ${lab.seed.serviceofferings.small}
        zone: ${JSON.stringify(zone)}
        networks: [${network}]
        user_data: ${JSON.stringify(USER_DATA)}
      register: again
    - assert: { that: [ "not again.changed" ] }
    - ngine_io.cloudstack.cs_instance:
        name: web2
        template: ${lab.seed.templateid}
        service_offering: ${lab.seed.serviceofferings.small}
        zone: ${JSON.stringify(zone)}
        networks: [${network}]
        affinity_groups: [spread]
    - ngine_io.cloudstack.cs_ip_address: { zone: ${JSON.stringify(zone)}, network: ${network}, tags: [{ key: purpose, value: forward }] }
      register: ip1
    - ngine_io.cloudstack.cs_portforward: { zone: ${JSON.stringify(zone)}, ip_address: "{{ ip1.ip_address }}", public_port: 2222, private_port: 22, vm: web1, network: ${network} }
    - ngine_io.cloudstack.cs_firewall: { zone: ${JSON.stringify(zone)}, ip_address: "{{ ip1.ip_address }}", port: 80, cidrs: [10.0.0.0/8] }
    - ngine_io.cloudstack.cs_firewall: { zone: ${JSON.stringify(zone)}, network: ${network}, type: egress, protocol: all, cidrs: [0.0.0.0/0] }
    - ngine_io.cloudstack.cs_ip_address: { zone: ${JSON.stringify(zone)}, network: ${network}, tags: [{ key: purpose, value: nat }] }
      register: ip2
    - ngine_io.cloudstack.cs_staticnat: { zone: ${JSON.stringify(zone)}, ip_address: "{{ ip2.ip_address }}", vm: web2, network: ${network} }
    - ngine_io.cloudstack.cs_ip_address: { zone: ${JSON.stringify(zone)}, network: ${network}, tags: [{ key: purpose, value: balance }] }
      register: ip3
    - ngine_io.cloudstack.cs_loadbalancer_rule: { zone: ${JSON.stringify(zone)}, name: balance, ip_address: "{{ ip3.ip_address }}", public_port: 80, private_port: 8080, algorithm: leastconn, network: ${network} }
    - ngine_io.cloudstack.cs_loadbalancer_rule_member: { zone: ${JSON.stringify(zone)}, name: balance, ip_address: "{{ ip3.ip_address }}", vms: [web1, web2] }
    - ngine_io.cloudstack.cs_snapshot_policy: { vm: web1, volume_type: ROOT, interval_type: daily, schedule: "00:01", max_snaps: 3, time_zone: UTC }
    - ngine_io.cloudstack.cs_ip_address: { zone: ${JSON.stringify(zone)}, network: ${network}, tags: [{ key: purpose, value: scratch }] }
      register: scratch
    - name: release an address (the module lists its tags first)
      ngine_io.cloudstack.cs_ip_address: { zone: ${JSON.stringify(zone)}, ip_address: "{{ scratch.ip_address }}", state: absent }
    - ngine_io.cloudstack.cs_vmsnapshot: { zone: ${JSON.stringify(zone)}, vm: web1, name: before-change, description: first }
    - ngine_io.cloudstack.cs_project: { name: ansible-prj, display_text: Ansible project }
    - ngine_io.cloudstack.cs_iso: { zone: ${JSON.stringify(zone)}, name: tools, url: ${JSON.stringify(isoUrl)}, bootable: false }
`;
}

function runPlaybook(dir: string, lab: Lab, zone: string): Promise<{ code: number; out: string }> {
  const env = { ...process.env, CLOUDSTACK_ENDPOINT: lab.endpoint, CLOUDSTACK_KEY: lab.apiKey, CLOUDSTACK_SECRET: lab.secretKey,
    CLOUDSTACK_TIMEOUT: '60', CLOUDSTACK_ZONE: zone, ANSIBLE_HOME: dir, ANSIBLE_LOCAL_TEMP: join(dir, 'tmp'), ANSIBLE_NOCOLOR: '1',
    ANSIBLE_PYTHON_INTERPRETER: '/usr/bin/python3', ANSIBLE_LOCALHOST_WARNING: 'false', ANSIBLE_INVENTORY_UNPARSED_WARNING: 'false' };
  return new Promise((resolve) => {
    execFile('ansible-playbook', ['-i', 'localhost,', join(dir, 'play.yml')], { env, timeout: PLAYBOOK_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, out: `${stdout}\n${stderr}` }));
  });
}

describe('clients: Ansible ngine_io.cloudstack playbook, unchanged', function () {
  this.timeout(PLAYBOOK_TIMEOUT_MS + 30_000);
  let lab: Lab;
  let api: CsApi;
  let dir: string;
  let server: Server;
  let base: string;

  before(async () => {
    server = createServer((req, res) => {
      if (req.url === '/tools.iso') res.writeHead(200, { 'content-length': '4096' }).end(Buffer.alloc(4096, 1));
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    lab = await startLab({ logger: silentLogger, hosts: 3 });
    api = new CsApi({ endpoint: lab.endpoint, apiKey: lab.apiKey, secretKey: lab.secretKey, pollMs: 5 });
    dir = mkdtempSync(join(tmpdir(), 'cloudstackd-ansible-'));
  });

  after(async () => {
    api.close();
    await lab.stop();
    rmSync(dir, { recursive: true, force: true });
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('runs the playbook and leaves every resource it declared', async () => {
    const net = (await api.call('createNetwork', { name: 'ansible-net', displaytext: 'ansible', zoneid: lab.seed.zoneid,
      networkofferingid: lab.seed.networkofferingid }))['network'] as Json;
    const zone = ((await api.call('listZones', { id: lab.seed.zoneid }))['zone'] as Json[])[0]!;
    writeFileSync(join(dir, 'play.yml'), playbook(lab, String(net['name']), String(zone['name']), `${base}/tools.iso`));
    const run = await runPlaybook(dir, lab, String(zone['name']));
    expect(run.code, run.out).to.equal(0);

    const vms = (await api.call('listVirtualMachines', { networkid: String(net['id']) }))['virtualmachine'] as Json[];
    const web1 = vms.find((v) => v['name'] === 'web1')!;
    const web2 = vms.find((v) => v['name'] === 'web2')!;
    expect(web1).to.include({ state: 'Running', group: 'web-group' });
    expect(web1['tags']).to.deep.include({ key: 'role', value: 'web', resourcetype: 'UserVm', resourceid: web1['id'], account: 'admin',
      domainid: lab.seed.domainid, domain: 'ROOT' });
    expect((web1['affinitygroup'] as Json[]).map((g) => g['name'])).to.deep.equal(['spread']);
    // Host anti-affinity: the two instances run on different hosts.
    expect(web1['hostid']).to.not.equal(web2['hostid']);
    const ud = (await api.call('getVirtualMachineUserData', { virtualmachineid: String(web1['id']) }))['virtualmachineuserdata'] as Json;
    expect(Buffer.from(String(ud['userdata']), 'base64').toString()).to.equal(USER_DATA);

    const ips = (await api.call('listPublicIpAddresses', { associatednetworkid: String(net['id']), issourcenat: false }))['publicipaddress'] as Json[];
    const tagged = (purpose: string): Json => ips.find((i) => (i['tags'] as Json[]).some((t) => t['value'] === purpose))!;
    expect(ips.map((i) => (i['tags'] as Json[])[0]?.['value'])).to.have.members(['forward', 'nat', 'balance']);
    const pf = (await api.call('listPortForwardingRules', { ipaddressid: String(tagged('forward')['id']) }))['portforwardingrule'] as Json[];
    expect(pf).to.have.length(1);
    expect(pf[0]).to.include({ publicport: '2222', privateport: '22', virtualmachineid: web1['id'], state: 'Active' });
    const fw = (await api.call('listFirewallRules', { ipaddressid: String(tagged('forward')['id']) }))['firewallrule'] as Json[];
    // cs_portforward's open_firewall defaults to false: only the explicit firewall rule is there.
    expect(fw.map((r) => `${String(r['startport'])}:${String(r['cidrlist'])}`)).to.deep.equal(['80:10.0.0.0/8']);
    expect(((await api.call('listEgressFirewallRules', { networkid: String(net['id']) }))['firewallrule'] as Json[])[0]).to.include({ protocol: 'all' });
    expect(tagged('nat')).to.include({ isstaticnat: true, virtualmachineid: web2['id'] });
    const lb = ((await api.call('listLoadBalancerRules', { publicipid: String(tagged('balance')['id']) }))['loadbalancerrule'] as Json[])[0]!;
    expect(lb).to.include({ name: 'balance', algorithm: 'leastconn', publicport: '80', privateport: '8080' });
    const members = (await api.call('listLoadBalancerRuleInstances', { id: String(lb['id']) }))['loadbalancerruleinstance'] as Json[];
    expect(members.map((m) => m['name'])).to.have.members(['web1', 'web2']);
    const root = ((await api.call('listVolumes', { virtualmachineid: String(web1['id']), type: 'ROOT' }))['volume'] as Json[])[0]!;
    const policies = (await api.call('listSnapshotPolicies', { volumeid: String(root['id']) }))['snapshotpolicy'] as Json[];
    expect(policies).to.have.length(1);
    expect(policies[0]).to.include({ intervaltype: 1, schedule: '00:01', maxsnaps: 3, timezone: 'UTC' });
    expect((await api.call('listInstanceGroups', { name: 'web-group' }))['count']).to.equal(1);
    // The scratch address was released: only the three kept addresses are allocated.
    expect(ips).to.have.length(3);
    const snaps = (await api.call('listVMSnapshot', { virtualmachineid: String(web1['id']) }))['vmSnapshot'] as Json[];
    expect(snaps.map((x) => `${String(x['name'])}:${String(x['state'])}`)).to.deep.equal(['before-change:Ready']);
    expect(((await api.call('listProjects', { name: 'ansible-prj' }))['project'] as Json[])[0]).to.include({ displaytext: 'Ansible project', state: 'Active' });
    const iso = ((await api.call('listIsos', { name: 'tools', isofilter: 'self' }))['iso'] as Json[])[0]!;
    expect(iso).to.include({ format: 'ISO', bootable: false });
    await waitFor(async () => ((await api.call('listIsos', { id: String(iso['id']), isofilter: 'self' }))['iso'] as Json[])[0]?.['isready'] === true,
      20_000, 'the ISO to be downloaded');
  });
});
