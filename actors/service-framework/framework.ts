/**
 * The acting service framework's work: every round it reads the desired deployment from the data
 * service, asks every launcher what runs, plans (reconcile.ts) and carries the plan out — launches,
 * restarts after backoff, stops, crash-loop alerts — and scales auto-scaled components (autoscale.ts).
 * A standby that takes over starts with the launchers' reports, so it adopts what runs and launches
 * only what is missing.
 */
import type { ActorSystem } from '../../src/actor-system.js';
import type { Clock, TimerHandle } from '../../src/clock.js';
import type { ServiceDirectory } from '../../src/component.js';
import type { Logger } from '../../src/logger.js';
import type { DataApi } from '../data/protocol.js';
import type { ComponentService } from '../data/protocol.js';
import { LAUNCHER_PATH, LauncherProtocol, type LauncherReport } from '../launcher/protocol.js';
import { Autoscaler, type AutoscaleSignals } from './autoscale.js';
import type { FrameworkStatus, ServiceView } from './protocol.js';
import { forgive, newBook, plan, type Action } from './reconcile.js';
import type { RestartOptions } from '../../src/restart-backoff.js';

export interface FrameworkOptions {
  /** Time between rounds, ms. Default 1,000 (test profile 250): a crashed instance waits at most this plus its backoff. */
  roundMs: number;
  /** How long a launcher has to answer, ms. Default 5,000. */
  launcherTimeoutMs: number;
  restart: RestartOptions;
}

export interface Framework {
  status(): FrameworkStatus;
  /** Runs a round now (or waits for the one under way). */
  round(): Promise<void>;
  stop(): Promise<void>;
}

interface Deps {
  system: ActorSystem;
  services: ServiceDirectory;
  /** The data service, every call under the framework's fence. */
  data: DataApi;
  clock: Clock;
  log: Logger;
  epoch: number;
  signals: AutoscaleSignals;
}

export function startFramework(d: Deps, o: FrameworkOptions): Framework {
  const book = newBook();
  const reports = new Map<string, LauncherReport>();
  const lastState = new Map<string, string>();
  const counters = { launches: 0, restarts: 0, stops: 0, scaleChanges: 0, crashLoops: 0, rounds: 0 };
  const scaler = new Autoscaler(d.signals, d.clock);
  let specs: ComponentService[] = [];
  let running: Promise<void> | undefined;
  let stopped = false;

  const launcherRef = (node: string) => d.system.ref({ node, path: LAUNCHER_PATH }, LauncherProtocol);

  const gather = async (): Promise<LauncherReport[]> => {
    const nodes = [...new Set(d.services.registry.lookup(LauncherProtocol.name).map((i) => i.node))];
    for (const n of reports.keys()) if (!nodes.includes(n)) reports.delete(n);
    await Promise.all(nodes.map(async (node) => {
      try {
        reports.set(node, await launcherRef(node).ask('list', {}, { timeoutMs: o.launcherTimeoutMs }));
      } catch (err) {
        // A live launcher that did not answer keeps its last report: what it ran is not lost, and not launched twice.
        d.log.debug('launcher did not answer', { node, error: (err as Error).message });
      }
    }));
    return [...reports.values()];
  };

  const execute = async (a: Action): Promise<void> => {
    switch (a.kind) {
      case 'launch': {
        const info = await launcherRef(a.node).ask('launch', { instance: a.instance, role: a.role, args: a.args }, { timeoutMs: o.launcherTimeoutMs });
        if (a.restart) counters.restarts++; else counters.launches++;
        d.log.info(a.restart ? 'restarted instance' : 'launched instance', { instance: a.instance, node: a.node, pid: info.pid });
        return;
      }
      case 'stop':
        await launcherRef(a.node).ask('stop', { instance: a.instance }, { timeoutMs: o.launcherTimeoutMs + 15_000 });
        counters.stops++;
        d.log.info('stopped instance', { instance: a.instance, node: a.node, why: a.why });
        return;
      case 'crash-loop': {
        counters.crashLoops++;
        const reason = `${a.instance} exited ${a.failures} times within ${o.restart.windowMs} ms; restarts stopped. Last error: ${a.lastError}`;
        d.log.error('crash loop: not restarting', { component: a.component, instance: a.instance, failures: a.failures });
        await d.data.componentServices.setState(a.component, 'Alert', reason);
        // 29: an alert type of cloudstackd's own (CloudStack leaves numbers above its list to plugins).
        await d.data.componentServices.raiseAlert({ type: 29, name: 'ALERT.SERVICE.CRASHLOOP', subject: `component ${a.component} is crash-looping` });
        await d.data.events.create('system', { type: 'SERVICE.CRASHLOOP', level: 'ERROR', description: `component ${a.component}: ${reason}` });
        return;
      }
      case 'unplaced':
        d.log.warn('no launcher can take more instances', { component: a.component, missing: a.missing });
    }
  };

  const once = async (): Promise<void> => {
    specs = await d.data.componentServices.list();
    const now = d.clock.now();
    const seen = await gather();
    for (const s of specs) {
      if (lastState.get(s.name) === 'Alert' && s.state === 'Enabled') forgive(book, s.name, seen);
      lastState.set(s.name, s.state);
    }
    for (const change of scaler.decide(specs, seen, now)) {
      specs = specs.map((s) => (s.name === change.name ? { ...s, desired: change.desired } : s));
      await d.data.componentServices.scale(change.name, change.desired);
      await d.data.events.create('system', { type: 'SERVICE.SCALE', description: `component ${change.name}: ${change.from} -> ${change.desired} instances (${change.why})` });
      counters.scaleChanges++;
      d.log.info('scaled', { component: change.name, from: change.from, to: change.desired, why: change.why });
    }
    const actions = plan(specs, seen, book, now, o.restart);
    await Promise.all(actions.map((a) => execute(a).catch((err: unknown) => {
      d.log.warn('could not carry out an action; the next round tries again', { action: a.kind, error: (err as Error).message });
    })));
    counters.rounds++;
  };

  const round = (): Promise<void> => {
    if (stopped) return Promise.resolve();
    running ??= once().catch((err: unknown) => {
      d.log.warn('reconcile round failed; the next one tries again', { error: (err as Error).message });
    }).finally(() => { running = undefined; });
    return running;
  };

  const timer: TimerHandle = d.clock.setInterval(() => void round(), o.roundMs);
  void round();

  return {
    round,
    status: () => statusOf(d, specs, [...reports.values()], counters),
    async stop() {
      stopped = true;
      timer.cancel();
      await running;
    },
  };
}

function statusOf(d: Deps, specs: readonly ComponentService[], reports: readonly LauncherReport[], counters: FrameworkStatus['counters']): FrameworkStatus {
  const instances = reports.flatMap((r) => r.instances.map((i) => ({ ...i, node: r.node })));
  const services: ServiceView[] = specs.map((s) => {
    const mine = instances.filter((i) => i.role === s.name);
    return { ...s, running: mine.filter((i) => i.state === 'running').length, starting: mine.filter((i) => i.state === 'starting').length,
      restarts: mine.reduce((n, i) => n + i.restarts, 0) };
  });
  return { acting: d.system.nodeId, epoch: d.epoch, services, instances,
    launchers: reports.map((r) => ({ node: r.node, labels: r.labels, capacity: r.capacity, free: r.free })), counters: { ...counters } };
}
