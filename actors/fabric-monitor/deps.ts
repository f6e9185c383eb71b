import type { Clock } from '../../src/clock.js';
import { NotFoundError } from '../../src/errors.js';
import type { Logger } from '../../src/logger.js';
import type { ServiceLocator } from '../../src/locator.js';
import type { AskKeys, ReplyOf, RequestOf } from '../../src/protocol.js';
import { ComputeProtocol, type ComputeProtocolType } from '../compute/protocol.js';
import type { Fence } from '../../src/lease.js';
import { DataProtocol, dataClient, fencedDataClient, type Caller, type DataApi, type DataCall, waitingDataCall } from '../data/protocol.js';
import { OrchestratorProtocol, type JobRequest, type SubmitReply } from '../orchestrator/protocol.js';
import type { FabricMonitorConfig } from './config.js';
import type { FabricSignals } from './investigation.js';
import type { FabricMonitorStats } from './protocol.js';

/** What the monitor reaches: the data service, the compute agents, the orchestrator — by message only. */
export interface MonitorDeps {
  readonly data: DataApi;
  readonly clock: Clock;
  readonly log: Logger;
  readonly config: FabricMonitorConfig;
  /** One ask to the agent of `hostName`, with its own deadline. */
  compute<K extends AskKeys<ComputeProtocolType>>(hostName: string, type: K, body: RequestOf<ComputeProtocolType, K>,
    timeoutMs: number): Promise<ReplyOf<ComputeProtocolType, K>>;
  submit(req: JobRequest): Promise<SubmitReply>;
  /** The identity HA jobs run as (a root admin). */
  haCaller(): Promise<Caller>;
  readonly signals: FabricSignals | undefined;
  readonly stats: FabricMonitorStats;
}

/** Deadline of one data service call, ms. SQLite answers in microseconds; 15 s only covers a stall. */
export const DATA_TIMEOUT_MS = 15_000;
/** Deadline of a job submission to the orchestrator, ms. */
export const SUBMIT_TIMEOUT_MS = 20_000;

export function emptyStats(): FabricMonitorStats {
  return { heartbeats: 0, unknownHeartbeats: 0, investigations: 0, hostsDown: 0, fenced: 0, haRestarts: 0, haStops: 0,
    powerOffs: 0, strayStops: 0, duplicates: 0 };
}

export interface LocatedDepsOptions {
  locator: ServiceLocator;
  clock: Clock;
  log: Logger;
  config: FabricMonitorConfig;
  haCaller(): Promise<Caller>;
  signals: FabricSignals | undefined;
  /** The acting monitor's lease: its writes are refused once another instance acts. */
  fence?: Fence | undefined;
}

/** The deps over a ServiceLocator: each call asks whichever instance the locator names now. */
export function locatedDeps(o: LocatedDepsOptions): MonitorDeps {
  const { locator } = o;
  const call = waitingDataCall((body: DataCall) => locator.ref(DataProtocol).ask('call', body, { timeoutMs: DATA_TIMEOUT_MS }), o.clock);
  return {
    data: o.fence === undefined ? dataClient(call) : fencedDataClient(call, o.fence),
    clock: o.clock, log: o.log, config: o.config, signals: o.signals, haCaller: o.haCaller, stats: emptyStats(),
    compute: (hostName, type, body, timeoutMs) => locator.ref(ComputeProtocol, hostName).ask(type, body, { timeoutMs }),
    submit: (req) => locator.ref(OrchestratorProtocol).ask('submit', req, { timeoutMs: SUBMIT_TIMEOUT_MS }),
  };
}

/** The VM, or undefined when it is gone. */
export async function findVm(data: DataApi, id: string): Promise<Awaited<ReturnType<DataApi['vms']['get']>> | undefined> {
  try {
    return await data.vms.get('system', id);
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
}

/** Writes an event owned by the system account; a failure to write it is logged, never thrown. */
export async function hostEvent(d: MonitorDeps, type: string, level: 'INFO' | 'WARN' | 'ERROR', description: string,
  resource: { type: 'Host' | 'VirtualMachine'; id: string }): Promise<void> {
  try {
    await d.data.events.create('system', { type, level, description, resourcetype: resource.type, resourceid: resource.id });
  } catch (err) {
    d.log.warn('could not write an event', { type, description, error: (err as Error).message });
  }
  (level === 'INFO' ? d.log.info : d.log.warn).call(d.log, description, { event: type, [resource.type === 'Host' ? 'host' : 'vm']: resource.id });
}
