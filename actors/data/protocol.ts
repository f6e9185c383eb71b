import type { Clock } from '../../src/clock.js';
import { LimitExceededError } from '../../src/errors.js';
import { ask, defineProtocol, type ReplyOf, type RequestOf } from '../../src/protocol.js';
import { withServiceWait } from '../../src/service-wait.js';
import { t } from '../../src/schema.js';
import { FenceSchema, type Fence, type LeaseStore } from '../../src/lease.js';
import type { DataStore } from './store/index.js';
import type { ScanChunk, ScanCursor, ScanWindow } from './store/pagination.js';
import { DEPLOY_OPERATIONS, DEPLOY_READS } from './deploy-operations.js';

/** Who an operation is done for: the one declaration every protocol and the store use. */
export { CallerRoleSchema, CallerSchema, ScopeSchema, SYSTEM, type Caller, type CallerRole, type Scope } from './caller.js';
/** The records other components receive, as declared wire shapes (the store is checked against them). */
export {
  ComponentServiceSchema, DefineComponentServiceSchema, NetworkSchema, NicSchema, PublicIpAddressSchema, ResourceTagSchema,
  ScalingPolicySchema, SnapshotSchema, VolumeSchema, type ComponentService, type DefineComponentService, type Network, type Nic,
  type PublicIpAddress, type ResourceTag, type ScalingPolicy, type Snapshot, type Volume,
} from './records.js';
export {
  AffinityConstraintsSchema, HostPickQuerySchema, PlacementSchema, VmStartContextSchema, VmStartViewSchema, VmVolumeSchema,
  type AffinityConstraints, type HostPickQuery, type Placement, type VmStartContext, type VmStartView, type VmVolume,
} from './deploy-operations.js';

/**
 * The data service's protocol. The data actor is the only writer of persistent state; every other
 * component reads and writes through these messages, over any transport.
 *
 * Declared contract: the caller identity (caller.ts), the records other components' protocols carry
 * (records.ts) and the deploy path's named operations (deploy-operations.ts) are schemas of their own,
 * validated at the transport boundary; the store is held to them at compile time (records-check.ts,
 * deploy-handlers.ts), so a repository change that would alter them does not compile.
 *
 * The rest of the store (about three hundred typed operations) is still reached through the generic
 * `call`: an explicit allowlist of repository methods below, with `DataApi`'s types derived from the
 * store's own signatures: a wrong method name or argument does not compile, and the reply has the
 * method's return type. At run time the actor accepts only allowlisted (repository, method) pairs with
 * plain-data arguments, and runs each call as one transaction; `batch` runs several calls in one
 * transaction. Moving an operation from `call` to a named message is a minor version; removing one
 * from the allowlist is a major one (components of the previous version still call it).
 */
