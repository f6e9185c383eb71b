import { LimitExceededError } from '../../src/errors.js';
import { COMPUTE_DEFAULTS } from './config.js';
import type { MockConfig, MockState } from './protocol.js';

/**
 * Simulator failure injection with the semantics of CloudStack's configureSimulator:
 * - `name` is the agent command to intercept (compared without regard to case, as MySQL does);
 * - `value` holds `;`-separated `key:value` options: `result:fail` (a negative answer), `result:fault`
 *   (an exception), `wait:<ms>` (delay before answering), `enabled:true|false`, `timeout:<n>`;
 *   options combine (`wait:2000;result:fail` waits, then fails); unknown keys are ignored;
 * - `count` is how many times the mock fires (absent: forever);
 * - scope `zoneId`/`podId`/`clusterId`/`hostId`: a mock applies to hosts matching every field it sets;
 *   among the mocks that apply, the most specific wins (host > cluster > pod > zone > global), and the
 *   first installed among equals (CloudStack orders by id).
 *
 * Deliberate differences from CloudStack, each for a reason:
 * - a use is counted when the mock is chosen, before any wait, so two concurrent commands cannot both
 *   take the last use of a `count=1` mock (CloudStack decrements after answering, inside a DB lock);
 * - a `result:fault` use is counted too (CloudStack's exception path skips the decrement, so a counted
 *   fault mock never runs out);
 * - a mock that is used up or `enabled:false` no longer hides a less specific one (in CloudStack the
 *   first row found shadows the others even at count 0);
 * - `timeout:<n>` is parsed and kept but changes nothing: CloudStack passes it only to security-group
 *   commands, which this simulator does not have; `jsonresponse` is not supported.
 */

export type MockResult = 'fail' | 'fault';

export interface MockOptions {
  /** Outcome after any wait; undefined: the command runs normally after the wait. */
  result: MockResult | undefined;
  /** Delay before answering, ms (0: none). */
  waitMs: number;
  /** The `timeout` option, kept for inspection only. */
  timeout: number | undefined;
  /** A disabled mock never fires and is never used up. */
  enabled: boolean;
}

export interface ParsedMockValue {
  options: MockOptions;
  /** Parts of the value that were ignored, each with the reason (the API may refuse them up front). */
  problems: string[];
}

/** Parses a mock's `value`; never throws (CloudStack logs and skips what it cannot read). */
export function parseMockValue(value: string): ParsedMockValue {
  const options: MockOptions = { result: undefined, waitMs: 0, timeout: undefined, enabled: true };
  const problems: string[] = [];
  for (const raw of value.split(';')) {
    const part = raw.trim();
    if (part === '') continue;
    const colon = part.indexOf(':');
    if (colon < 0) { problems.push(`"${part}" is not key:value`); continue; }
    const k = part.slice(0, colon).trim().toLowerCase();
    const v = part.slice(colon + 1).trim();
    applyOption(options, problems, k, v);
  }
  return { options, problems };
}

function applyOption(options: MockOptions, problems: string[], k: string, v: string): void {
  switch (k) {
    case 'result': {
      const r = v.toLowerCase();
      if (r === 'fail' || r === 'fault') options.result = r;
      else problems.push(`result:${v} is neither fail nor fault`);
      return;
    }
    case 'wait': case 'timeout': {
      const n = /^\d{1,10}$/.test(v) ? Number(v) : NaN;
      if (!Number.isSafeInteger(n)) { problems.push(`${k}:${v} is not a whole number of milliseconds`); return; }
      if (k === 'wait') options.waitMs = n;
      else options.timeout = n;
      return;
    }
    case 'enabled': {
      const b = v.toLowerCase();
      if (b !== 'true' && b !== 'false') problems.push(`enabled:${v} is neither true nor false (read as false)`);
      options.enabled = b === 'true'; // Boolean.parseBoolean: anything but "true" is false
      return;
    }
    default:
      problems.push(`unknown option ${k} (ignored)`);
  }
}

/** Where a host sits; `hostIds` are every identifier a mock's hostId may name it by (uuid, name). */
export interface MockScope {
  zone: string;
  pod: string;
  cluster: string;
  hostIds: readonly string[];
}

