/**
 * 200 deploys from 20 concurrent API clients on a lab that has room for 48 of them: every job ends
 * (succeeded, or failed with 533), exactly as many VMs run as fit, no host is ever over its capacity
 * (sampled while the deploys run), and the invariants hold afterwards.
 */
import { expect } from 'chai';
import { CsApi, CsApiError } from '../helpers/cs-api.js';
import { startTestLab, type TestLab } from './lab-fixture.js';

const CLIENTS = 20;
const DEPLOYS_PER_CLIENT = 10;
const HOSTS = 3;
/** A seeded host has 8 GiB; the small offering takes 512 MiB, so 16 fit per host (memory is the limit). */
const FIT = HOSTS * 16;

describe('lifecycle: concurrent deploys on limited capacity', function () {
  this.timeout(60_000);
  let t: TestLab;

  before(async () => { t = await startTestLab({ hosts: HOSTS }); });
  after(async () => { await t?.stop(); });

  it('never over-commits a host, finishes every job, and runs exactly what fits', async () => {
    const net = await t.api.call<{ network: { id: string } }>('createNetwork', { name: 'busy', displaytext: 'busy', zoneid: t.lab.seed.zoneid,
      networkofferingid: t.lab.seed.networkofferingid });
    const params = { zoneid: t.lab.seed.zoneid, serviceofferingid: t.lab.seed.serviceofferings.small, templateid: t.lab.seed.templateid,
      networkids: net.network.id };
    const overCommitted: string[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const over = t.store.sql.all<{ name: string }>(`SELECT name FROM host WHERE cpu_allocated > cpu_cores * cpu_speed OR mem_allocated > memory`, []);
        overCommitted.push(...over.map((h) => h.name));
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const clients = Array.from({ length: CLIENTS }, () => new CsApi({ endpoint: t.lab.endpoint, apiKey: t.lab.apiKey,
      secretKey: t.lab.secretKey, maxSockets: 1, pollMs: 10 }));
    const outcomes: number[] = [];
    try {
      await Promise.all(clients.map(async (client) => {
        for (let i = 0; i < DEPLOYS_PER_CLIENT; i++) {
          const job = await client.job('deployVirtualMachine', params);
          outcomes.push(job.jobstatus === 1 ? 0 : job.jobresultcode);
        }
      }));
    } catch (err) {
      if (err instanceof CsApiError) throw new Error(`a deploy was refused synchronously: ${err.message}`);
      throw err;
    } finally {
      sampling = false;
      await sampler;
      for (const c of clients) c.close();
    }
    expect(outcomes).to.have.length(CLIENTS * DEPLOYS_PER_CLIENT);
    expect(outcomes.filter((o) => o !== 0 && o !== 533)).to.deep.equal([]);
    expect(outcomes.filter((o) => o === 0)).to.have.length(FIT);
    expect(overCommitted).to.deep.equal([]);
    const running = await t.api.listAll<{ state: string }>('listVirtualMachines', 'virtualmachine', { listall: true, state: 'Running' });
    expect(running).to.have.length(FIT);
    expect(await t.violations()).to.deep.equal([]);
  });
});
