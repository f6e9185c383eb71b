/**
 * The invariant queries themselves: quiet on a consistent lab, and each one reports the inconsistency
 * it is meant to catch when the database is corrupted behind the components' back.
 */
import { expect } from 'chai';
import { apiInvariantViolations, storeInvariantViolations } from '../helpers/invariants.js';
import { startTestLab, type TestLab } from './lab-fixture.js';

describe('lifecycle: invariant queries', function () {
  this.timeout(20_000);
  let t: TestLab;
  let vmid: string;

  before(async () => {
    t = await startTestLab({ hosts: 2 });
    const net = await t.api.call<{ network: { id: string } }>('createNetwork', { name: 'n', displaytext: 'n', zoneid: t.lab.seed.zoneid,
      networkofferingid: t.lab.seed.networkofferingid });
    const job = await t.api.job('deployVirtualMachine', { zoneid: t.lab.seed.zoneid, serviceofferingid: t.lab.seed.serviceofferings.small,
      templateid: t.lab.seed.templateid, networkids: net.network.id });
    vmid = job.id!;
  });

  after(async () => { await t?.stop(); });

  it('finds nothing on a consistent lab', async () => {
    expect(await t.violations()).to.deep.equal([]);
  });

  it('reports a VM stuck in Starting, capacity that does not add up, and an address held by an Error VM', async () => {
    const db = t.store.db;
    const before = db.prepare('SELECT state FROM vm_instance WHERE uuid = ?').get(vmid) as { state: string };
    db.prepare("UPDATE vm_instance SET state = 'Starting' WHERE uuid = ?").run(vmid);
    try {
      const api = await apiInvariantViolations(t.api);
      expect(api.some((v) => v.includes('stuck in Starting'))).to.equal(true);
      expect(api.some((v) => v.includes('running VMs use 0 MHz'))).to.equal(true);
      const store = storeInvariantViolations(db);
      expect(store.some((v) => v.includes('stuck in Starting'))).to.equal(true);
      db.prepare("UPDATE vm_instance SET state = 'Error' WHERE uuid = ?").run(vmid);
      const error = storeInvariantViolations(db);
      expect(error.some((v) => v.includes('gone or in Error'))).to.equal(true);
      expect(error.some((v) => v.includes('holds host capacity while Error'))).to.equal(true);
      expect((await apiInvariantViolations(t.api)).some((v) => v.includes('is in Error but still holds guest address'))).to.equal(true);
    } finally {
      db.prepare('UPDATE vm_instance SET state = ? WHERE uuid = ?').run(before.state, vmid);
    }
    expect(await t.violations()).to.deep.equal([]);
  });

  it('reports a Running VM whose NIC has lost its address, and one without a NIC', async () => {
    const db = t.store.db;
    const nic = db.prepare(`SELECT n.id, n.ip_address AS ip, n.ip_num AS num FROM nic n JOIN vm_instance v ON v.id = n.vm_id
      WHERE v.uuid = ? AND n.removed IS NULL`).get(vmid) as { id: number; ip: string; num: number };
    try {
      db.prepare('UPDATE nic SET ip_address = NULL, ip_num = NULL WHERE id = ?').run(nic.id);
      expect(storeInvariantViolations(db).some((v) => v.includes(`VM ${vmid} is Running but its nic`))).to.equal(true);
      expect((await apiInvariantViolations(t.api)).some((v) => /is Running but its NIC on network .* has no address/.test(v))).to.equal(true);
      db.prepare('UPDATE nic SET removed = 1 WHERE id = ?').run(nic.id);
      expect(storeInvariantViolations(db)).to.include(`VM ${vmid} is Running without a NIC`);
      expect((await apiInvariantViolations(t.api)).some((v) => v.endsWith('is Running without a NIC'))).to.equal(true);
    } finally {
      db.prepare('UPDATE nic SET removed = NULL, ip_address = ?, ip_num = ? WHERE id = ?').run(nic.ip, nic.num, nic.id);
    }
    expect(await t.violations()).to.deep.equal([]);
  });

  it('reports a public address without an owner and a volume of a VM that is gone', async () => {
    const db = t.store.db;
    db.prepare("UPDATE ip_address SET state = 'Allocated' WHERE id = (SELECT id FROM ip_address WHERE state = 'Free' LIMIT 1)").run();
    const orphan = db.prepare("SELECT uuid FROM volume WHERE removed IS NULL LIMIT 1").get() as { uuid: string };
    const vm = db.prepare('SELECT vm_id FROM volume WHERE uuid = ?').get(orphan.uuid) as { vm_id: number };
    db.prepare('UPDATE vm_instance SET removed = 1 WHERE id = ?').run(vm.vm_id);
    try {
      const store = storeInvariantViolations(db);
      expect(store.some((v) => v.includes('allocated without a live owner'))).to.equal(true);
      expect(store.some((v) => v.includes(`volume ${orphan.uuid} belongs to a VM that is gone`))).to.equal(true);
      expect((await apiInvariantViolations(t.api)).some((v) => v.includes('has no owner'))).to.equal(true);
    } finally {
      db.prepare('UPDATE vm_instance SET removed = NULL WHERE id = ?').run(vm.vm_id);
      db.prepare("UPDATE ip_address SET state = 'Free' WHERE state = 'Allocated' AND account_id IS NULL").run();
    }
    expect(await t.violations()).to.deep.equal([]);
  });
});
