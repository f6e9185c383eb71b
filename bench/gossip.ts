/**
 * Gossip figures from the deterministic simulator (issue 4, section 5), as bench JSON lines:
 * - dissemination: gossip rounds until an update reaches every member, N = 100 and 1,000, beside the
 *   target (12) and memberlist's LAN timing run in the same simulator;
 * - crash detection at N = 1,000 with the default timing: p50 / p99 from crash to "dead", over every
 *   (crash, surviving member) pair, beside the targets (3 s / 10 s) and memberlist's LAN timing;
 * - false "dead" verdicts over simulated minutes at N = 20 and 200, with 0 / 10 / 20 % independent
 *   loss and one node pausing 2 s in every 10 s (target 0 at 10 %), and whether every false
 *   suspicion was refuted;
 * - messages per member per second at rest against N (should stay flat), and simulator speed.
 *
 * Runs alone too: `npx tsx bench/gossip.ts` prints the lines (progress on stderr). Knobs:
 * GOSSIP_BENCH_MINUTES (simulated minutes per false-death case, default 30), GOSSIP_BENCH_CRASHES
 * (crashes at N = 1,000, default 20).
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { defaultConfig, memberlistLanConfig, type GossipConfig } from '../src/gossip/config.js';
import { ClusterSimulator } from '../src/gossip/simulator.js';
import { envInt, line, percentiles, progress, round, type BenchLine, type Emit } from './lib.js';

const SEED = 20_261_124;
const MEMBERLIST = memberlistLanConfig();

const median = (a: number[]): number => percentiles(a).p50;
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A count whose target is zero: baseline_value 0, and ratio = the count itself (0 means the target is met). */
function zeroTarget(c: string, value: number, unit: string, what: string): BenchLine {
  return { case: c, value, unit, baseline: `target: ${what}`, baseline_value: 0, ratio: value, target: '== 0', met: value === 0 };
}

/** Gossip rounds (gossipInterval periods) until a metadata update from one member reaches all N. */
function disseminationRounds(n: number, config: Partial<GossipConfig>, trials: number): number[] {
  const sim = new ClusterSimulator({ seed: SEED + n, trace: false, config });
  const nodes = sim.addCluster(n, { converged: true });
  const interval = nodes[0]!.membership.config.gossipInterval;
  sim.run(3000);
  const out: number[] = [];
  for (let t = 0; t < trials; t++) {
    const origin = nodes[(t * 7919 + 1) % n]!;
    const want = origin.membership.self.incarnation + 1;
    const seen = new Set<string>([origin.id]);
    let last = 0;
    const off = sim.onEvent((obs, ev, time) => {
      if (ev.member.id === origin.id && ev.member.incarnation >= want && !seen.has(obs)) { seen.add(obs); last = time; }
    });
    const t0 = sim.clock.now();
    origin.membership.updateMetadata({ load: { trial: t } });
    const ok = sim.runUntil(() => seen.size === n, 60_000, interval / 4);
    off();
    out.push(ok ? Math.ceil((last - t0) / interval) : Infinity);
    sim.run(3000);
  }
  return out;
}

interface Detection { perMember: number[]; allMembers: number[]; simMs: number; wallMs: number; missed: number }

/** Crashes `crashes` members one after another; records crash → "dead" on every surviving member. */
function crashDetection(n: number, config: Partial<GossipConfig>, crashes: number, windowMs: number): Detection {
  const sim = new ClusterSimulator({ seed: SEED + 7, trace: false, config });
  const nodes = sim.addCluster(n, { converged: true });
  sim.run(3000);
  const r: Detection = { perMember: [], allMembers: [], simMs: 0, wallMs: 0, missed: 0 };
  let victim = '';
  let crashedAt = 0;
  const seen = new Set<string>();
  sim.onEvent((obs, ev, time) => {
    if (ev.type === 'failed' && ev.member.id === victim && !seen.has(obs)) { seen.add(obs); r.perMember.push(time - crashedAt); }
  });
  const w0 = performance.now();
  const s0 = sim.clock.now();
  for (let i = 0; i < crashes; i++) {
    victim = nodes[(i * 104_729 + 13) % n]!.id;
    seen.clear();
    crashedAt = sim.clock.now();
    sim.crash(victim);
    const survivors = n - 1 - i;
    sim.runUntil(() => seen.size === survivors, windowMs, 100);
    r.missed += survivors - seen.size;
    r.allMembers.push(seen.size === survivors ? sim.clock.now() - crashedAt : Infinity);
    sim.run(1000);
  }
  r.simMs = sim.clock.now() - s0;
  r.wallMs = performance.now() - w0;
  return r;
}

