import type { Clock } from '../../src/clock.js';
import type { ServiceLocator } from '../../src/locator.js';
import type { Logger } from '../../src/logger.js';
import type { AskKeys, ReplyOf, RequestOf } from '../../src/protocol.js';
import type { Random } from '../../src/random.js';
import { withServiceWait } from '../../src/service-wait.js';
import { ComputeProtocol, type ComputeProtocolType } from '../compute/protocol.js';
import { PeerDownError, TimeoutError } from '../../src/errors.js';
import type { Fence } from '../../src/lease.js';
import { DataLost } from './journal.js';
import {
  DataProtocol, dataClient, dataOps, fencedDataClient, type DataApi, type DataCall, type DataOps, type DataSend, waitingDataCall, waitingDataSend,
} from '../data/protocol.js';
import { NetworkProtocol, type NetworkProtocolType } from '../network/protocol.js';
import { StorageProtocol, type StorageProtocolType } from '../storage/protocol.js';
import type { OrchestratorConfig } from './config.js';

/** A keyed command (every job step carries its idempotency key). */
type Keyed<P, K extends AskKeys<P>> = RequestOf<P, K> extends { key: string } ? K : never;

/**
 * What a job step can reach: the data service, and the network, storage and compute components by
 * message only (through their protocol.ts). Steps are sent as durable commands: the step's key is the
 * message id, a remote receiver deduplicates resends of it, and the deadline is stepTimeoutMs.
 */
export interface Components {
  readonly data: DataApi;
  /** The data service's named operations (the deploy path's grouped reads and reservations). */
  readonly ops: DataOps;
  readonly clock: Clock;
  readonly random: Random;
  readonly log: Logger;
  readonly config: OrchestratorConfig;
  network<K extends AskKeys<NetworkProtocolType>>(type: Keyed<NetworkProtocolType, K>, body: RequestOf<NetworkProtocolType, K>): Promise<ReplyOf<NetworkProtocolType, K>>;
  storage<K extends AskKeys<StorageProtocolType>>(type: Keyed<StorageProtocolType, K>, body: RequestOf<StorageProtocolType, K>): Promise<ReplyOf<StorageProtocolType, K>>;
  /** A command to the compute agent of host `hostName` (NoInstanceError when no agent is known for it). */
  compute<K extends AskKeys<ComputeProtocolType>>(hostName: string, type: K, body: RequestOf<ComputeProtocolType, K>, key?: string): Promise<ReplyOf<ComputeProtocolType, K>>;
  /** Host names with a known compute agent. */
  computeHosts(): string[];
  /**
   * The same components acting under a job's lease: data writes carry the fence (refused once the job
   * has another owner), network and storage commands pass it on, compute commands carry its epoch.
   */
  fenced(fence: Fence): Components;
}

export interface ComponentsOptions {
  locator: ServiceLocator;
  clock: Clock;
  random: Random;
  log: Logger;
  config: OrchestratorConfig;
}

export function createComponents(o: ComponentsOptions): Components {
  const { locator, config } = o;
  const durable = (key: string | undefined) => (key === undefined
    ? { timeoutMs: config.stepTimeoutMs }
    : { timeoutMs: config.stepTimeoutMs, id: `step:${key}`, retry: { intervalMs: config.resendIntervalMs } });
  const call = waitingDataCall((body: DataCall) => locator.ref(DataProtocol).ask('call', body, { timeoutMs: config.dataTimeoutMs }), o.clock);
  // A data call lost half-way (outcome unknown) interrupts the job instead of failing it.
  const lost = (what: string, err: unknown): unknown => (err instanceof PeerDownError || err instanceof TimeoutError
    ? new DataLost(`the data service was lost during ${what} (${(err as Error).message}), so its outcome is ` +
      'unknown; a running job is resumed from its journal once the data service is back', { cause: err })
    : err);
  const lossAware = (body: DataCall): Promise<unknown> => call(body).catch((err: unknown) => {
    throw lost(`${body.repo}.${body.method}`, err);
  });
  const send = waitingDataSend((type, body) => locator.ref(DataProtocol).ask(type, body as never, { timeoutMs: config.dataTimeoutMs }), o.clock);
  const lossAwareSend: DataSend = (type, body) => send(type, body).catch((err: unknown) => {
    throw lost(type, err);
  });
  const build = (fence: Fence | undefined): Components => ({
    data: fence === undefined ? dataClient(lossAware) : fencedDataClient(lossAware, fence),
    ops: dataOps(lossAwareSend, fence),
    clock: o.clock, random: o.random, log: o.log, config,
    network: async (type, body) => locator.ref(NetworkProtocol).ask(type, withFence(body, fence), durable((body as { key: string }).key)),
    storage: async (type, body) => locator.ref(StorageProtocol).ask(type, withFence(body, fence), durable((body as { key: string }).key)),
    // Only a command that was never sent (no route yet) is tried again: never one whose outcome is unknown.
    compute: async (hostName, type, body, key) => withServiceWait(() => locator.ref(ComputeProtocol, hostName).ask(type, withEpoch(type, body, fence), durable(key)),
      false, { clock: o.clock, waitMs: config.computeRouteWaitMs }),
    computeHosts: () => locator.instances(ComputeProtocol.name),
    fenced: (f) => build(f),
  });
  return build(undefined);
}

function withFence<B>(body: B, fence: Fence | undefined): B {
  return fence === undefined ? body : { ...body, fence };
}

/** VM commands carry the lease epoch (the agent refuses older ones); queries and fencing do not. */
const EPOCH_COMMANDS: ReadonlySet<string> = new Set(['startVm', 'stopVm', 'rebootVm', 'migrateVm']);

function withEpoch<B>(type: string, body: B, fence: Fence | undefined): B {
  return fence === undefined || !EPOCH_COMMANDS.has(type) ? body : { ...body, epoch: fence.epoch };
}
