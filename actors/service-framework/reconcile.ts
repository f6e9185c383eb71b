/**
 * One reconciliation round, as a pure function of what is wanted (the component services), what the
 * launchers report, and the restart history: which instances to launch (new or restarted), which to
 * stop, and which components just went into a crash loop. The acting framework carries it out.
 */
import type { ComponentService } from '../data/protocol.js';
import type { InstanceInfo, LauncherReport } from '../launcher/protocol.js';
import { choose, nextInstanceId, planned } from './placement.js';
import { newRecord, recordExit, type RestartOptions, type RestartRecord } from '../../src/restart-backoff.js';

export type Action =
  | { kind: 'launch'; node: string; instance: string; role: string; args: string[]; restart: boolean }
  | { kind: 'stop'; node: string; instance: string; why: string }
  | { kind: 'crash-loop'; component: string; instance: string; failures: number; lastError: string }
  | { kind: 'unplaced'; component: string; missing: number };

/** What the framework remembers between rounds (lost on takeover: the new one starts its history afresh). */
export interface RestartBook {
  /** Per instance id. */
  records: Map<string, RestartRecord>;
  /** Exits already counted, `<instance>@<startedAt>`. */
  seen: Set<string>;
}

export function newBook(): RestartBook {
  return { records: new Map(), seen: new Set() };
}

/** Arguments every instance of a component gets before the spec's own. */
export function defaultArgs(component: string): string[] {
  // An API instance takes a free port: several share one machine.
  return component === 'api' ? ['--port', '0'] : [];
}

const isLive = (i: InstanceInfo): boolean => i.state === 'starting' || i.state === 'running';

interface Placed { node: string; info: InstanceInfo }

export function plan(specs: readonly ComponentService[], reports: readonly LauncherReport[], book: RestartBook, now: number,
  o: RestartOptions): Action[] {
  const actions: Action[] = [];
  const work = reports.map((r) => ({ ...r, instances: [...r.instances] }));
  const used = new Set(work.flatMap((r) => r.instances.map((i) => i.instance)));
  const all: Placed[] = work.flatMap((r) => r.instances.map((info) => ({ node: r.node, info })));
  forgetVanished(book, used);
  for (const spec of specs) {
    const mine = all.filter((p) => p.info.role === spec.name);
    countExits(spec, mine, book, now, o, actions);
    if (spec.state !== 'Enabled' || actions.some((a) => a.kind === 'crash-loop' && a.component === spec.name)) continue;
    const live = mine.filter((p) => isLive(p.info));
    const waiting = mine.filter((p) => p.info.state === 'exited' && book.records.get(p.info.instance)?.gaveUp !== true);
    const args = [...defaultArgs(spec.name), ...spec.args];
    let surplus = live.length + waiting.length - spec.desired;
    // Too many: drop instances waiting for a restart first, then the newest live ones.
    for (const p of waiting) {
      if (surplus <= 0) break;
      actions.push({ kind: 'stop', node: p.node, instance: p.info.instance, why: 'scaled in' });
      surplus--;
    }
    const newestFirst = [...live].sort((a, b) => b.info.startedAt - a.info.startedAt);
    for (const p of newestFirst) {
      if (surplus <= 0) break;
      actions.push({ kind: 'stop', node: p.node, instance: p.info.instance, why: 'scaled in' });
      surplus--;
    }
    // Restarts whose backoff has run out, on the launcher that ran them.
    if (surplus >= 0) {
      for (const p of waiting) {
        const r = book.records.get(p.info.instance);
        if (r !== undefined && r.nextAt <= now) actions.push({ kind: 'launch', node: p.node, instance: p.info.instance, role: spec.name, args, restart: true });
      }
    }
    // Missing: placed on the best launcher (instances of a lost node are simply no longer reported).
    let missing = -surplus;
    while (missing > 0) {
      const target = choose(work, spec.name, spec.labels, spec.spread);
      if (target === undefined) { actions.push({ kind: 'unplaced', component: spec.name, missing }); break; }
      const instance = nextInstanceId(spec.name, used);
      used.add(instance);
      planned(target, { instance, role: spec.name, pid: 0, state: 'starting', restarts: 0, startedAt: now });
      actions.push({ kind: 'launch', node: target.node, instance, role: spec.name, args, restart: false });
      missing--;
    }
  }
  return actions;
}

/** Counts each new exit once; an instance past its failure budget becomes a crash loop. */
function countExits(spec: ComponentService, mine: readonly Placed[], book: RestartBook, now: number, o: RestartOptions, actions: Action[]): void {
  for (const p of mine) {
    if (p.info.state !== 'exited') continue;
    const key = `${p.info.instance}@${p.info.startedAt}`;
    if (book.seen.has(key)) continue;
    book.seen.add(key);
    const ranMs = (p.info.exitedAt ?? now) - p.info.startedAt;
    const before = book.records.get(p.info.instance) ?? newRecord();
    const after = recordExit(before, now, ranMs, o);
    book.records.set(p.info.instance, after);
    if (after.gaveUp && !before.gaveUp && spec.state === 'Enabled') {
      actions.push({ kind: 'crash-loop', component: spec.name, instance: p.info.instance, failures: after.failures.length,
        lastError: p.info.lastError ?? `exit code ${p.info.exitCode ?? '?'}` });
    }
  }
}

/** Drops the history of instances no launcher reports any more (bounded by what runs). */
function forgetVanished(book: RestartBook, reported: ReadonlySet<string>): void {
  for (const id of book.records.keys()) if (!reported.has(id)) book.records.delete(id);
  for (const key of book.seen) if (!reported.has(key.slice(0, key.lastIndexOf('@')))) book.seen.delete(key);
}

/** Clears the history of a component's instances (an operator re-enabled it after a crash loop). */
export function forgive(book: RestartBook, component: string, reports: readonly LauncherReport[]): void {
  for (const r of reports) for (const i of r.instances) if (i.role === component) book.records.delete(i.instance);
}
