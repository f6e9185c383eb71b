import { expect } from 'chai';
import { DataStore, SYSTEM } from '../../../actors/data/store/index.js';
import { seedLab, type SeedResult } from '../../../actors/data/store/seed.js';
import { exited, lines, spawnFixture, tempDir } from './fixtures.js';

/** Contending processes per race. */
const CONTENDERS = 4;

interface Outcome {
  ok: [string, string][];
  no: [string, string][];
}

/** Runs one contender process per slice, releases them together, and gathers their lines. */
async function race(dataDir: string, mode: string, slices: string[][], accountId = ''): Promise<Outcome> {
  const children = slices.map((s) => spawnFixture('contender', [dataDir, mode, s.join(','), accountId]));
  const outcome: Outcome = { ok: [], no: [] };
  try {
    const ready = children.map((c) => new Promise<void>((resolve) => lines(c, (l) => {
      if (l === 'ready') resolve();
      const [kind, item, result] = l.split(' ');
      if (kind === 'ok') outcome.ok.push([item!, result!]);
      if (kind === 'no') outcome.no.push([item!, result!]);
    })));
    await Promise.all(ready);
    for (const c of children) c.stdin.write('go\n');
    const codes = await Promise.all(children.map((c) => exited(c)));
    expect(codes).to.deep.equal(children.map(() => 0));
    return outcome;
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  }
}

function split<T>(items: T[], n: number): T[][] {
  return Array.from({ length: n }, (_, i) => items.filter((_x, j) => j % n === i));
}

describe('data store: concurrent allocation from several processes', function () {
  this.timeout(60_000);
  let tmp: ReturnType<typeof tempDir>;
  let store: DataStore;
  let lab: SeedResult;
  let vmIds: string[];
  let nicIds: string[];

  before(() => {
    tmp = tempDir();
    store = DataStore.open({ dataDir: tmp.dir });
    // One host with room for 16 small VMs (8 GiB / 512 MiB), 30 public addresses, 40 VNIs.
    lab = seedLab(store, { hosts: 1, vlanStart: 100, vlanEnd: 139, publicStartIp: '172.16.0.10', publicEndIp: '172.16.0.39' });
    const admin = store.users.callerFor(lab.adminUserId);
    const guest = store.networks.create(admin, { name: 'small', zoneid: lab.zoneid, networkofferingid: lab.networkofferingid,
      gateway: '10.2.0.1', netmask: '255.255.255.192' });
    store.transaction(() => {
      vmIds = Array.from({ length: 100 }, (_, i) => store.vmOps.create(admin, { zoneid: lab.zoneid,
        serviceofferingid: lab.serviceofferings.small, templateid: lab.templateid, networkids: [guest.id], name: `c-${i}` }).id);
    });
    nicIds = vmIds.map((id) => store.vms.get(SYSTEM, id).nic[0]!.id);
  });
  after(() => { store.close(); tmp.remove(); });

  it('never reserves more host capacity than the host has', async () => {
    const host = lab.hostids[0]!;
    const res = await race(tmp.dir, `host:${host}`, split(vmIds, CONTENDERS));
    expect(res.ok).to.have.length(16);
    expect(res.no.map(([, code]) => code)).to.deep.equal(Array(vmIds.length - 16).fill('INSUFFICIENT_CAPACITY'));
    const h = store.hosts.get(host);
    expect(h.memoryallocated).to.equal(16 * 512 * 1024 * 1024);
    expect(h.memoryallocated).to.be.at.most(h.memorytotal);
    const held = store.ctx.one<{ n: number; mem: number }>('SELECT count(*) AS n, SUM(memory) AS mem FROM capacity_reservation');
    expect(held).to.deep.equal({ n: 16, mem: h.memoryallocated });
  });

  it('never hands out one public address twice', async () => {
    const tries = Array.from({ length: 60 }, () => lab.zoneid);
    const res = await race(tmp.dir, 'ip', split(tries, CONTENDERS), lab.adminAccountId);
    const addresses = res.ok.map(([, ip]) => ip);
    expect(addresses).to.have.length(30);
    expect(new Set(addresses).size).to.equal(30);
    expect(res.no.every(([, code]) => code === 'INSUFFICIENT_CAPACITY')).to.equal(true);
    expect(store.ipAddresses.list(SYSTEM, { state: 'Allocated' }).count).to.equal(30);
  });

  it('never gives two NICs the same guest address', async () => {
    const res = await race(tmp.dir, 'nic', split(nicIds, CONTENDERS));
    const addresses = res.ok.map(([, ip]) => ip);
    // 10.2.0.0/26: 62 usable addresses, one of them the gateway.
    expect(addresses).to.have.length(61);
    expect(new Set(addresses).size).to.equal(61);
    expect(addresses).to.not.include('10.2.0.1');
    expect(res.no).to.have.length(nicIds.length - 61);
  });

  it('never gives two networks the same VNI', async () => {
    const admin = store.users.callerFor(lab.adminUserId);
    const nets = Array.from({ length: 60 }, (_, i) => store.networks.create(admin, { name: `v-${i}`, zoneid: lab.zoneid,
      networkofferingid: lab.networkofferingid }).id);
    const res = await race(tmp.dir, 'vnet', split(nets, CONTENDERS));
    const vnis = res.ok.map(([, v]) => v);
    expect(vnis).to.have.length(40);
    expect(new Set(vnis).size).to.equal(40);
    expect(store.addresses.vnetUsage(lab.zoneid)).to.deep.equal({ total: 40, allocated: 40 });
  });
});
