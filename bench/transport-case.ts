/**
 * One transport case per process, between two processes (this one and a forked server node), printing
 * one JSON summary line like the peer scripts; shared by ws-case.ts and redis-case.ts:
 *   node dist/bench/<transport>-case.js ask --inflight 1|1000
 *   node dist/bench/<transport>-case.js tell
 * The server node hosts /bench (an echo). Tells are metered on the server, which hands credits back
 * over IPC so the client never runs more than AHEAD messages ahead (as the peer scripts do).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { silentLogger } from '../src/logger.js';
import { Node } from '../src/node.js';
import { ask, defineProtocol, tell } from '../src/protocol.js';
import { t } from '../src/schema.js';
import type { Transport } from '../src/transport.js';
import { WindowMeter, percentiles } from './lib.js';

// The peer scripts' ~100-byte message (lib/util.mjs makeSmallMessageFactory), as a typed protocol.
const Tick = t.object({ to: t.string(), from: t.string(), id: t.string(), type: t.string(), seq: t.number(), pad: t.string() });
const BenchProtocol = defineProtocol('bench', '1.0', {
  tick: tell(Tick),
  echo: ask(Tick, t.object({ ok: t.boolean(), seq: t.number() })),
});

const AHEAD = 20_000;
const CLUSTER = 'bench';
const SECRET = 'bench-secret-of-at-least-16-bytes';
const pad = 'x'.repeat(40);
const msg = (seq: number): { to: string; from: string; id: string; type: string; seq: number; pad: string } =>
  ({ to: 'bench/sink', from: 'bench/src', id: 'V1StGXR8_Z5jdHi6B-myT', type: 'Tick', seq, pad });
const flag = (name: string, def: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : def;
};

/** How one transport is set up for the two bench processes. */
export interface TransportBench {
  /** Name used in the summary lines: cloudstackd.<name>.ask.k1 ... */
  name: string;
  make(nodeId: string, cluster: string, secret: string): Transport;
  /** Client side: makes the server node reachable and returns its node id. */
  reach(node: Node, serverAddress: string | undefined): Promise<string>;
}

async function startNode(bench: TransportBench, nodeId: string): Promise<Node> {
  const transport = bench.make(nodeId, CLUSTER, SECRET);
  const node = new Node({ nodeId, transport, logger: silentLogger, maxPendingAsks: 1_000_000 });
  await node.start();
  return node;
}

/** The server process: hosts /bench, meters tells and reports credits and the result over IPC. */
async function server(bench: TransportBench): Promise<void> {
  const node = await startNode(bench, 'bench-server');
  let meter: WindowMeter | undefined; // created on 'go', so the warm-up starts with the traffic
  let received = 0;
  node.system.spawn('/bench', {
    protocol: BenchProtocol,
    mailbox: { capacity: 1_000_000 },
    handlers: {
      tick: () => {
        meter?.tick();
        if (++received % 1_000 === 0 && meter?.finished !== true) process.send!({ acked: received });
      },
      echo: (m) => ({ ok: true, seq: m.seq }),
    },
  });
  process.on('message', (m: { go?: boolean }) => {
    if (!m.go) return;
    meter = new WindowMeter();
    void meter.done.then((r) => process.send!({ rate: r.rate }));
  });
  process.on('disconnect', () => { void node.stop().finally(() => process.exit(0)); });
  process.send!({ ready: true, address: node.transport!.address() });
}

async function startServer(): Promise<{ child: ChildProcess; address: string | undefined }> {
  const file = process.argv[1]!;
  // The child inherits this process's node flags (--import tsx under tsx, --cpu-prof when profiling).
  const child = fork(file, ['--server'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const [m] = await once(child, 'message') as [{ ready?: boolean; address?: string }];
  if (!m.ready) throw new Error('bench server failed to start');
  return { child, address: m.address };
}

async function askCase(name: string, node: Node, server: string, inflight: number): Promise<void> {
  const ref = node.system.ref({ node: server, path: '/bench' }, BenchProtocol);
  const meter = new WindowMeter();
  const lat: number[] = [];
  let seq = 0;
  let sink = 0;
  const worker = async (): Promise<void> => {
    while (!meter.finished) {
      const t0 = inflight === 1 ? process.hrtime.bigint() : 0n;
      const r = await ref.ask('echo', msg(seq++), { timeoutMs: 30_000 });
      sink += r.seq;
      if (inflight === 1 && meter.measuring) lat.push(Number(process.hrtime.bigint() - t0) / 1e3);
      meter.tick();
    }
  };
  await Promise.all(Array.from({ length: inflight }, worker));
  const r = await meter.done;
  const p = percentiles(lat);
  if (inflight === 1) out(`cloudstackd.${name}.ask.k1`, 'rtt_p50', p.p50, 'us', { p99_us: p.p99, rps: r.rate, sink: sink > 0 ? 1 : 0 });
  else out(`cloudstackd.${name}.ask.k${inflight}`, 'throughput', r.rate, 'req/s', { inflight });
}

async function tellCase(name: string, node: Node, server: string, child: ChildProcess): Promise<void> {
  const ref = node.system.ref({ node: server, path: '/bench' }, BenchProtocol);
  let sent = 0;
  let acked = 0;
  let done = false;
  // A few thousand tells per turn (one frame per turn), held back by the server's credits.
  const pump = (): void => {
    if (done) return;
    for (let i = 0; i < 2_000 && sent - acked < AHEAD; i++) ref.tell('tick', msg(sent++));
    setImmediate(pump);
  };
  const result = new Promise<number>((resolve) => child.on('message', (m: { acked?: number; rate?: number }) => {
    if (m.acked !== undefined) acked = m.acked;
    if (m.rate !== undefined) resolve(m.rate);
  }));
  child.send({ go: true });
  pump();
  const rate = await result;
  done = true;
  out(`cloudstackd.${name}.tell`, 'throughput', rate, 'msg/s', {});
}

function out(name: string, metric: string, value: number, unit: string, extra: Record<string, number>): void {
  console.log(JSON.stringify({ name, metric, value: Number(value.toPrecision(6)), unit, ...extra }));
}

async function main(bench: TransportBench): Promise<void> {
  const mode = process.argv[2];
  if (mode !== 'ask' && mode !== 'tell') { console.error(`usage: ${bench.name}-case ask --inflight K | tell`); process.exit(2); }
  const { child, address } = await startServer();
  const node = await startNode(bench, 'bench-client');
  const server = await bench.reach(node, address);
  if (mode === 'ask') await askCase(bench.name, node, server, Number(flag('inflight', '1')));
  else await tellCase(bench.name, node, server, child);
  await node.stop();
  child.disconnect();
  await once(child, 'exit');
}

/** Entry of a <transport>-case script: the server half when forked with --server, else the client. */
export async function runTransportCase(bench: TransportBench): Promise<void> {
  if (process.argv.includes('--server')) await server(bench);
  else await main(bench);
}
