/**
 * A node's Prometheus endpoint (`--metrics-port`, off by default; on for every process under `up`):
 * prom-client metrics over the runtime (mailbox depth and handling time per component, asks and their
 * latency by protocol and message, dead letters), the transport (frames, bytes, reconnects, refusals),
 * gossip (members, suspicions, dead verdicts), the API (requests by command and status, latency), and
 * the service framework (launches, restarts, stops, scale changes, crash loops, the acting lease).
 * Figures the runtime already counts are read at scrape time; the rest come from hooks.
 */
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry, type Metric } from 'prom-client';
import type { GossipNode } from '../src/cluster/gossip-node.js';
import type { Node } from '../src/node.js';
import type { RuntimeObserver, TimingStat } from '../src/observer.js';

/** Latency buckets, seconds: 0.1 ms to 10 s, about three per decade. */
const BUCKETS = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** What an orchestrator reports of its jobs (OrchestratorStats). */
export interface JobFigures {
  active: number; succeeded: number; failed: number; recovered: number; takenOver?: number; lostLeases?: number; leases?: number;
  latency?: { boundsMs: number[]; counts: number[]; sumMs: number; count: number };
}

/** A leased singleton's figures: whether this node acts now, and how many times it became the acting instance. */
export interface SingletonFigures {
  active(): boolean;
  activations(): number;
}

export interface MetricsEndpoint {
  readonly registry: Registry;
  /** The URL it serves, once listening. */
  readonly url: string;
  /** For the API component (server option onRequest). */
  onApiRequest(command: string, status: number, ms: number): void;
  /** Figures read at scrape time from components started later (the service framework's counters). */
  addSource(read: () => Record<string, number>): void;
  /** An orchestrator on this node: its jobs by state and its job leases, read at scrape time. */
  addJobs(read: () => Promise<JobFigures>): void;
  /** A leased singleton on this node (fabric monitor, fabric admin, service framework): acting or not, and how often it took the lease. */
  addSingleton(lease: string, read: SingletonFigures): void;
  close(): Promise<void>;
}

/** The component an actor path belongs to: its first segment (`/compute/host-7` → compute). */
function componentOf(path: string): string {
  const i = path.indexOf('/', 1);
  return i < 0 ? path.slice(1) : path.slice(1, i);
}

/** A counter whose value is read from a running total at scrape time. */
function readCounter(registry: Registry, name: string, help: string, labelNames: string[], read: () => [Record<string, string>, number][]): void {
  const last = new Map<string, number>();
  new Counter({ name, help, labelNames, registers: [registry], collect() {
    for (const [labels, total] of read()) {
      const key = JSON.stringify(labels);
      const delta = total - (last.get(key) ?? 0);
      if (delta > 0) this.inc(labels, delta);
      last.set(key, total);
    }
  } });
}

/** One in this many asks and messages is timed (every one is counted): timing all would cost the runtime far more than 5 %. */
export const SAMPLE_EVERY = 16;

/** Counts and sampled latencies of one (protocol, message) or one component, read at scrape time. */
class SampledStat implements TimingStat {
  ok = 0;
  failed = 0;
  timed = 0;
  sum = 0;
  readonly buckets = new Float64Array(BUCKETS.length);
  private n = 0;

  begin(): number {
    return ++this.n % SAMPLE_EVERY === 0 ? performance.now() : -1;
  }

  record(begun: number, ok: boolean): void {
    if (ok) this.ok++; else this.failed++;
    if (begun < 0) return;
    const s = (performance.now() - begun) / 1_000;
    this.timed++;
    this.sum += s;
    let i = 0;
    while (i < BUCKETS.length && s > BUCKETS[i]!) i++;
    if (i < BUCKETS.length) this.buckets[i]!++;
  }
}

type Labels = Record<string, string>;
interface Sample { value: number; labels: Labels; metricName?: string }

/** A prom-client metric read from plain stats at scrape time (the runtime never calls prom-client itself). */
function statMetrics(registry: Registry, o: { name: string; help: string; unit: string; stats: () => Iterable<[Labels, SampledStat]> }): void {
  registry.registerMetric({
    name: `${o.name}_total`, help: `${o.help}, by outcome`,
    get: async () => ({ name: `${o.name}_total`, help: `${o.help}, by outcome`, type: 'counter', aggregator: 'sum',
      values: [...o.stats()].flatMap(([labels, s]): Sample[] => [{ value: s.ok, labels: { ...labels, outcome: 'ok' } }, { value: s.failed, labels: { ...labels, outcome: 'error' } }]) }),
  } as unknown as Metric);
  const hist = `${o.name}_${o.unit}`;
  registry.registerMetric({
    name: hist, help: `${o.help}: latency of one in ${SAMPLE_EVERY}`,
    get: async () => ({ name: hist, help: `${o.help}: latency of one in ${SAMPLE_EVERY}`, type: 'histogram', aggregator: 'sum',
      values: [...o.stats()].flatMap(([labels, s]): Sample[] => {
        let cumulative = 0;
        const out: Sample[] = BUCKETS.map((le, i) => { cumulative += s.buckets[i]!; return { value: cumulative, labels: { ...labels, le: String(le) }, metricName: `${hist}_bucket` }; });
        out.push({ value: s.timed, labels: { ...labels, le: '+Inf' }, metricName: `${hist}_bucket` },
          { value: s.sum, labels, metricName: `${hist}_sum` }, { value: s.timed, labels, metricName: `${hist}_count` });
        return out;
      }) }),
  } as unknown as Metric);
}

