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
  rev: number;
  sorted: string[];
}

/** The keys this node publishes, per service, with their revisions. */
export class KeyTable {
  private readonly sets = new Map<string, KeySet>();
  private revs = 0;

  constructor(private readonly maxKeys = DEFAULT_MAX_KEYS) {}

  /** Replaces the keys of `service`; returns the new revision. */
  set(service: string, keys: Iterable<string>): number {
    const sorted = [...new Set(keys)].sort();
    if (sorted.length > this.maxKeys) {
      throw new LimitExceededError(`${sorted.length} keys for service ${service} is over the limit of ${this.maxKeys}: run fewer instances per node`);
    }
    for (const k of sorted) {
      if (k.length === 0 || k.length > MAX_KEY_LENGTH || k.includes('/')) {
        throw new InvalidParameterError(`key ${JSON.stringify(k.slice(0, 200))} of service ${service} must be 1-${MAX_KEY_LENGTH} characters without "/"`);
      }
    }
    // Revisions only grow, across services too, so a withdrawn and re-added service never repeats one.
    const rev = ++this.revs;
    this.sets.set(service, { rev, sorted });
    return rev;
  }

  delete(service: string): boolean {
    return this.sets.delete(service);
  }

  page(service: string, after: string | undefined): { rev: number; keys: string[]; more: boolean } {
    const set = this.sets.get(service);
    if (set === undefined) return { rev: 0, keys: [], more: false };
    const from = after === undefined ? 0 : firstAfter(set.sorted, after);
    const keys = set.sorted.slice(from, from + KEYS_PER_PAGE);
    return { rev: set.rev, keys, more: from + keys.length < set.sorted.length };
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
