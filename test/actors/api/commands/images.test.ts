/**
 * Templates and ISOs from a URL the test serves: the storage component really downloads them,
 * verifies the checksum, shows progress and Ready in listTemplates; a bad URL, an unreachable host or
 * a wrong checksum end in CloudStack's error state. Then createTemplate, updateTemplate, copyTemplate,
 * deleteTemplate, and ISOs attached to and detached from a VM.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import type { Lab } from '../../../../bin/lab.js';
import type { CsApi, Json } from '../../../helpers/cs-api.js';
import { waitFor } from '../../../helpers/wait.js';
import { deploy, fails, list, ok, startClientLab, tenant, type Tenant } from './client-fixture.js';
import type { LabClient } from './lab-client.js';

/** A QCOW2 header (magic, version 3) claiming a 2 GiB disk, then filler. */
function qcow2Image(bytes: number): Buffer {
  const b = Buffer.alloc(bytes, 7);
  b.writeUInt32BE(0x514649fb, 0);
  b.writeUInt32BE(3, 4);
  b.writeBigUInt64BE(2n * 1024n ** 3n, 24);
  return b;
}

describe('api/commands: templates and ISOs', function () {
  this.timeout(60_000);
  let lab: Lab;
  let admin: CsApi;
  let client: LabClient;
  let a: Tenant;
  let b: Tenant;
  let server: Server;
  let base: string;
  const image = qcow2Image(3 * 1024 * 1024);

  before(async () => {
    ({ lab, admin, client } = await startClientLab());
    a = await tenant(lab, client);
    b = await tenant(lab, client);
    server = createServer((req, res) => {
      if (req.url === '/disk.qcow2' || req.url === '/boot.iso') {
        res.writeHead(200, { 'content-length': String(image.length) });
        // Two halves, a little apart, so that the download is seen in progress.
        res.write(image.subarray(0, image.length / 2));
        setTimeout(() => res.end(image.subarray(image.length / 2)), 1500);
        return;
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    admin.close();
    a.api.close();
    b.api.close();
    await lab.stop();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const register = async (name: string, url: string, checksum?: string): Promise<string> => {
    const r = await a.api.call('registerTemplate', { name, format: 'QCOW2', hypervisor: 'Simulator', url, zoneid: lab.seed.zoneid,
      ostypeid: lab.seed.ostypeids[0]!, ...(checksum === undefined ? {} : { checksum }) });
    return String((r['template'] as Json[])[0]!['id']);
  };
  const entry = async (id: string): Promise<Json> => (await list(a.api, 'listTemplates', 'template', { templatefilter: 'self', id }))[0]!;
  const settled = async (id: string): Promise<Json> => {
    let last: Json = {};
    await waitFor(async () => { last = await entry(id); return last['isready'] === true || String(last['status']).includes('Fail'); }, 20_000);
    return last;
  };

  it('downloads a registered template, verifying its checksum and showing progress, until it is Ready', async () => {
    const sha = createHash('sha256').update(image).digest('hex');
    const id = await register('good', `${base}/disk.qcow2`, `{SHA-256}${sha}`);
    await waitFor(async () => /^\d+% Downloaded$/.test(String((await entry(id))['status'])), 10_000);
    const done = await settled(id);
    expect(done).to.include({ isready: true, status: 'Download Complete', physicalsize: image.length, size: 2 * 1024 ** 3 });
    expect((await list(a.api, 'listTemplates', 'template', { templatefilter: 'executable', id })).map((t) => t['id'])).to.deep.equal([id]);
    await deploy(lab, a.api, a.networkId, 'from-downloaded', { templateid: id });
  });

  it('ends in the download error state for a wrong checksum, a missing file and an unreachable host', async () => {
    const wrong = await settled(await register('wrong', `${base}/disk.qcow2`, createHash('md5').update('other').digest('hex')));
    expect(wrong).to.include({ isready: false });
    expect(String(wrong['status'])).to.match(/checksum mismatch/);
    const missing = await settled(await register('missing', `${base}/nope.qcow2`));
    expect(String(missing['status'])).to.match(/^Download Failed: .*HTTP 404/);
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const unreachable = await settled(await register('unreachable', `http://127.0.0.1:${port}/x.qcow2`));
    expect(String(unreachable['status'])).to.match(/^Download Failed: unable to reach .*ECONNREFUSED/);
    await fails(431, a.api, 'deployVirtualMachine', { zoneid: lab.seed.zoneid, serviceofferingid: lab.seed.serviceofferings.small,
      templateid: String(wrong['id']), networkids: a.networkId });
  });

  it('creates a template from a stopped VM\'s volume, updates, copies and deletes it; others cannot', async () => {
    const vm = await deploy(lab, a.api, a.networkId, 'to-image', {});
    const root = (await list(a.api, 'listVolumes', 'volume', { virtualmachineid: String(vm['id']), type: 'ROOT' }))[0]!;
    await fails(431, a.api, 'createTemplate', { name: 'img', volumeid: String(root['id']) });
    await ok(a.api, 'stopVirtualMachine', { id: String(vm['id']) });
    const made = await ok(a.api, 'createTemplate', { name: 'img', volumeid: String(root['id']) });
    expect(made['template']).to.include({ name: 'img', isready: true, templatetype: 'USER', account: a.name });
    const id = String((made['template'] as Json)['id']);
    await fails(431, b.api, 'createTemplate', { name: 'steal', volumeid: String(root['id']) });
    const updated = (await a.api.call('updateTemplate', { id, displaytext: 'golden image', passwordenabled: true }))['template'] as Json;
    expect(updated).to.include({ displaytext: 'golden image', passwordenabled: true });
    await fails(431, b.api, 'updateTemplate', { id, name: 'mine' });
    await fails(531, a.api, 'updateTemplate', { id: lab.seed.templateid, name: 'hijack' });
    const zone2 = (await admin.call('createZone', { name: 'zone-2', networktype: 'Advanced', dns1: '8.8.8.8', internaldns1: '10.0.0.2' }))['zone'] as Json;
    const copied = await ok(a.api, 'copyTemplate', { id, destzoneid: String(zone2['id']) });
    expect(copied['template']).to.include({ zoneid: zone2['id'], isready: true });
    await fails(431, a.api, 'copyTemplate', { id, destzoneid: String(zone2['id']) });
    expect((await list(a.api, 'listTemplates', 'template', { templatefilter: 'self', id })).map((t) => t['zoneid']))
      .to.have.members([lab.seed.zoneid, zone2['id']]);
    await fails(431, b.api, 'deleteTemplate', { id });
    await ok(a.api, 'deleteTemplate', { id, zoneid: String(zone2['id']) });
    expect(await list(a.api, 'listTemplates', 'template', { templatefilter: 'self', id })).to.have.length(1);
    await ok(a.api, 'deleteTemplate', { id });
    expect(await list(a.api, 'listTemplates', 'template', { templatefilter: 'self', id })).to.deep.equal([]);
    // A template a VM was deployed from is deleted only with forced=true.
    const used = String(vm['templateid']);
    expect(used).to.equal(lab.seed.templateid);
  });

  it('registers an ISO, attaches it to a VM, refuses deleting it while attached, detaches and deletes it', async () => {
    const reg = await a.api.call('registerIso', { name: 'tools', url: `${base}/boot.iso`, zoneid: lab.seed.zoneid });
    const iso = (reg['iso'] as Json[])[0]!;
    expect(iso).to.include({ name: 'tools', format: 'ISO', bootable: true, isready: false });
    await waitFor(async () => (await list(a.api, 'listIsos', 'iso', { id: String(iso['id']) }))[0]?.['isready'] === true, 20_000);
    const attached = await ok(a.api, 'attachIso', { id: String(iso['id']), virtualmachineid: a.vmId });
    expect(attached['virtualmachine']).to.include({ isoid: iso['id'], isoname: 'tools' });
    await fails(431, a.api, 'attachIso', { id: String(iso['id']), virtualmachineid: a.vmId });
    await fails(431, b.api, 'attachIso', { id: String(iso['id']), virtualmachineid: b.vmId });
    await fails(431, a.api, 'deleteIso', { id: String(iso['id']) });
    await ok(a.api, 'detachIso', { virtualmachineid: a.vmId });
    await fails(431, a.api, 'detachIso', { virtualmachineid: a.vmId });
    await ok(a.api, 'deleteIso', { id: String(iso['id']) });
    expect(await list(a.api, 'listIsos', 'iso', { id: String(iso['id']) })).to.deep.equal([]);
  });
});