export const DATA_METHODS = {
  accounts: ['create', 'findByName', 'get', 'list', 'remove', 'rename', 'roles', 'setState', 'scan'],
  capacity: ['list'],
  config: ['get', 'list', 'listSettings', 'number', 'set', 'scan', 'scanSettings', 'update'],
  domains: ['create', 'delete', 'findByPath', 'get', 'list', 'root', 'rootUuid', 'scan', 'update'],
  events: ['archive', 'create', 'delete', 'get', 'list', 'scan'],
  hosts: ['create', 'get', 'list', 'recordPing', 'resourceTransition', 'transition', 'update', 'scan'],
  ipAddresses: ['createRange', 'get', 'getRange', 'list', 'listRanges', 'scan', 'scanRanges'],
  jobs: ['complete', 'create', 'createDone', 'createOwned', 'get', 'list', 'orphans', 'pending', 'record', 'saveProgress', 'turn', 'scan'],
  leases: ['claim', 'get', 'list', 'release', 'renew'],
  componentServices: ['define', 'get', 'list', 'raiseAlert', 'scale', 'setState', 'update'],
  sessions: ['create', 'delete', 'deleteForUser', 'sweep', 'touch'],
  mocks: ['create', 'fire', 'get', 'list', 'remove', 'scan'],
  networks: ['create', 'get', 'list', 'transition', 'update', 'scan'],
  nics: ['add', 'get', 'list', 'remove', 'scan'],
  offerings: ['createDisk', 'createNetwork', 'createService', 'getDisk', 'getNetwork', 'getService', 'listDisk', 'listNetwork', 'listService', 'updateNetwork', 'scanDisk', 'scanNetwork', 'scanService'],
  snapshots: ['create', 'get', 'list', 'transition', 'scan'],
  sshKeys: ['create', 'delete', 'get', 'list', 'publicKey', 'register', 'scan'],
  storage: ['cancelMaintenance', 'createImageStore', 'createPool', 'deleteImageStore', 'enterMaintenance', 'getImageStore', 'getPool', 'listImageStores', 'listPools', 'updatePool', 'scanImageStores', 'scanPools'],
  tags: ['attach', 'create', 'delete', 'list', 'scan'],
  templates: ['createOsType', 'get', 'getOsType', 'list', 'listIsos', 'listOsTypes', 'register', 'setZoneStatus', 'scan', 'scanIsos', 'scanOsTypes'],
  users: ['authenticateApiKey', 'callerFor', 'create', 'get', 'getKeys', 'list', 'login', 'registerKeys', 'remove', 'rootAdminCaller', 'setPassword', 'setState', 'update', 'scan'],
  vmOps: ['create', 'markExpunged', 'scale', 'transition', 'update'],
  vms: ['get', 'list', 'scan'],
  volumes: ['attach', 'create', 'delete', 'detach', 'get', 'list', 'releaseForVm', 'setSize', 'transition', 'scan'],
  zones: ['create', 'createCluster', 'createPod', 'get', 'getCluster', 'getPod', 'list', 'listClusters', 'listPods', 'update', 'updateCluster', 'updatePod', 'scan', 'scanClusters', 'scanPods'],
  allocation: ['hostsWithCapacity', 'poolsWithCapacity', 'releaseHost', 'releasePool', 'reserveHost', 'reservePool', 'reservedHostId', 'resizeHeld', 'resizeOnPool'],
  orchestration: ['hostCandidates', 'reimageVolume', 'saveJournal', 'startSpec', 'templateCopies', 'templateOnPool', 'vmDetails', 'vmVolumes'],
  userData: ['delete', 'forVm', 'get', 'list', 'register', 'setForVm', 'scan'],
  instanceGroups: ['create', 'delete', 'get', 'list', 'rename', 'scan'],
  affinityGroups: ['byName', 'constraints', 'create', 'delete', 'get', 'list', 'setForVm', 'scan'],
  snapshotPolicies: ['create', 'delete', 'get', 'list', 'update', 'scan'],
  networkRules: ['create', 'discard', 'get', 'list', 'purgeIp', 'revoke', 'updateLb', 'scan'],
  ruleSets: ['assignToLb', 'disableStaticNat', 'enableStaticNat', 'lbMembers', 'removeFromLb', 'ruleSet', 'settle', 'staticNatTarget', 'targetOf', 'undoMembers'],
  templateAdmin: ['abandonCopy', 'abandonCreate', 'attachIso', 'createFrom', 'detachIso', 'finishCopy', 'finishCreate', 'remove', 'startCopy', 'update'],
  projects: ['accountOf', 'accounts', 'addAccount', 'create', 'delete', 'get', 'list', 'removeAccount', 'update', 'scan'],
  vmSnapshots: ['create', 'get', 'list', 'remove', 'transition', 'scan'],
  templateDownloads: ['claim', 'complete', 'fail', 'progress', 'requeueInProgress'],
  entities: ['exists'],
  alerts: ['archive', 'delete', 'list', 'scan'],
  resourceLimits: ['list', 'update'],
  addresses: ['allocatePublicIp', 'releasePublicIp', 'setStaticNat', 'reserveNicIp', 'releaseNicIp', 'addVnetRange', 'allocateVnet', 'releaseVnet'],
} as const satisfies { [R in keyof DataStore]?: readonly (keyof DataStore[R] & string)[] };

/**
 * The operations that only read: safe to send again when the data instance was lost after a call was
 * sent (its outcome unknown). Writes are repeated only when they were never sent.
 */
const DATA_READS: ReadonlySet<string> = new Set([
  'accounts.findByName', 'accounts.get', 'accounts.list', 'accounts.roles', 'capacity.list', 'config.get', 'config.list', 'config.listSettings', 'config.number',
  'domains.findByPath', 'domains.get', 'domains.list', 'domains.root', 'domains.rootUuid', 'events.get', 'events.list', 'hosts.get',
  'hosts.list', 'ipAddresses.get', 'ipAddresses.getRange', 'ipAddresses.list', 'ipAddresses.listRanges', 'jobs.get',
  'jobs.list', 'jobs.orphans', 'componentServices.get', 'componentServices.list', 'jobs.pending', 'jobs.record', 'jobs.turn', 'leases.get', 'leases.list', 'mocks.get', 'mocks.list',
  'networks.get', 'networks.list', 'nics.get', 'nics.list', 'offerings.getDisk', 'offerings.getNetwork', 'offerings.getService',
  'offerings.listDisk', 'offerings.listNetwork', 'offerings.listService', 'snapshots.get', 'snapshots.list', 'sshKeys.get', 'sshKeys.list',
  'sshKeys.publicKey', 'storage.getImageStore', 'storage.getPool', 'storage.listImageStores', 'storage.listPools', 'tags.list',
  'templates.get', 'templates.getOsType', 'templates.list', 'templates.listIsos', 'templates.listOsTypes', 'users.authenticateApiKey',
  'users.callerFor', 'users.get', 'users.getKeys', 'users.list', 'users.login', 'users.rootAdminCaller', 'vms.get', 'vms.list',
  'volumes.get', 'volumes.list', 'zones.get', 'zones.getCluster', 'zones.getPod', 'zones.list', 'zones.listClusters', 'zones.listPods',
  'allocation.hostsWithCapacity', 'allocation.poolsWithCapacity', 'allocation.reservedHostId', 'orchestration.hostCandidates',
  'orchestration.startSpec', 'orchestration.templateCopies', 'orchestration.templateOnPool', 'orchestration.vmDetails',
  'orchestration.vmVolumes', 'entities.exists', 'alerts.list', 'resourceLimits.list',
]);

