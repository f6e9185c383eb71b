/**
 * One in-process runtime case per process (like the peer scripts), printing one JSON summary line:
 *   node dist/bench/inproc-case.js tell --actors 1|100 [--batch B] [--strict]   (B messages posted per turn)
 *   node dist/bench/inproc-case.js ask --inflight 1|1000 [--strict]
 */
import { ActorSystem } from '../src/actor-system.js';
import { ask, defineProtocol, tell } from '../src/protocol.js';
import { t } from '../src/schema.js';
import { silentLogger } from '../src/logger.js';
import type { ActorRef } from '../src/actor-types.js';
import { Registry } from 'prom-client';
import { runtimeObserver } from '../bin/metrics-endpoint.js';
import { WindowMeter, percentiles } from './lib.js';

const Tick = t.object({ to: t.string(), from: t.string(), id: t.string(), type: t.string(), seq: t.number(), pad: t.string() });
const BenchProtocol = defineProtocol('bench', '1.0', {
  tick: tell(Tick),
  echo: ask(Tick, t.object({ ok: t.boolean(), seq: t.number() })),
});

const flag = (name: string, def: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : def;
};
const strict = process.argv.includes('--strict');
/** With --metrics, the runtime records into prom-client as a node with --metrics-port does. */
const metrics = process.argv.includes('--metrics');
const pad = 'x'.repeat(40);
const msg = (seq: number) => ({ to: 'bench/sink', from: 'bench/src', id: 'V1StGXR8_Z5jdHi6B-myT', type: 'Tick', seq, pad });

async function tellCase(actors: number, BATCH: number): Promise<void> {
  const sys = new ActorSystem({ nodeId: 'bench', logger: silentLogger, strict });
  const meter = new WindowMeter();
  let sink = 0;
  let inBatch = 0;
  const refs: ActorRef<typeof BenchProtocol>[] = [];
  let seq = 0;
  const produce = (): void => {
    for (let i = 0; i < BATCH; i++) refs[i % actors]!.tell('tick', msg(seq++));
  };
  for (let a = 0; a < actors; a++) {
    refs.push(sys.spawn(`/sink-${a}`, {
      protocol: BenchProtocol,
      mailbox: { capacity: 1_000_000 },
      handlers: {
        tick: (m) => {
          sink += m.seq;
          meter.tick();
          if (++inBatch === BATCH) { inBatch = 0; if (!meter.finished) produce(); }
        },
        echo: (m) => ({ ok: true, seq: m.seq }),
      },
    }));
  }
  await new Promise((r) => setImmediate(r));
  produce();
  const r = await meter.done;
  await sys.shutdown();
  out(`cloudstackd.inproc.tell.a${actors}.b${BATCH}${strict ? '.strict' : ''}`, 'throughput', r.rate, 'msg/s', { sink: sink > 0 ? 1 : 0 });
}

async function askCase(inflight: number): Promise<void> {
  const sys = new ActorSystem({ nodeId: 'bench', logger: silentLogger, strict, maxPendingAsks: 1_000_000 });
  if (metrics) sys.observer = runtimeObserver(new Registry());
  const ref = sys.spawn('/echo', {
    protocol: BenchProtocol,
    mailbox: { capacity: 1_000_000 },
    handlers: { tick: () => undefined, echo: (m) => ({ ok: true, seq: m.seq }) },
  });
  const meter = new WindowMeter();
  const lat: number[] = [];
  let seq = 0;
  let sink = 0;
  const worker = async (): Promise<void> => {
    while (!meter.finished) {
      const t0 = inflight === 1 ? process.hrtime.bigint() : 0n;
      const r = await ref.ask('echo', msg(seq++));
      sink += r.seq;
      if (inflight === 1 && meter.measuring) lat.push(Number(process.hrtime.bigint() - t0) / 1e3);
      meter.tick();
    }
  };
  await Promise.all(Array.from({ length: inflight }, worker));
  const r = await meter.done;
  await sys.shutdown();
  const p = percentiles(lat);
  if (inflight === 1) out(`cloudstackd.inproc.ask.k1${strict ? '.strict' : ''}`, 'rtt_p50', p.p50, 'us', { p99_us: p.p99, rps: r.rate, sink: sink > 0 ? 1 : 0 });
  else out(`cloudstackd.inproc.ask.k${inflight}${strict ? '.strict' : ''}`, 'throughput', r.rate, 'req/s', { inflight });
}

function out(name: string, metric: string, value: number, unit: string, extra: Record<string, number>): void {
  console.log(JSON.stringify({ name, metric, value: Number(value.toPrecision(6)), unit, ...extra }));
}

const mode = process.argv[2];
if (mode === 'tell') await tellCase(Number(flag('actors', '1')), Number(flag('batch', '1000')));
else if (mode === 'ask') await askCase(Number(flag('inflight', '1')));
else { console.error('usage: inproc-case tell --actors N | ask --inflight K [--strict]'); process.exit(2); }
