import type { ActorDefinition } from '../actor-types.js';
import { InvalidParameterError, LimitExceededError } from '../errors.js';
import { ask, defineProtocol } from '../protocol.js';
import { t } from '../schema.js';

/**
 * The owner side of keyed services (src/registry/keyed.ts): a node that serves many instances of a
 * service keeps their keys here and answers other nodes' requests for them, a page at a time; its
 * gossip metadata carries only the service and the revision of the key set.
 */

/** Where every node that owns keyed services answers for their keys. */
export const KEYED_SERVICES_PATH = '/keyed-services';
/** Keys per reply: 1,000 host names of up to 128 characters stay far under a 1 MiB frame. */
export const KEYS_PER_PAGE = 1_000;
/** Longest key (an actor path segment: a host name). */
export const MAX_KEY_LENGTH = 128;
/**
 * Most keys one node may publish for one service: a compute process simulating hosts, say. Beyond
 * it publishing fails, as metadata over maxMetadataBytes does. Default 100,000.
 */
export const DEFAULT_MAX_KEYS = 100_000;

export const KeyedServicesProtocol = defineProtocol('keyed-services', '1.0', {
  /** The page of `service`'s keys (sorted) after `after`, with the revision it was cut from. */
  keys: ask(
    t.object({ service: t.string({ minLength: 1, maxLength: 256 }), after: t.optional(t.string({ maxLength: MAX_KEY_LENGTH })) }),
    t.object({ rev: t.number({ int: true, min: 0 }), keys: t.array(t.string(), { maxItems: KEYS_PER_PAGE }), more: t.boolean() }),
  ),
});

interface KeySet {
  /** The revision gossip advertises (set at commit). */
  rev: number;
  keys: Set<string>;
  /** Sorted keys, rebuilt on the first page read after a change. */
  sorted: string[] | undefined;
}

/** The keys this node publishes, per service, with their revisions. */
export class KeyTable {
  private readonly sets = new Map<string, KeySet>();
  private revs = 0;

  constructor(private readonly maxKeys = DEFAULT_MAX_KEYS) {}

  /** Adds one key (published at the next commit). */
  add(service: string, key: string): void {
    if (key.length === 0 || key.length > MAX_KEY_LENGTH || key.includes('/')) {
      throw new InvalidParameterError(`key ${JSON.stringify(key.slice(0, 200))} of service ${service} must be 1-${MAX_KEY_LENGTH} characters without "/"`);
    }
    let set = this.sets.get(service);
    if (set === undefined) { set = { rev: 0, keys: new Set(), sorted: undefined }; this.sets.set(service, set); }
    if (set.keys.has(key)) return;
    if (set.keys.size >= this.maxKeys) {
      throw new LimitExceededError(`service ${service} already has ${this.maxKeys} keys on this node, the limit: run fewer instances per node`);
    }
    set.keys.add(key);
    set.sorted = undefined;
  }

  /** Removes one key (published at the next commit); false when it was not there. */
  remove(service: string, key: string): boolean {
    const set = this.sets.get(service);
    if (set === undefined || !set.keys.delete(key)) return false;
    set.sorted = undefined;
    return true;
  }

  /**
   * Gives the changes made since the last commit a new revision and returns it; undefined when the
   * service has no key left (it is then forgotten). Revisions only grow, across services too, so a
   * withdrawn and re-added service never repeats one.
   */
  commit(service: string): number | undefined {
    const set = this.sets.get(service);
    if (set === undefined || set.keys.size === 0) { this.sets.delete(service); return undefined; }
    set.rev = ++this.revs;
    return set.rev;
  }

  /** Replaces every key of `service` and commits; returns the new revision. */
  set(service: string, keys: Iterable<string>): number {
    const previous = this.sets.get(service);
    this.sets.delete(service);
    try {
      for (const k of keys) this.add(service, k);
    } catch (err) {
      if (previous === undefined) this.sets.delete(service); else this.sets.set(service, previous);
      throw err;
    }
    const rev = this.commit(service);
    if (rev === undefined) throw new InvalidParameterError(`service ${service} needs at least one key`);
    return rev;
  }

  page(service: string, after: string | undefined): { rev: number; keys: string[]; more: boolean } {
    const set = this.sets.get(service);
    if (set === undefined) return { rev: 0, keys: [], more: false };
    const sorted = set.sorted ??= [...set.keys].sort();
    const from = after === undefined ? 0 : firstAfter(sorted, after);
    const keys = sorted.slice(from, from + KEYS_PER_PAGE);
    return { rev: set.rev, keys, more: from + keys.length < sorted.length };
  }
}

/** Index of the first key greater than `after` (binary search). */
function firstAfter(sorted: readonly string[], after: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= after) lo = mid + 1; else hi = mid;
  }
  return lo;
}

/** The actor at KEYED_SERVICES_PATH answering for `table`. */
export function keyedServicesActor(table: KeyTable): ActorDefinition<typeof KeyedServicesProtocol, null> {
  return {
    protocol: KeyedServicesProtocol,
    init: () => null,
    handlers: { keys: ({ service, after }) => table.page(service, after) },
  };
}