/** A mock chosen for one command: what the caller must do. */
export interface MockHit {
  id: string;
  name: string;
  result: MockResult | undefined;
  waitMs: number;
}

/** 4 for a host-scoped mock, 3 cluster, 2 pod, 1 zone, 0 global. */
export function specificity(m: Pick<MockConfig, 'zoneId' | 'podId' | 'clusterId' | 'hostId'>): number {
  if (m.hostId !== undefined) return 4;
  if (m.clusterId !== undefined) return 3;
  if (m.podId !== undefined) return 2;
  return m.zoneId !== undefined ? 1 : 0;
}

/** True when every scope field the mock sets matches the host. */
export function scopeMatches(m: Pick<MockConfig, 'zoneId' | 'podId' | 'clusterId' | 'hostId'>, s: MockScope): boolean {
  return (m.zoneId === undefined || m.zoneId === s.zone)
    && (m.podId === undefined || m.podId === s.pod)
    && (m.clusterId === undefined || m.clusterId === s.cluster)
    && (m.hostId === undefined || s.hostIds.includes(m.hostId));
}

interface Entry {
  readonly config: MockConfig;
  readonly options: MockOptions;
  readonly rank: number;
  /** Uses left; null: unlimited. */
  remaining: number | null;
  hits: number;
}

export interface MockTableOptions {
  /** Most mocks installed at once. Default COMPUTE_DEFAULTS.maxMocks (1,000). */
  maxMocks?: number;
}

/**
 * The mocks a simulator applies. One table may be shared by every simulated host of a process, so that
 * a `count` is spent across hosts as in CloudStack (a `StartCommand result:fail count=1` fails one
 * start in the zone, not one per host). Hosts in other processes hold their own table and count apart.
 */
export class SimulatorMockTable {
  private readonly byName = new Map<string, Entry[]>();
  private readonly byId = new Map<string, Entry>();
  private readonly maxMocks: number;

  constructor(options: MockTableOptions = {}) {
    this.maxMocks = options.maxMocks ?? COMPUTE_DEFAULTS.maxMocks;
  }

  get size(): number {
    return this.byId.size;
  }

  /**
   * Makes `mocks` the installed set. A mock whose id and revision are already installed keeps its
   * remaining count and hits (so the same list may be pushed to every host sharing the table); a new
   * id or revision starts from its configured count. Returns the number of mocks installed.
   */
  set(mocks: readonly MockConfig[]): number {
    if (mocks.length > this.maxMocks) {
      throw new LimitExceededError(`${mocks.length} simulator mocks exceed maxMocks (${this.maxMocks}); clean up unused mocks`);
    }
    const next = new Map<string, Entry>();
    for (const config of mocks) {
      const old = this.byId.get(config.id);
      const kept = old !== undefined && old.config.revision === config.revision ? old : undefined;
      next.set(config.id, kept ?? {
        config, options: parseMockValue(config.value).options, rank: specificity(config),
        remaining: config.count ?? null, hits: 0,
      });
    }
    this.byId.clear();
    this.byName.clear();
    for (const [mockId, e] of next) {
      this.byId.set(mockId, e);
      const k = e.config.name.toLowerCase();
      const list = this.byName.get(k);
      if (list === undefined) this.byName.set(k, [e]);
      else list.push(e);
    }
    return this.byId.size;
  }

  list(): MockState[] {
    return [...this.byId.values()].map((e) => ({
      id: e.config.id, name: e.config.name, value: e.config.value, revision: e.config.revision,
      remaining: e.remaining, hits: e.hits,
    }));
  }

  /** Chooses the mock for `command` on a host in `scope` and spends one of its uses. */
  take(command: string, scope: MockScope): MockHit | undefined {
    const list = this.byName.get(command.toLowerCase());
    if (list === undefined) return undefined;
    let best: Entry | undefined;
    for (const e of list) {
      if (!e.options.enabled || e.remaining === 0 || !scopeMatches(e.config, scope)) continue;
      if (best === undefined || e.rank > best.rank) best = e;
    }
    if (best === undefined) return undefined;
    if (best.remaining !== null) best.remaining--;
    best.hits++;
    return { id: best.config.id, name: best.config.name, result: best.options.result, waitMs: best.options.waitMs };
  }
}
