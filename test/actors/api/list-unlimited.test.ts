/**
 * Issue 18: `pagesize=-1` answers every match (BaseListCmd's s_pageSizeUnlimited), streamed, in JSON
 * and XML, with the same rows and order as paging through the whole list; `pagesize=-1` with `page` is
 * refused exactly as CloudStack refuses it. Signed HTTP requests against a lab holding more than 500
 * VMs and hosts.
 */
import { expect } from 'chai';
import { createServer, request, type Server } from 'node:http';
import { SYSTEM } from '../../../actors/data/store/index.js';
import { writeStream } from '../../../actors/api/write-stream.js';
import type { Lab } from '../../../bin/lab.js';
import type { DataStore } from '../../../actors/data/store/index.js';
import { httpCall, signedQuery } from './fixtures.js';
import { LabClient, testLab } from './commands/lab-client.js';

const VMS = 620;
const EXTRA_HOSTS = 600;

/**
 * Creates the VMs and hosts straight in the lab's database (creating them through the API would take
 * minutes). The hosts have no agents: the default profile gives them 30 s before anyone looks.
 */
function populate(store: DataStore, seed: Lab['seed']): void {
    store.transaction(() => {
      for (let i = 0; i < VMS; i++) {
        store.vmOps.create(SYSTEM, { zoneid: seed.zoneid, serviceofferingid: seed.serviceofferings.small, templateid: seed.templateid,
          accountid: seed.adminAccountId, name: `many-${String(i).padStart(4, '0')}` });
      }
      for (let i = 0; i < EXTRA_HOSTS; i++) {
        store.hosts.create({ zoneid: seed.zoneid, podid: seed.podid, clusterid: seed.clusterid, name: `bulk-${String(i).padStart(4, '0')}`,
          hypervisor: 'Simulator', cpunumber: 4, cpuspeed: 2000, memory: 1024 ** 3, state: 'Up' });
      }
    });
}

describe('api: pagesize=-1 answers every match', function () {
  this.timeout(60_000);
  let lab: Lab;
  let admin: LabClient;

  before(async () => {
    lab = await testLab({ hosts: 2 });
    populate(lab.handles.store, lab.seed);
    admin = new LabClient(lab);
  });
  after(async () => { await lab.stop(); });

  const ids = (items: unknown): string[] => (items as { id: string }[]).map((x) => x.id);

  it('listVirtualMachines pagesize=-1 returns all of them, in the order of the pages, streamed', async () => {
    const all = await admin.call('listVirtualMachines', { listall: 'true', pagesize: '-1' });
    expect(all.status).to.equal(200);
    expect(all.raw.headers['transfer-encoding']).to.equal('chunked');
    expect(all.body['count']).to.equal(VMS);
    const page1 = await admin.ok('listVirtualMachines', { listall: 'true', page: '1', pagesize: '500' });
    const page2 = await admin.ok('listVirtualMachines', { listall: 'true', page: '2', pagesize: '500' });
    expect(ids(all.body['virtualmachine'])).to.deep.equal([...ids(page1['virtualmachine']), ...ids(page2['virtualmachine'])]);
    // The objects are the same as a page's, field for field.
    expect((all.body['virtualmachine'] as unknown[])[0]).to.deep.equal((page1['virtualmachine'] as unknown[])[0]);
  });

  it('answers the same in XML', async () => {
    const raw = await httpCall(admin.port, { path: `/client/api?${signedQuery({ command: 'listVirtualMachines', listall: 'true', pagesize: '-1' }, lab)}` });
    expect(raw.status).to.equal(200);
    expect(raw.body).to.match(/^<\?xml version="1.0" encoding="UTF-8"\?><listvirtualmachinesresponse cloud-stack-version="[^"]+"><count>620<\/count><virtualmachine>/);
    expect(raw.body.match(/<virtualmachine>/g)).to.have.length(VMS);
    expect(raw.body.endsWith('</virtualmachine></listvirtualmachinesresponse>')).to.equal(true);
  });

  it('listHosts pagesize=-1 returns all 602 hosts; without pagesize the first 500', async () => {
    const all = await admin.ok('listHosts', { pagesize: '-1' });
    expect(all['count']).to.equal(EXTRA_HOSTS + 2);
    expect(all['host']).to.have.length(EXTRA_HOSTS + 2);
    expect(new Set(ids(all['host'])).size).to.equal(EXTRA_HOSTS + 2);
    const unpaged = await admin.ok('listHosts');
    expect(unpaged['count']).to.equal(EXTRA_HOSTS + 2);
    expect(unpaged['host']).to.have.length(500);
  });

  it('an empty match is {} as any empty list', async () => {
    expect(await admin.ok('listVirtualMachines', { listall: 'true', pagesize: '-1', name: 'no-such-vm' })).to.deep.equal({});
  });

  it('pagesize=-1 with page is refused as BaseListCmd.getPageSize refuses it (431, InvalidParameterValueException)', async () => {
    for (const page of ['1', '2']) {
      const r = await admin.call('listVirtualMachines', { listall: 'true', pagesize: '-1', page });
      expect(r.status).to.equal(431);
      expect(r.body).to.include({ errorcode: 431, cserrorcode: 4350, errortext: "Can't specify page parameter when pagesize is -1 (Unlimited)" });
    }
    const over = await admin.call('listHosts', { pagesize: '501', page: '1' });
    expect(over.body).to.include({ errorcode: 431, cserrorcode: 4350, errortext: "Page size can't exceed max allowed page size value: 500" });
  });
});

describe('api: a streamed answer that fails half-way', () => {
  let server: Server;
  afterEach(() => new Promise<void>((r) => server.close(() => r())));

  it('cuts the connection: the client never gets a well-formed but incomplete answer', async () => {
    server = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const pieces = (async function* () {
        yield '{"listxresponse":{"count":3,"x":[{"id":1}';
        throw new Error('the data service went away');
      })();
      void writeStream(res, pieces, { stallTimeoutMs: 5_000 });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    const outcome = await new Promise<string>((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => { body += c.toString(); });
        res.on('end', () => resolve(`complete: ${body}`));
        res.on('error', () => resolve('cut'));
        res.on('aborted', () => resolve('cut'));
      });
      req.on('error', () => resolve('cut'));
      req.end();
    });
    expect(outcome).to.equal('cut');
  });
});
