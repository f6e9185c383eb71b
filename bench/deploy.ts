/**
 * Deploy throughput (issue 7 section 6): an all-in-one lab (startLab(): every component in one process)
 * with 1,000 simulated hosts; 100 concurrent API clients, each with its own isolated network, deploy
 * 10,000 VMs in all with signed requests and poll queryAsyncJobResult as clients do. Reports VMs/s
 * sustained over the whole run, job latency p50/p99 (submit → the poll that sees it finished), then
 * listVirtualMachines (pagesize 500, listall) p50/p99 with those VMs present.
 * Runnable alone: `npx tsx bench/deploy.ts`. Sizes: DEPLOY_BENCH_HOSTS, DEPLOY_BENCH_VMS,
 * DEPLOY_BENCH_CLIENTS, DEPLOY_BENCH_POLL_MS; DEPLOY_BENCH_FILE=1 puts the database in a file
 * (WAL, synchronous=FULL) instead of memory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startLab } from '../bin/lab.js';
import { CsApi } from '../test/helpers/cs-api.js';
import { deployAll, deployClients } from './deploy-load.js';
import { envInt, line, percentiles, progress, type BenchLine, type Emit } from './lib.js';

const HOSTS = envInt('DEPLOY_BENCH_HOSTS', 1_000);
const VMS = envInt('DEPLOY_BENCH_VMS', 10_000);
const CLIENTS = envInt('DEPLOY_BENCH_CLIENTS', 100);
/** Pause between a client's queryAsyncJobResult polls, ms (CloudMonkey polls about every second; busy clients faster). */
const POLL_MS = envInt('DEPLOY_BENCH_POLL_MS', 100);
const IN_FILE = process.env['DEPLOY_BENCH_FILE'] === '1';
const LIST_SAMPLES = envInt('DEPLOY_BENCH_LIST_SAMPLES', 100);
/** Issue 7's throughput target. */
const TARGET_VMS_PER_S = 200;

async function listLatency(api: CsApi, pages: number): Promise<{ p50: number; p99: number }> {
  const samples: number[] = [];
  for (let i = 0; i < LIST_SAMPLES + 5; i++) {
    const t0 = performance.now();
    await api.call('listVirtualMachines', { listall: true, page: (i % pages) + 1, pagesize: 500 });
    if (i >= 5) samples.push(performance.now() - t0);
  }
  return percentiles(samples);
}

export async function runDeployBench(emit: Emit): Promise<void> {
  const dir = IN_FILE ? mkdtempSync(join(tmpdir(), 'cloudstackd-deploy-bench-')) : undefined;
  progress(`deploy: starting a lab with ${HOSTS} simulated hosts (${IN_FILE ? 'file' : 'in-memory'} database)`);
  const lab = await startLab({ hosts: HOSTS, logLevel: 'error', ...(dir === undefined ? {} : { dataDir: dir }) });
  const clients = deployClients(lab.endpoint, lab, CLIENTS, POLL_MS);
  try {
    const s = lab.seed;
    const out = await deployAll({ zoneid: s.zoneid, serviceofferingid: s.serviceofferings.small, templateid: s.templateid,
      networkofferingid: s.networkofferingid }, clients, VMS);
    const rate = out.latencies.length / out.seconds;
    const lat = percentiles(out.latencies);
    const tag = `${HOSTS} hosts, ${CLIENTS} clients, ${VMS} VMs`;
    progress(`deploy: ${out.latencies.length} VMs running, ${out.failed} failed, in ${out.seconds.toFixed(1)} s`);
    const lines: BenchLine[] = [
      line('deploy.vms-per-s', rate, 'VMs/s', `issue 7 target (${tag}${IN_FILE ? ', file db' : ''})`, TARGET_VMS_PER_S, { ratio: 1, higherIsBetter: true }),
      line('deploy.job-latency.p50', lat.p50, 'ms', `submit to finished job seen by a poll every ${POLL_MS} ms (no published baseline)`, NaN),
      line('deploy.job-latency.p99', lat.p99, 'ms', `submit to finished job seen by a poll every ${POLL_MS} ms (no published baseline)`, NaN),
      line('deploy.failed', out.failed, 'jobs', 'every deploy fits: none may fail', 0),
    ];
    progress('deploy: listVirtualMachines pagesize 500 with the deployed VMs');
    const list = await listLatency(clients[0]!, Math.max(1, Math.ceil(out.latencies.length / 500)));
    lines.push(line('deploy.list-vms.pagesize500.p50', list.p50, 'ms', `listVirtualMachines over HTTP with ${out.latencies.length} VMs (no published baseline)`, NaN));
    lines.push(line('deploy.list-vms.pagesize500.p99', list.p99, 'ms', 'CloudStack 4.20 listVirtualMachines avg, 25k hosts (reference 8)', 11_800));
    for (const l of lines) emit(l);
  } finally {
    for (const c of clients) c.close();
    await lab.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runDeployBench((l) => console.log(JSON.stringify(l)));
}