interface FalseDeaths { verdicts: number; incidents: number; suspicions: number; unrefuted: number; simMs: number; wallMs: number }

/** N members, independent loss, one member pausing 2 s in every 10 s; nobody ever crashes, so every death is false. */
function falseDeaths(n: number, loss: number, minutes: number): FalseDeaths {
  const sim = new ClusterSimulator({ seed: SEED + n + Math.round(loss * 100), trace: false });
  const nodes = sim.addCluster(n, { converged: true });
  const r: FalseDeaths = { verdicts: 0, incidents: 0, suspicions: 0, unrefuted: 0, simMs: 0, wallMs: 0 };
  const incidents = new Set<string>();
  const suspicions = new Set<string>();
  sim.onEvent((_obs, ev) => {
    const key = `${ev.member.id}@${ev.member.epoch}.${ev.member.incarnation}`;
    if (ev.type === 'failed') { r.verdicts++; incidents.add(key); }
    if (ev.type === 'suspected') suspicions.add(key);
  });
  sim.run(1000);
  sim.network.setLoss(loss);
  const staller = nodes[1]!.id;
  const stalls = sim.clock.setInterval(() => sim.pause(staller, 2000), 10_000);
  const w0 = performance.now();
  sim.run(minutes * 60_000);
  r.wallMs = performance.now() - w0;
  r.simMs = minutes * 60_000;
  // Faults off, then every suspicion must have been refuted: everyone alive in every view.
  stalls.cancel();
  sim.run(3000);
  sim.network.setLoss(0);
  sim.run(10_000);
  for (const nd of nodes) for (const m of nd.membership.members()) if (m.status !== 'alive') r.unrefuted++;
  r.incidents = incidents.size;
  r.suspicions = suspicions.size;
  return r;
}

/** Messages sent per member per second by a settled cluster, no faults. */
function messageLoad(n: number, config: Partial<GossipConfig>, seconds: number): { perMemberPerSec: number; speed: number } {
  const sim = new ClusterSimulator({ seed: SEED + 3, trace: false, config });
  sim.addCluster(n, { converged: true });
  sim.run(5000);
  const sent0 = sim.network.stats.sent;
  const w0 = performance.now();
  sim.run(seconds * 1000);
  const wall = performance.now() - w0;
  return { perMemberPerSec: (sim.network.stats.sent - sent0) / n / seconds, speed: (seconds * 1000) / wall };
}

async function disseminationFigures(emit: Emit): Promise<void> {
  const target = { ratio: 1, higherIsBetter: false };
  for (const n of [100, 1000]) {
    progress(`gossip: dissemination N=${n}`);
    const ours = disseminationRounds(n, {}, 5);
    const ml = disseminationRounds(n, MEMBERLIST, 3);
    const worst = Math.max(...ours);
    emit(line(`gossip.dissemination.n${n}.rounds.max`, worst, 'rounds', 'target: all reached within 12 rounds', 12, target));
    emit(line(`gossip.dissemination.n${n}.rounds.median`, median(ours), 'rounds', 'memberlist LAN timing, same simulator', median(ml)));
    progress(`gossip: dissemination N=${n}: ours ${ours.join(',')} rounds of ${defaultConfig().gossipInterval} ms; memberlist ${ml.join(',')} rounds of ${MEMBERLIST.gossipInterval} ms`);
    await tick();
  }
}

