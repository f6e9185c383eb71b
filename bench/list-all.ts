/**
 * listVirtualMachines pagesize=-1 at 100,000 VMs (issue 18): every VM in one answer, streamed. The
 * server is a `cloudstackd` all-in-one process over a file database seeded beforehand; the client
 * (this process) reads the answer as it comes and parses it once at the end to check it.
 * - time of the whole answer, against the baseline of reading the same rows as a client without -1
 *   does: every page of 500, one request after another;
 * - the server's peak RSS growth during the answer (VmHWM, reset before each case through
 *   /proc/<pid>/clear_refs), against the size of the answer: an answer rendered whole would hold at
 *   least one copy of it (the items, their JSON, the bytes), so a ratio well under 1 means streamed.
 * Sizes: LIST_BENCH_VMS (default 100,000). Runnable alone: `node dist/bench/list-all.js`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DataStore, SYSTEM } from '../actors/data/store/index.js';
import { seedLab } from '../actors/data/store/seed.js';
import { javaEncode, sign } from '../test/helpers/cs-api.js';
import { envInt, line, progress, type Emit } from './lib.js';

const VMS = envInt('LIST_BENCH_VMS', 100_000);
/** VMs created per transaction while seeding. */
const BATCH = 2_000;
const PAGE = 500;
const CLI = join(fileURLToPath(new URL('.', import.meta.url)), '../bin/cloudstackd.js');

function seed(dir: string): void {
  const store = DataStore.open({ dataDir: dir });
  try {
    const lab = seedLab(store, { hosts: 4 });
    for (let made = 0; made < VMS;) {
      store.transaction(() => {
        for (let i = 0; i < BATCH && made < VMS; i++, made++) {
          store.vmOps.create(SYSTEM, { zoneid: lab.zoneid, serviceofferingid: lab.serviceofferings.small, templateid: lab.templateid,
            accountid: lab.adminAccountId, name: `vm-${made}` });
        }
      });
      if (made % 20_000 === 0) progress(`list-all: ${made} VMs seeded`);
    }
  } finally {
    store.close();
  }
}

interface Server { child: ChildProcess; endpoint: URL; apiKey: string; secretKey: string }

async function startServer(dir: string): Promise<Server> {
  const child = spawn(process.execPath, [CLI, '--port', '0', '--data-dir', dir, '--log-level', 'error', '--hosts', '4'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => { out += d.toString(); if (/ready/.test(out)) resolve(); });
    child.once('exit', (code) => reject(new Error(`cloudstackd exited ${code} before ready`)));
  });
  const cred = JSON.parse(readFileSync(join(dir, 'credentials.json'), 'utf8')) as { endpoint: string; apiKey: string; secretKey: string };
  return { child, endpoint: new URL(cred.endpoint), apiKey: cred.apiKey, secretKey: cred.secretKey };
}

/** One signed GET; resolves with the body's size and (when `keep`) the text. */
function get(s: Server, params: Record<string, string>, keep: boolean): Promise<{ bytes: number; text: string }> {
  const p: Record<string, string> = { command: 'listVirtualMachines', response: 'json', listall: 'true', apiKey: s.apiKey, ...params };
  const query = Object.entries(p).map(([k, v]) => `${encodeURIComponent(k)}=${javaEncode(v)}`).join('&');
  const path = `${s.endpoint.pathname}?${query}&signature=${encodeURIComponent(sign(p, s.secretKey))}`;
  return new Promise((resolve, reject) => {
    const req = request({ host: s.endpoint.hostname, port: s.endpoint.port, path, agent: false }, (res) => {
      const parts: Buffer[] = [];
      let bytes = 0;
      res.on('data', (c: Buffer) => { bytes += c.length; if (keep) parts.push(c); });
      res.on('end', () => (res.statusCode === 200 ? resolve({ bytes, text: keep ? Buffer.concat(parts).toString('utf8') : '' })
        : reject(new Error(`HTTP ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const peakKiB = (pid: number): number => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
const rssKiB = (pid: number): number => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
/** Resets the peak RSS to the current RSS (Linux: clear_refs 5). */
const resetPeak = (pid: number): void => writeFileSync(`/proc/${pid}/clear_refs`, '5');

/** Runs `fn` and returns its time and the server's peak RSS growth over the RSS before it. */
async function measure<T>(pid: number, fn: () => Promise<T>): Promise<{ ms: number; growthMiB: number; value: T }> {
  resetPeak(pid);
  const before = rssKiB(pid);
  const t0 = performance.now();
  const value = await fn();
  const ms = performance.now() - t0;
  return { ms, growthMiB: (peakKiB(pid) - before) / 1024, value };
}

export async function runListAllBench(emit: Emit): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'cloudstackd-list-all-'));
  let server: Server | undefined;
  try {
    const t0 = performance.now();
    seed(dir);
    progress(`list-all: ${VMS} VMs seeded in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    server = await startServer(dir);
    const s = server;
    const pid = s.child.pid!;
    await get(s, { page: '1', pagesize: String(PAGE) }, false); // warm-up: statements prepared, code compiled
    const paged = await measure(pid, async () => {
      let bytes = 0;
      for (let page = 1; page <= Math.ceil(VMS / PAGE); page++) bytes += (await get(s, { page: String(page), pagesize: String(PAGE) }, false)).bytes;
      return bytes;
    });
    const all = await measure(pid, () => get(s, { pagesize: '-1' }, true));
    const parsed = JSON.parse(all.value.text) as { listvirtualmachinesresponse: { count: number; virtualmachine: unknown[] } };
    const r = parsed.listvirtualmachinesresponse;
    if (r.count !== VMS || r.virtualmachine.length !== VMS) throw new Error(`pagesize=-1 answered count ${r.count} with ${r.virtualmachine.length} VMs, not ${VMS}`);
    const answerMiB = all.value.bytes / 1024 / 1024;
    const tag = `${VMS} VMs, ${answerMiB.toFixed(0)} MiB of JSON`;
    emit(line('list-all.list-vms.pagesize-1.time', all.ms, 'ms', `the same rows as ${Math.ceil(VMS / PAGE)} sequential pages of ${PAGE} (${tag})`, paged.ms));
    emit(line('list-all.list-vms.pagesize-1.server-peak-rss-growth', all.growthMiB, 'MiB', `the size of the answer (one copy held whole), ${tag}`, answerMiB));
    emit(line('list-all.list-vms.paged.server-peak-rss-growth', paged.growthMiB, 'MiB', `the size of the answer, ${tag}`, answerMiB));
    emit(line('list-all.list-vms.pagesize-1.rows-per-s', VMS / (all.ms / 1000), 'VMs/s', 'sequential pages of 500', VMS / (paged.ms / 1000)));
  } finally {
    server?.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runListAllBench((l) => console.log(JSON.stringify(l)));
}
