/**
 * The gossip wire messages. Plain data only (objects, arrays, strings, finite numbers, booleans), so
 * the runtime can msgpack them onto a transport's control lane unchanged. Every message is one
 * envelope: a body (ping, ping-req, ack, nack, push-pull or a bare gossip carrier) plus membership
 * updates piggybacked on it (alive, suspect, dead, left), as in SWIM.
 *
 * parseEnvelope() is the runtime check applied to whatever arrives from the network: it never
 * throws, and it rejects anything malformed or over a limit instead of half-accepting it.
 */
export type NodeId = string;

/** A service (actor protocol) a member hosts, with its "major.minor" protocol version. */
export interface ServiceInfo {
  readonly name: string;
  readonly version: string;
  /**
   * Present for a keyed service (instances `<name>/<key>`) whose keys are too many for metadata: the
   * revision of the node's key set, which nodes that route to it read from the node itself
   * (src/registry/keyed.ts). Absent: a plain service, the name is the whole instance.
   */
  readonly keys?: number;
}

/** What a member advertises about itself. Bounded in size by config.maxMetadataBytes. */
export interface MemberMeta {
  /** Roles the node runs ("management", "compute", ...). */
  readonly roles: readonly string[];
  /** Where the transports can reach the node ("ws://10.0.0.5:7000", "redis:node-7"). */
  readonly addresses: readonly string[];
  /** Services hosted on the node. */
  readonly services: readonly ServiceInfo[];
  /** Load figures the registry may balance on (e.g. { inFlight: 3, cpu: 0.4 }). */
  readonly load: Readonly<Record<string, number>>;
}

export type MemberStatus = 'alive' | 'suspect' | 'dead' | 'left';

/** A member is alive at (epoch, inc); also carries its metadata. */
export interface AliveUpdate { readonly t: 'alive'; readonly node: NodeId; readonly epoch: number; readonly inc: number; readonly meta: MemberMeta }
/** `from` suspects the member at (epoch, inc). */
export interface SuspectUpdate { readonly t: 'suspect'; readonly node: NodeId; readonly epoch: number; readonly inc: number; readonly from: NodeId }
/** `from` declares the member dead at (epoch, inc). */
export interface DeadUpdate { readonly t: 'dead'; readonly node: NodeId; readonly epoch: number; readonly inc: number; readonly from: NodeId }
/** The member left gracefully at (epoch, inc). */
export interface LeftUpdate { readonly t: 'left'; readonly node: NodeId; readonly epoch: number; readonly inc: number }
export type Update = AliveUpdate | SuspectUpdate | DeadUpdate | LeftUpdate;

/** One member's state as exchanged by push-pull. */
export interface MemberSnapshot {
  readonly node: NodeId;
  readonly epoch: number;
  readonly inc: number;
  readonly status: MemberStatus;
  readonly meta: MemberMeta;
}

export interface PingBody { readonly t: 'ping'; readonly seq: number; readonly target: NodeId; readonly epoch: number }
/** Asks the receiver to probe `target` on the sender's behalf; `addr` lets it dial an unknown target. */
export interface PingReqBody {
  readonly t: 'ping-req'; readonly seq: number; readonly target: NodeId; readonly epoch: number;
  readonly addr: readonly string[]; readonly nack: boolean;
}
export interface AckBody { readonly t: 'ack'; readonly seq: number }
export interface NackBody { readonly t: 'nack'; readonly seq: number }
export interface PushPullBody {
  readonly t: 'push-pull'; readonly join: boolean; readonly reply: boolean; readonly members: readonly MemberSnapshot[];
}
/** Carries piggybacked updates only. */
export interface GossipBody { readonly t: 'gossip' }
export type Body = PingBody | PingReqBody | AckBody | NackBody | PushPullBody | GossipBody;

export const WIRE_VERSION = 1;

export interface GossipEnvelope {
  readonly v: typeof WIRE_VERSION;
  /** Cluster name label: receivers drop envelopes from another cluster. */
  readonly cluster: string;
  readonly from: NodeId;
  readonly body: Body;
  readonly updates: readonly Update[];
}

/** Limits applied by parseEnvelope (taken from the gossip config). */
export interface WireLimits {
  maxUpdatesPerMessage: number;
  maxMembers: number;
  /** Longest node id, service name, role or address accepted. */
  maxStringLength: number;
  /** Most entries in one metadata list (roles, addresses, services, load). */
  maxMetaEntries: number;
}

