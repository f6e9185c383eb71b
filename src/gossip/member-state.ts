import type { Suspicion } from './suspicion.js';
import type { AliveUpdate, MemberMeta, MemberSnapshot, MemberStatus, NodeId, Update } from './messages.js';

/**
 * A member's state as one node sees it. Versions are ordered by (epoch, incarnation): the epoch
 * changes when the process restarts (so a restarted node supersedes its old incarnation at once, even
 * one recorded as dead); the incarnation is bumped by the member itself to refute a suspicion or to
 * publish new metadata.
 */
export interface MemberInfo {
  readonly id: NodeId;
  readonly epoch: number;
  readonly incarnation: number;
  readonly status: MemberStatus;
  readonly meta: MemberMeta;
  /** Clock time of the last status change. */
  readonly since: number;
}

/** The mutable record a membership keeps per member (internal). */
export interface MemberRecord {
  readonly id: NodeId;
  epoch: number;
  inc: number;
  status: MemberStatus;
  meta: MemberMeta;
  since: number;
  suspicion: Suspicion | null;
}

export const EMPTY_META: MemberMeta = Object.freeze({
  roles: Object.freeze([]) as readonly string[],
  addresses: Object.freeze([]) as readonly string[],
  services: Object.freeze([]),
  load: Object.freeze({}),
});

/** Negative when (e1, i1) is older than (e2, i2), 0 when equal, positive when newer. */
export function compareVersion(e1: number, i1: number, e2: number, i2: number): number {
  return e1 !== e2 ? e1 - e2 : i1 - i2;
}

export function isLive(status: MemberStatus): boolean {
  return status === 'alive' || status === 'suspect';
}

export function toInfo(r: MemberRecord): MemberInfo {
  return { id: r.id, epoch: r.epoch, incarnation: r.inc, status: r.status, meta: r.meta, since: r.since };
}

export function toSnapshot(r: MemberRecord): MemberSnapshot {
  return { node: r.id, epoch: r.epoch, inc: r.inc, status: r.status, meta: r.meta };
}

export function aliveOf(r: MemberRecord): AliveUpdate {
  return { t: 'alive', node: r.id, epoch: r.epoch, inc: r.inc, meta: r.meta };
}

const sizes = new WeakMap<object, number>();

/** Size in bytes of the metadata's JSON form (cached per object: metadata is never mutated). */
export function metaSize(meta: MemberMeta): number {
  let s = sizes.get(meta);
  if (s === undefined) {
    s = Buffer.byteLength(JSON.stringify(meta));
    sizes.set(meta, s);
  }
  return s;
}

/** Estimated encoded size of an update, for the piggyback budget. */
export function updateSize(u: Update): number {
  const base = 48 + u.node.length;
  switch (u.t) {
    case 'alive': return base + metaSize(u.meta);
    case 'suspect':
    case 'dead': return base + u.from.length;
    case 'left': return base;
  }
}

export function sameMeta(a: MemberMeta, b: MemberMeta): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

/** Normalises caller-supplied metadata into a frozen, complete MemberMeta. */
export function normalizeMeta(m: Partial<MemberMeta> | undefined, base: MemberMeta = EMPTY_META): MemberMeta {
  return Object.freeze({
    roles: Object.freeze([...(m?.roles ?? base.roles)]),
    addresses: Object.freeze([...(m?.addresses ?? base.addresses)]),
    services: Object.freeze((m?.services ?? base.services).map((s) => Object.freeze(
      s.keys === undefined ? { name: s.name, version: s.version } : { name: s.name, version: s.version, keys: s.keys }))),
    load: Object.freeze({ ...(m?.load ?? base.load) }),
  });
}
