import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { line, progress, type Emit } from './lib.js';
import { runPeer, type PeerResult } from './peers.js';

const CASE = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? './ws-case.ts' : './ws-case.js', import.meta.url));

function ours(args: string[]): PeerResult | undefined {
  progress(`cloudstackd: ws-case ${args.join(' ')}`);
  const execArgv = CASE.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const r = spawnSync(process.execPath, [...execArgv, CASE, ...args], { encoding: 'utf8', timeout: 120_000 });
  const last = r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (r.status !== 0 || last === undefined) { progress(`ws-case ${args.join(' ')} failed: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`); return undefined; }
  return JSON.parse(last) as PeerResult;
}

const v = (r: PeerResult | undefined, key = 'value'): number => Number(r?.[key] ?? NaN);

/**
 * The ws transport between two processes (ask sequential p50/p99, ask throughput with 1,000 in
 * flight, tell throughput) beside, in the same run, raw ws + msgpackr between two processes (per-turn
 * batched and unbatched) and Moleculer's TCP transporter, from ../shared/peers.
 */
export async function runWsBench(emit: Emit): Promise<void> {
  const rawK1 = runPeer('ws.mjs', ['rr', '--inflight', '1']);
  const rawK1000Auto = runPeer('ws.mjs', ['rr', '--inflight', '1000', '--batch', 'auto']);
  const rawOneway = runPeer('ws.mjs', ['oneway', '--batch', '100']);
  const molTcp1000 = runPeer('moleculer/moleculer.mjs', ['tcp', '--inflight', '1000']);
  const molTcp1 = runPeer('moleculer/moleculer.mjs', ['tcp', '--inflight', '1']);

  const a1 = ours(['ask', '--inflight', '1']);
  emit(line('ws.ask.sequential.p50', v(a1), 'us', 'raw ws+msgpackr rr k1 p50', v(rawK1), { ratio: 1.5, higherIsBetter: false }));
  emit(line('ws.ask.sequential.p99', v(a1, 'p99_us'), 'us', 'raw ws+msgpackr rr k1 p99', v(rawK1, 'p99_us')));
  emit(line('ws.ask.sequential.p50.vs-moleculer', v(a1), 'us', 'moleculer tcp call k1 p50', v(molTcp1)));
  emit(line('ws.ask.sequential', v(a1, 'rps'), 'req/s', 'raw ws+msgpackr rr k1', v(rawK1, 'rps')));

  const a1000 = ours(['ask', '--inflight', '1000']);
  emit(line('ws.ask.1000-in-flight', v(a1000), 'req/s', 'raw ws+msgpackr rr k1000 batched', v(rawK1000Auto), { ratio: 0.5, higherIsBetter: true }));
  emit(line('ws.ask.1000-in-flight.vs-moleculer', v(a1000), 'req/s', 'moleculer tcp call k1000', v(molTcp1000), { ratio: 3, higherIsBetter: true }));

  const tl = ours(['tell']);
  emit(line('ws.tell', v(tl), 'msg/s', 'raw ws+msgpackr oneway 100 per frame', v(rawOneway)));
}
