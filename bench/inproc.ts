import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { line, progress, type Emit } from './lib.js';
import { runPeer, type PeerResult } from './peers.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));

function ours(args: string[]): PeerResult | undefined {
  progress(`cloudstackd: inproc-case ${args.join(' ')}`);
  const r = spawnSync(process.execPath, [join(HERE, 'inproc-case.js'), ...args], { encoding: 'utf8', timeout: 120_000 });
  const last = r.stdout.trim().split('\n').pop();
  if (r.status !== 0 || !last?.startsWith('{')) { progress(`inproc-case ${args.join(' ')} failed: ${r.stderr}`); return undefined; }
  return JSON.parse(last) as PeerResult;
}

/** The foundation's runtime cases beside the raw in-process limits and Moleculer's local broker. */
export async function runInprocBench(emit: Emit): Promise<void> {
  const rawB1000 = runPeer('inproc.mjs', ['mailbox-micro', '--batch', '1000']);
  const rawB1 = runPeer('inproc.mjs', ['mailbox-micro', '--batch', '1']);
  const rawAsk1000 = runPeer('inproc.mjs', ['ask', '--inflight', '1000']);
  const rawAsk1 = runPeer('inproc.mjs', ['ask', '--inflight', '1']);
  const molLocal1000 = runPeer('moleculer/moleculer.mjs', ['local', '--inflight', '1000']);
  const molLocal1 = runPeer('moleculer/moleculer.mjs', ['local', '--inflight', '1']);
  const v = (r: PeerResult | undefined): number => r?.value ?? NaN;

  for (const strict of [false, true]) {
    const s = strict ? ['--strict'] : [];
    const sfx = strict ? '.strict' : '';
    const t1 = ours(['tell', '--actors', '1', '--batch', '1000', ...s]);
    emit(line(`inproc.tell.1-actor${sfx}`, v(t1), 'msg/s', 'raw microtask queue (1000 per turn)', v(rawB1000), strict ? undefined : { ratio: 0.5, higherIsBetter: true }));
    const t1b1 = ours(['tell', '--actors', '1', '--batch', '1', ...s]);
    emit(line(`inproc.tell.1-actor.1-per-turn${sfx}`, v(t1b1), 'msg/s', 'raw microtask queue (1 per turn)', v(rawB1), strict ? undefined : { ratio: 0.5, higherIsBetter: true }));
    const t100 = ours(['tell', '--actors', '100', '--batch', '1000', ...s]);
    emit(line(`inproc.tell.100-actors${sfx}`, v(t100), 'msg/s', 'raw microtask queue (1000 per turn)', v(rawB1000), strict ? undefined : { ratio: 0.5, higherIsBetter: true }));
    const a1000 = ours(['ask', '--inflight', '1000', ...s]);
    emit(line(`inproc.ask.1000-in-flight${sfx}`, v(a1000), 'req/s', 'moleculer local call k1000', v(molLocal1000), strict ? undefined : { ratio: 2, higherIsBetter: true }));
    emit(line(`inproc.ask.1000-in-flight.vs-raw${sfx}`, v(a1000), 'req/s', 'raw promise+queue ask k1000', v(rawAsk1000)));
    const a1 = ours(['ask', '--inflight', '1', ...s]);
    emit(line(`inproc.ask.sequential${sfx}`, Number(a1?.rps ?? NaN), 'req/s', 'moleculer local call k1', Number(molLocal1?.rps ?? NaN)));
    emit(line(`inproc.ask.p50${sfx}`, v(a1), 'us', 'moleculer local call p50', v(molLocal1)));
    emit(line(`inproc.ask.p99${sfx}`, Number(a1?.p99_us ?? NaN), 'us', 'moleculer local call p99', Number(molLocal1?.p99_us ?? NaN)));
    emit(line(`inproc.ask.sequential.vs-raw${sfx}`, Number(a1?.rps ?? NaN), 'req/s', 'raw promise+queue ask k1', v(rawAsk1)));
  }
}