export type ParseResult = { ok: true; envelope: GossipEnvelope } | { ok: false; reason: string };

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);
const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const isCount = (x: unknown): x is number => isNum(x) && Number.isInteger(x) && x >= 0;

class Reject extends Error {}
function need(cond: boolean, reason: string): asserts cond {
  if (!cond) throw new Reject(reason);
}

function str(x: unknown, lim: WireLimits, what: string): string {
  need(typeof x === 'string' && x.length > 0 && x.length <= lim.maxStringLength, `bad ${what}`);
  return x;
}

function strList(x: unknown, lim: WireLimits, what: string): void {
  need(Array.isArray(x) && x.length <= lim.maxMetaEntries, `bad ${what} list`);
  for (const s of x) str(s, lim, what);
}

/** Metadata objects already checked against a given limits object (metadata is never mutated). */
const checkedMeta = new WeakMap<WireLimits, WeakSet<object>>();

function checkMeta(x: unknown, lim: WireLimits): void {
  need(isObj(x), 'bad meta');
  let seen = checkedMeta.get(lim);
  if (seen?.has(x) === true) return;
  strList(x.roles, lim, 'role');
  strList(x.addresses, lim, 'address');
  need(Array.isArray(x.services) && x.services.length <= lim.maxMetaEntries, 'bad services');
  for (const s of x.services) {
    need(isObj(s), 'bad service');
    str(s.name, lim, 'service name');
    str(s.version, lim, 'service version');
    need(s.keys === undefined || isCount(s.keys), 'bad service keys revision');
  }
  need(isObj(x.load), 'bad load');
  const keys = Object.keys(x.load);
  need(keys.length <= lim.maxMetaEntries, 'too many load figures');
  for (const k of keys) need(isNum(x.load[k]), 'bad load figure');
  if (seen === undefined) checkedMeta.set(lim, (seen = new WeakSet()));
  seen.add(x);
}

function checkVersion(x: Obj, lim: WireLimits): void {
  str(x.node, lim, 'node id');
  need(isCount(x.epoch) && isCount(x.inc), 'bad epoch or incarnation');
}

function checkUpdate(x: unknown, lim: WireLimits): void {
  need(isObj(x), 'bad update');
  checkVersion(x, lim);
  switch (x.t) {
    case 'alive': checkMeta(x.meta, lim); return;
    case 'suspect':
    case 'dead': str(x.from, lim, 'from'); return;
    case 'left': return;
    default: need(false, 'unknown update type');
  }
}

const STATUSES: ReadonlySet<unknown> = new Set(['alive', 'suspect', 'dead', 'left']);

function checkBody(x: unknown, lim: WireLimits): void {
  need(isObj(x), 'bad body');
  switch (x.t) {
    case 'ping':
      need(isCount(x.seq) && isCount(x.epoch), 'bad ping'); str(x.target, lim, 'target'); return;
    case 'ping-req':
      need(isCount(x.seq) && isCount(x.epoch) && typeof x.nack === 'boolean', 'bad ping-req');
      str(x.target, lim, 'target'); strList(x.addr, lim, 'address'); return;
    case 'ack':
    case 'nack': need(isCount(x.seq), 'bad seq'); return;
    case 'gossip': return;
    case 'push-pull': {
      need(typeof x.join === 'boolean' && typeof x.reply === 'boolean', 'bad push-pull');
      need(Array.isArray(x.members) && x.members.length <= lim.maxMembers, 'bad or oversized push-pull state');
      for (const m of x.members) {
        need(isObj(m) && STATUSES.has(m.status), 'bad member snapshot');
        checkVersion(m, lim);
        checkMeta(m.meta, lim);
      }
      return;
    }
    default: need(false, 'unknown body type');
  }
}

/** Checks an envelope that arrived from the network. Never throws. */
export function parseEnvelope(x: unknown, lim: WireLimits): ParseResult {
  try {
    need(isObj(x), 'not an object');
    need(x.v === WIRE_VERSION, `unsupported wire version ${String(x.v)}`);
    str(x.cluster, lim, 'cluster');
    str(x.from, lim, 'from');
    need(Array.isArray(x.updates) && x.updates.length <= lim.maxUpdatesPerMessage, 'bad or too many updates');
    for (const u of x.updates) checkUpdate(u, lim);
    checkBody(x.body, lim);
    return { ok: true, envelope: x as unknown as GossipEnvelope };
  } catch (err) {
    if (err instanceof Reject) return { ok: false, reason: err.message };
    throw err;
  }
}
