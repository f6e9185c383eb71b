/**
 * `npm run bench`: every benchmark case as one JSON line {case, value, unit, baseline, baseline_value,
 * ratio} (plus target/met where the issues set one), then a table. Baselines (raw limits and peer
 * systems from ../shared/peers) are measured in the same run. `--only REGEX` picks suites.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { BenchLine, Emit } from './lib.js';
import { progress } from './lib.js';

type Suite = { name: string; file: string; fn: string };
const SUITES: Suite[] = [
  { name: 'inproc', file: 'inproc.js', fn: 'runInprocBench' },
  { name: 'ws', file: 'ws.js', fn: 'runWsBench' },
  { name: 'redis', file: 'redis.js', fn: 'runRedisBench' },
  { name: 'gossip', file: 'gossip.js', fn: 'runGossipBench' },
  { name: 'data', file: 'data.js', fn: 'runDataBench' },
  { name: 'api', file: 'api.js', fn: 'runApiBench' },
  { name: 'api-slow', file: 'api-slow.js', fn: 'runApiSlowBench' },
  { name: 'deploy', file: 'deploy.js', fn: 'runDeployBench' },
  { name: 'list-all', file: 'list-all.js', fn: 'runListAllBench' },
  { name: 'default-network', file: 'default-network.js', fn: 'runDefaultNetworkBench' },
  { name: 'network-rules', file: 'network-rules.js', fn: 'runNetworkRulesBench' },
  { name: 'distributed', file: 'distributed.js', fn: 'runDistributedBench' },
  { name: 'split', file: 'split.js', fn: 'runSplitBench' },
  { name: 'scale', file: 'scale.js', fn: 'runScaleBench' },
  { name: 'kvm', file: 'kvm.js', fn: 'runKvmBench' },
  { name: 'postgres', file: 'postgres.js', fn: 'runPostgresBench' },
  { name: 'framework', file: 'framework.js', fn: 'runFrameworkBench' },
];

const HERE = fileURLToPath(new URL('.', import.meta.url));
const onlyIdx = process.argv.indexOf('--only');
const only = onlyIdx > 0 ? new RegExp(process.argv[onlyIdx + 1] ?? '.') : /./;

const lines: BenchLine[] = [];
const emit: Emit = (l) => { lines.push(l); console.log(JSON.stringify(l)); };

for (const s of SUITES.filter((x) => only.test(x.name))) {
  const path = join(HERE, s.file);
  if (!existsSync(path)) { progress(`suite ${s.name}: not built in this version, skipped`); continue; }
  progress(`suite ${s.name}`);
  try {
    const mod = (await import(path)) as Record<string, (e: Emit) => Promise<void>>;
    await mod[s.fn]!(emit);
  } catch (err) {
    progress(`suite ${s.name} failed: ${(err as Error).stack ?? String(err)}`);
    process.exitCode = 1;
  }
}

const pad = (v: string, n: number): string => (v.length >= n ? v : v + ' '.repeat(n - v.length));
console.log('');
console.log(pad('case', 44) + pad('value', 14) + pad('unit', 8) + pad('baseline', 44) + pad('baseline', 14) + pad('ratio', 8) + 'target');
for (const l of lines) {
  console.log(pad(l.case, 44) + pad(String(l.value), 14) + pad(l.unit, 8) + pad(l.baseline, 44) + pad(String(l.baseline_value), 14)
    + pad(String(l.ratio), 8) + (l.target ? `${l.target} ${l.met ? 'met' : 'NOT met'}` : ''));
}
