/**
 * Issue 18: 600 simulated hosts in 4 compute processes over ws (150 each: a node advertises them as
 * one keyed service, which used to overflow gossip metadata at about 90), one management process,
 * the test heartbeat profile. Every host must come Up (it used to stop at 500), listHosts pagesize=-1
 * must return all 600, and a SIGKILLed compute process's 150 hosts must go Down together.
 */
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { CsApi } from '../helpers/cs-api.js';
import { projectRoot } from '../helpers/paths.js';
import { waitFor } from '../helpers/wait.js';
import { ProcCluster } from './distributed-cluster.js';

const PROCS = 4;
const PER_PROC = 150;
const TOTAL = PROCS * PER_PROC;

interface Host { id: string; name: string; state: string }

function print(line: string): void {
  process.stdout.write(`      (${line})\n`);
}

describe(`system: ${TOTAL} simulated hosts in ${PROCS} compute processes over ws`, function () {
  this.timeout(240_000);
  let c: ProcCluster;
  const api = (): CsApi => c.api!;
  const allHosts = async (): Promise<{ count: number; host: Host[] }> => {
    const r = await api().call<{ count?: number; host?: Host[] }>('listHosts', { type: 'Routing', pagesize: -1 });
    return { count: r.count ?? 0, host: r.host ?? [] };
  };

  before(async function () {
    const script = join(projectRoot(), 'dist/bench/distributed-agents.js');
    if (!existsSync(script)) this.skip();
    c = new ProcCluster({ transport: 'ws', logLevel: 'error' });
    await c.startManagement();
    const t0 = Date.now();
    await Promise.all(Array.from({ length: PROCS }, (_v, i) => c.startCompute(`m${i}`, { script, extra: ['--agents', String(PER_PROC)] })));
    let last = { count: 0, up: 0 };
    await waitFor(async () => {
      const h = await allHosts();
      last = { count: h.count, up: h.host.filter((x) => x.state === 'Up').length };
      return last.up === TOTAL;
    }, 150_000, `${TOTAL} hosts Up`).catch((err: Error) => { throw new Error(`${err.message}: last seen ${JSON.stringify(last)}`); });
    print(`${TOTAL} hosts Up ${Date.now() - t0} ms after the compute processes were started`);
  });

  after(async () => { await c?.dispose(); });

  it('listHosts pagesize=-1 returns every one of the 600 hosts, each once', async () => {
    const h = await allHosts();
    expect(h.count).to.equal(TOTAL);
    expect(h.host).to.have.length(TOTAL);
    expect(new Set(h.host.map((x) => x.name)).size).to.equal(TOTAL);
    expect(h.host.every((x) => x.state === 'Up')).to.equal(true);
    // Without pagesize, CloudStack's default page: the first 500, with the full count.
    const page = await api().call<{ count: number; host: Host[] }>('listHosts', { type: 'Routing' });
    expect(page.count).to.equal(TOTAL);
    expect(page.host).to.have.length(500);
  });

  it('a SIGKILLed compute process takes its 150 hosts Down, and only those', async () => {
    const t0 = Date.now();
    await c.signal('m3', 'SIGKILL');
    await waitFor(async () => (await allHosts()).host.filter((x) => x.name.startsWith('m3-') && x.state === 'Down').length === PER_PROC,
      60_000, `the ${PER_PROC} hosts of m3 Down`);
    print(`${PER_PROC} hosts Down ${Date.now() - t0} ms after SIGKILL`);
    const h = (await allHosts()).host;
    expect(h.filter((x) => !x.name.startsWith('m3-')).every((x) => x.state === 'Up')).to.equal(true);
  });
});