/** The runtime hooks, recording into `registry`: asks by protocol, message and outcome; messages handled per component. */
export function runtimeObserver(registry: Registry): RuntimeObserver {
  const asks = new Map<string, Map<string, SampledStat>>();
  const components = new Map<string, SampledStat>();
  statMetrics(registry, { name: 'cloudstackd_asks', help: 'Asks from this node by protocol and message', unit: 'seconds',
    stats: function* () { for (const [protocol, m] of asks) for (const [message, s] of m) yield [{ protocol, message }, s]; } });
  statMetrics(registry, { name: 'cloudstackd_messages', help: 'Messages handled by the actors of each component', unit: 'seconds',
    stats: function* () { for (const [component, s] of components) yield [{ component }, s]; } });
  // The last stat asked for: a caller usually sends the same message again and again.
  let lastProtocol = '';
  let lastType = '';
  let last: SampledStat | undefined;
  return {
    askStat: (protocol, type) => {
      if (protocol === lastProtocol && type === lastType && last !== undefined) return last;
      let m = asks.get(protocol);
      if (m === undefined) { m = new Map(); asks.set(protocol, m); }
      let s = m.get(type);
      if (s === undefined) { s = new SampledStat(); m.set(type, s); }
      lastProtocol = protocol;
      lastType = type;
      last = s;
      return s;
    },
    handlingStat: (path) => {
      const component = componentOf(path);
      let s = components.get(component);
      if (s === undefined) { s = new SampledStat(); components.set(component, s); }
      return s;
    },
  };
}