/** True when the call only reads (see DATA_READS; every `scan*` is a read too). */
export function isDataRead(body: { repo: string; method: string }): boolean {
  return DATA_READS.has(`${body.repo}.${body.method}`) || (body.method.startsWith('scan') && isDataMethod(body.repo, body.method));
}

/**
 * How long a component waits for the data service to come back (a data process restarting) before a
 * call fails, ms. 30 s: a restart takes a second or two; a longer outage is a real failure to report.
 */
export const DATA_WAIT_MS = 30_000;

export type DataRepo = keyof typeof DATA_METHODS;
export type DataMethod<R extends DataRepo> = (typeof DATA_METHODS)[R][number];
type Member<R extends DataRepo, M extends string> = M extends keyof DataStore[R] ? DataStore[R][M] : never;
type Fn<R extends DataRepo, M extends DataMethod<R>> = Member<R, M> extends (...args: infer A) => infer Ret ? (...args: A) => Promise<Ret> : never;

/** `scan(...args, window?)` → `all(...args)`: the same arguments without the window, every row. */
type DropLast<A extends unknown[]> = A extends [...infer H, unknown] ? H : never;
type AllOf<F> = F extends (...args: infer A) => ScanChunk<infer T> ? (...args: DropLast<Required<A>>) => Promise<T[]> : never;
type AllMethods<R extends DataRepo> = {
  [M in DataMethod<R> as M extends `scan${infer X}` ? `all${X}` : never]: AllOf<Member<R, M>>
};

/**
 * The typed, promise-returning view of the data service that components program against. Besides
 * the store's operations, each `scanX` has an `allX` here: every match, read chunk by chunk (one page
 * is `listX`; the two are different operations so that one can never be taken for the other).
 */
export type DataApi = { [R in DataRepo]: { [M in DataMethod<R>]: Fn<R, M> } & AllMethods<R> };

/**
 * Most rows one `all*` read gathers before it fails (LimitExceededError) rather than grow without
 * bound: every row is held in the caller's memory. The largest legitimate read is the fabric
 * monitor's host table (at most maxHosts, 100,000 by default); anything bigger must stream with scan.
 */
export const DEFAULT_MAX_ALL_ROWS = 200_000;

export interface DataClientOptions {
  /** See DEFAULT_MAX_ALL_ROWS. */
  maxAllRows?: number;
}

const Call = t.object({
  repo: t.string({ maxLength: 32 }),
  method: t.string({ maxLength: 64 }),
  args: t.array(t.unknown(), { maxItems: 16 }),
  /** Made under a lease: refused (FencedError) unless the writer still holds it at that epoch. */
  fence: t.optional(FenceSchema),
});

export const DataProtocol = defineProtocol('data', '1.1', {
  /** One store operation, in one transaction. Reply: the operation's result. */
  call: ask(Call, t.unknown()),
  /** Several operations in one transaction, all or nothing. Reply: their results in order. */
  batch: ask(t.object({ calls: t.array(Call, { maxItems: 256 }), fence: t.optional(FenceSchema) }), t.array(t.unknown())),
  /** Liveness and schema version. */
  status: ask(t.object({}), t.object({ schemaVersion: t.number(), integrity: t.optional(t.string()),
    /** Writes refused because their lease had moved on (a stale owner), since this instance started. */
    fencedWrites: t.optional(t.number()) })),
  /** The deploy path's operations, each one named message and one transaction (deploy-operations.ts). */
  ...DEPLOY_OPERATIONS,
});

/** The named operations (every message but the generic `call`/`batch` and `status`). */
export type DataOpName = keyof typeof DEPLOY_OPERATIONS;
type OpRequest<K extends DataOpName> = RequestOf<typeof DataProtocol, K>;
/** A named operation's request as a caller writes it: the fence is added by the client (see dataOps). */
export type DataOpRequest<K extends DataOpName> = Omit<OpRequest<K>, 'fence'>;
export type DataOps = { [K in DataOpName]: (req: DataOpRequest<K>) => Promise<ReplyOf<typeof DataProtocol, K>> };
/** Sends one named operation (`(type, body) => ref.ask(type, body)`). */
export type DataSend = (type: DataOpName, body: object) => Promise<unknown>;