async function detectionFigures(emit: Emit): Promise<void> {
  const crashes = envInt('GOSSIP_BENCH_CRASHES', 20);
  progress(`gossip: crash detection N=1000, ${crashes} crashes (default timing)`);
  const d = crashDetection(1000, {}, crashes, 20_000);
  const p = percentiles(d.perMember);
  const all = percentiles(d.allMembers);
  progress(`gossip: crash detection: per member p50 ${round(p.p50)} ms p99 ${round(p.p99)} ms; all members p50 ${round(all.p50)} p99 ${round(all.p99)}; missed ${d.missed}; ${round(d.simMs / 1000)} s simulated in ${round(d.wallMs / 1000)} s`);
  await tick();
  progress('gossip: crash detection N=1000, 3 crashes, memberlist LAN timing');
  const ml = crashDetection(1000, MEMBERLIST, 3, 120_000);
  const mlp = percentiles(ml.perMember);
  progress(`gossip: memberlist timing: per member p50 ${round(mlp.p50)} ms p99 ${round(mlp.p99)} ms`);
  emit(line('gossip.crash-detect.n1000.p50', p.p50, 'ms', 'target: p50 <= 3 s', 3000, { ratio: 1, higherIsBetter: false }));
  emit(line('gossip.crash-detect.n1000.p99', p.p99, 'ms', 'target: p99 <= 10 s', 10_000, { ratio: 1, higherIsBetter: false }));
  emit(line('gossip.crash-detect.n1000.p50.vs-memberlist', p.p50, 'ms', 'memberlist LAN timing, same simulator, p50', mlp.p50));
  emit(line('gossip.crash-detect.n1000.all-members.p99', all.p99, 'ms', 'target: p99 <= 10 s (last member to know)', 10_000, { ratio: 1, higherIsBetter: false }));
  emit(zeroTarget('gossip.crash-detect.n1000.missed', d.missed, 'members', 'every survivor declares every crash dead'));
  emit(line('gossip.simulator.n1000.speed.crashes', d.simMs / d.wallMs, 'x', 'real time', 1, { ratio: 1, higherIsBetter: true }));
}

async function falseDeathFigures(emit: Emit): Promise<void> {
  const minutes = envInt('GOSSIP_BENCH_MINUTES', 30);
  for (const n of [20, 200]) {
    for (const loss of [0, 0.1, 0.2]) {
      const tag = `n${n}.loss${Math.round(loss * 100)}`;
      progress(`gossip: false deaths N=${n} loss=${loss * 100}% for ${minutes} simulated min, one node pausing 2 s every 10 s`);
      const r = falseDeaths(n, loss, minutes);
      progress(`gossip: ${tag}: ${r.verdicts} false verdicts (${r.incidents} incidents), ${r.suspicions} suspicions, ${r.unrefuted} unrefuted; ${round(r.simMs / r.wallMs)}x real time`);
      const what = loss <= 0.1 ? `0 false deaths in ${minutes} min` : `none set at 20 % loss (0 is the aim), ${minutes} min`;
      emit(zeroTarget(`gossip.false-dead.${tag}`, r.verdicts, 'verdicts', what));
      emit(zeroTarget(`gossip.unrefuted-suspicions.${tag}`, r.unrefuted, 'views', `every false suspicion refuted (of ${r.suspicions})`));
      await tick();
    }
  }
}

async function loadFigures(emit: Emit): Promise<void> {
  let base = NaN;
  for (const n of [20, 100, 200, 1000]) {
    progress(`gossip: message load N=${n}`);
    const ours = messageLoad(n, {}, 20);
    const ml = messageLoad(n, MEMBERLIST, 20);
    if (n === 20) base = ours.perMemberPerSec;
    emit(line(`gossip.load.n${n}.msgs-per-member-s`, ours.perMemberPerSec, 'msg/s', 'same figure at N = 20 (flat = 1)', base));
    emit(line(`gossip.load.n${n}.vs-memberlist`, ours.perMemberPerSec, 'msg/s', 'memberlist LAN timing, same simulator', ml.perMemberPerSec));
    if (n === 1000) emit(line('gossip.simulator.n1000.speed.rest', ours.speed, 'x', 'real time', 1, { ratio: 1, higherIsBetter: true }));
    await tick();
  }
}

export async function runGossipBench(emit: Emit): Promise<void> {
  const t0 = performance.now();
  await disseminationFigures(emit);
  await detectionFigures(emit);
  await loadFigures(emit);
  await falseDeathFigures(emit);
  progress(`gossip: done in ${round((performance.now() - t0) / 1000)} s`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runGossipBench((l) => console.log(JSON.stringify(l)));
}