export async function startMetricsEndpoint(node: Node, gossip: GossipNode, o: { host: string; port: number }): Promise<MetricsEndpoint> {
  const registry = new Registry();
  const system = node.system;
  system.observer = runtimeObserver(registry);
  new Gauge({ name: 'cloudstackd_mailbox_depth', help: 'Messages waiting in the mailboxes of each component', labelNames: ['component'], registers: [registry],
    collect() {
      this.reset();
      const by = new Map<string, number>();
      for (const b of system.mailboxes(Number.MAX_SAFE_INTEGER).busiest) by.set(componentOf(b.path), (by.get(componentOf(b.path)) ?? 0) + b.queued);
      for (const [component, n] of by) this.set({ component }, n);
    } });
  new Gauge({ name: 'cloudstackd_asks_in_flight', help: 'Asks from this node waiting for a reply', registers: [registry],
    collect() { this.set(system.stats().pendingAsks); } });
  readCounter(registry, 'cloudstackd_dead_letters_total', 'Messages to actors that do not exist', [], () => [[{}, system.stats().deadLetters]]);
  const transport = node.transport;
  if (transport !== undefined) {
    const t = (k: string): number => transport.stats()[k] ?? 0;
    readCounter(registry, 'cloudstackd_transport_frames_total', 'Transport frames', ['direction'], () => [[{ direction: 'sent' }, t('framesSent')], [{ direction: 'received' }, t('framesReceived')]]);
    readCounter(registry, 'cloudstackd_transport_bytes_total', 'Transport bytes', ['direction'], () => [[{ direction: 'sent' }, t('bytesSent')], [{ direction: 'received' }, t('bytesReceived')]]);
    readCounter(registry, 'cloudstackd_transport_reconnects_total', 'Connections re-established to a peer', [], () => [[{}, t('reconnects')]]);
    readCounter(registry, 'cloudstackd_transport_refusals_total', 'Peers refused at the handshake, and refusals by peers', ['by'],
      () => [[{ by: 'this node' }, t('authFailures')], [{ by: 'peer' }, t('refusedByPeer')]]);
  }
  new Gauge({ name: 'cloudstackd_gossip_members', help: 'Members by status', labelNames: ['status'], registers: [registry],
    collect() { for (const [status, n] of Object.entries(gossip.membership.stats().members)) this.set({ status }, n); } });
  readCounter(registry, 'cloudstackd_gossip_suspicions_total', 'Members this node suspected', [], () => [[{}, gossip.membership.stats().suspicionsRaised]]);
  readCounter(registry, 'cloudstackd_gossip_dead_verdicts_total', 'Members this node declared dead', [], () => [[{}, gossip.membership.stats().deathsDeclared]]);
  const apiRequests = new Histogram({ name: 'cloudstackd_api_request_seconds', help: 'API requests by command and HTTP status, and their latency',
    labelNames: ['command', 'status'], buckets: BUCKETS, registers: [registry] });
  const sources: (() => Record<string, number>)[] = [];
  readCounter(registry, 'cloudstackd_framework_events_total', 'Service framework actions: launches, restarts, stops, scale changes, crash loops',
    ['event'], () => sources.flatMap((read) => Object.entries(read()).map(([event, n]): [Record<string, string>, number] => [{ event }, n])));

  let jobs: (() => Promise<JobFigures>) | undefined;
  let lastJobs: JobFigures | undefined;
  new Gauge({ name: 'cloudstackd_jobs', help: 'Jobs of this node\'s orchestrator running or waiting', labelNames: ['state'], registers: [registry],
    collect() { if (lastJobs !== undefined) this.set({ state: 'active' }, lastJobs.active); } });
  // Every job figure comes from the orchestrator's answer fetched just before the scrape (see the server below).
  readCounter(registry, 'cloudstackd_jobs_finished_total', 'Jobs this node\'s orchestrator finished, by outcome', ['outcome'],
    () => (lastJobs === undefined ? [] : [[{ outcome: 'succeeded' }, lastJobs.succeeded], [{ outcome: 'failed' }, lastJobs.failed], [{ outcome: 'recovered' }, lastJobs.recovered]]));
  new Gauge({ name: 'cloudstackd_leases_held', help: 'Job leases this node\'s orchestrator holds', registers: [registry],
    collect() { if (lastJobs?.leases !== undefined) this.set(lastJobs.leases); } });
  readCounter(registry, 'cloudstackd_lease_takeovers_total', 'Job leases taken over from a lost owner, and leases this node lost', ['kind'],
    () => (lastJobs === undefined ? [] : [[{ kind: 'taken over' }, lastJobs.takenOver ?? 0], [{ kind: 'lost' }, lastJobs.lostLeases ?? 0]]));

  const singletons = new Map<string, SingletonFigures>();
  new Gauge({ name: 'cloudstackd_singleton_acting', help: 'Leased singletons on this node: 1 while this node is the acting instance', labelNames: ['lease'],
    registers: [registry], collect() { for (const [lease, f] of singletons) this.set({ lease }, f.active() ? 1 : 0); } });
  readCounter(registry, 'cloudstackd_singleton_activations_total', 'Times this node took a singleton\'s lease and became its acting instance (a takeover, or the first start)',
    ['lease'], () => [...singletons].map(([lease, f]): [Record<string, string>, number] => [{ lease }, f.activations()]));

  registry.registerMetric({
    name: 'cloudstackd_job_seconds', help: 'Time of the jobs this node\'s orchestrator finished, from when it began running each',
    get: async () => {
      const l = lastJobs?.latency;
      const values: Sample[] = [];
      if (l !== undefined) {
        let cumulative = 0;
        l.boundsMs.forEach((b, i) => { cumulative += l.counts[i] ?? 0; values.push({ value: cumulative, labels: { le: String(b / 1_000) }, metricName: 'cloudstackd_job_seconds_bucket' }); });
        values.push({ value: l.count, labels: { le: '+Inf' }, metricName: 'cloudstackd_job_seconds_bucket' },
          { value: l.sumMs / 1_000, labels: {}, metricName: 'cloudstackd_job_seconds_sum' }, { value: l.count, labels: {}, metricName: 'cloudstackd_job_seconds_count' });
      }
      return { name: 'cloudstackd_job_seconds', help: 'Time of the jobs this node\'s orchestrator finished, from when it began running each', type: 'histogram', aggregator: 'sum', values };
    },
  } as unknown as Metric);

  const server: Server = createServer((req, res) => {
    if (req.url !== '/metrics') { res.writeHead(404).end('metrics are at /metrics\n'); return; }
    // The orchestrator's figures are asked for once, before every collector reads them.
    const fresh = jobs === undefined ? Promise.resolve() : jobs().then((j) => { lastJobs = j; }, () => undefined);
    fresh.then(() => registry.metrics()).then((text) => { res.writeHead(200, { 'Content-Type': registry.contentType }).end(text); },
      (err: unknown) => { res.writeHead(500).end(String(err)); });
  });
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(o.port, o.host, () => resolve()); });
  server.unref();
  const port = (server.address() as { port: number }).port;
  return {
    registry,
    url: `http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${port}/metrics`,
    onApiRequest: (command, status, ms) => apiRequests.observe({ command, status: String(status) }, ms / 1_000),
    addSource: (read) => { sources.push(read); },
    addJobs: (read) => { jobs = read; },
    addSingleton: (lease, read) => { singletons.set(lease, read); },
    close: async () => {
      system.observer = undefined;
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