/** Typed named operations over `send`; with `fence`, every one is made under that lease. */
export function dataOps(send: DataSend, fence?: Fence): DataOps {
  const ops: Record<string, (req: object) => Promise<unknown>> = {};
  for (const name of Object.keys(DEPLOY_OPERATIONS) as DataOpName[]) {
    ops[name] = (req) => send(name, fence === undefined || DEPLOY_READS.has(name) ? req : { ...req, fence });
  }
  return ops as unknown as DataOps;
}

/** Like waitingDataCall, for named operations: a read is sent again when its instance was lost, a write only when never sent. */
export function waitingDataSend(send: DataSend, clock: Clock, waitMs = DATA_WAIT_MS): DataSend {
  return (type, body) => withServiceWait(() => send(type, body), DEPLOY_READS.has(type), { clock, waitMs });
}

/** The lease that makes one orchestrator a job's owner (job rows and leases are matched by this name). */
export function jobLeaseName(jobUuid: string): string {
  return `job:${jobUuid}`;
}

export type DataCall = { repo: string; method: string; args: unknown[]; fence?: Fence };
export const DATA_PATH = '/data';

/**
 * Builds a DataApi over an ask function (`(body) => ref.ask('call', body)`, or a context ask that
 * carries the current deadline): `await data.vms.get(SYSTEM, id)`.
 */
export function dataClient(call: (body: DataCall) => Promise<unknown>, options: DataClientOptions = {}): DataApi {
  const maxRows = options.maxAllRows ?? DEFAULT_MAX_ALL_ROWS;
  const api: Record<string, Record<string, (...args: unknown[]) => Promise<unknown>>> = {};
  for (const [repo, methods] of Object.entries(DATA_METHODS)) {
    const r: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
    for (const method of methods) {
      r[method] = (...args: unknown[]) => call({ repo, method, args: stripUndefinedTail(args) });
      if (method.startsWith('scan')) {
        const scan = (args: unknown[], window: ScanWindow) => call({ repo, method, args: [...args, window] }) as Promise<ScanChunk<unknown>>;
        r[`all${method.slice(4)}`] = (...args: unknown[]) => readAll(`${repo}.${method}`, (after) => scan(args, after === undefined ? {} : { after }), maxRows);
      }
    }
    api[repo] = r;
  }
  return api as unknown as DataApi;
}

/** Follows a scan to its end; more than `maxRows` rows is an error naming the read. */
export async function readAll<T>(what: string, chunk: (after: ScanCursor | undefined) => Promise<ScanChunk<T>>, maxRows: number): Promise<T[]> {
  const out: T[] = [];
  let after: ScanCursor | undefined;
  for (;;) {
    const c = await chunk(after);
    if (out.length + c.items.length > maxRows) {
      throw new LimitExceededError(`${what}: more than ${maxRows} rows match, more than one read may hold in memory (maxAllRows); ` +
        'narrow the filter or process the rows chunk by chunk with scan');
    }
    out.push(...c.items);
    if (c.next === null) return out;
    after = c.next;
  }
}

/**
 * A data call made with `ask` (one attempt) that waits out a data service restart for up to `waitMs`:
 * a call never sent is tried again, a read whose instance was lost too (see withServiceWait).
 */
export function waitingDataCall(ask: (body: DataCall) => Promise<unknown>, clock: Clock, waitMs = DATA_WAIT_MS): (body: DataCall) => Promise<unknown> {
  return (body) => withServiceWait(() => ask(body), isDataRead(body), { clock, waitMs });
}

/** The data service's lease operations, as a lease holder (LeaseKeeper) uses them. */
export function leaseStoreOf(data: DataApi): LeaseStore {
  return {
    claim: (name, owner, ttlMs, o) => data.leases.claim(name, owner, ttlMs, o),
    renew: (owner, held, ttlMs) => data.leases.renew(owner, held, ttlMs),
    release: (name, owner, epoch) => data.leases.release(name, owner, epoch),
  };
}

/** The same data service with every call made under `fence` (writes of a lease holder). */
export function fencedDataClient(call: (body: DataCall) => Promise<unknown>, fence: Fence): DataApi {
  return dataClient((body) => call({ ...body, fence }));
}

function stripUndefinedTail(args: unknown[]): unknown[] {
  let n = args.length;
  while (n > 0 && args[n - 1] === undefined) n--;
  return n === args.length ? args : args.slice(0, n);
}

/** True when (repo, method) is exposed by the data protocol. */
export function isDataMethod(repo: string, method: string): boolean {
  const list = (DATA_METHODS as Record<string, readonly string[]>)[repo];
  return list !== undefined && list.includes(method);
}
