/**
 * What the commands of the orchestration issue share: a client of the orchestrator (every async
 * command is submitted there as a durable job; a few synchronous ones run through it too), the
 * caller as the orchestrator scopes it, and the `{jobid}` / `{id, jobid}` replies.
 */
import type { Clock } from '../../../src/clock.js';
import type { ServiceLocator } from '../../../src/locator.js';
import { withServiceWait } from '../../../src/service-wait.js';
import {
  OrchestratorProtocol, type JobRequest, type SubmitReply, type SyncRequest,
} from '../../orchestrator/protocol.js';
import { getMap, getNumber, getString } from '../params.js';
import type { Caller as DataCaller } from '../../data/protocol.js';
import type { AsyncResult, Caller, Params } from '../types.js';
import type { CommandDeps } from './common.js';

export interface OrchestratorClient {
  /** Creates the job (and the object of a create command) and starts it. */
  submit(req: JobRequest): Promise<SubmitReply>;
  /** A synchronous command that acts through the components. */
  execute(req: SyncRequest): Promise<Record<string, unknown>>;
}

export interface OrchestrationDeps extends CommandDeps {
  readonly orchestrator: OrchestratorClient;
}

/** Deadline of a submission, ms: the create phase and the job row, not the job itself. */
export const DEFAULT_SUBMIT_TIMEOUT_MS = 20_000;

/** The orchestrator as the commands see it: each call asks whichever instance the locator names now. */
/** How long a command waits for an orchestrator to take it (one restarting, or a new one joining), ms. */
export const ORCHESTRATOR_WAIT_MS = 10_000;

export function locatedOrchestrator(locator: ServiceLocator, clock: Clock, timeoutMs = DEFAULT_SUBMIT_TIMEOUT_MS): OrchestratorClient {
  // Submissions are spread over every orchestrator instance (not kept on this node's own), so that
  // orchestrators share the load whether or not one runs beside this API. One that never reached an
  // orchestrator (none up, or one just gone) goes to another for up to ORCHESTRATOR_WAIT_MS.
  const ref = () => locator.ref(OrchestratorProtocol, undefined, { spread: true });
  const o = { clock, waitMs: ORCHESTRATOR_WAIT_MS };
  return {
    submit: (req) => withServiceWait(() => ref().ask('submit', req, { timeoutMs }), false, o),
    execute: (req) => withServiceWait(() => ref().ask('execute', req, { timeoutMs }), false, o),
  };
}

/** The caller in the form the data service scopes by (plain data, so it travels with the job). */
export function scopeOf(c: Caller): DataCaller {
  return { accountId: c.accountId, userId: c.userId, domainId: c.domainId, domainPath: c.domainPath, role: c.role };
}

export function asyncReply(reply: SubmitReply): AsyncResult {
  return reply.id === undefined ? { kind: 'async', jobid: reply.jobid } : { kind: 'async', jobid: reply.jobid, id: reply.id };
}

/** Copies the present parameters among `names` into `into` (exact optional properties stay absent). */
export function present<T extends object>(into: T, params: Params, names: readonly (keyof T & string)[]): T {
  const out = into as Record<string, unknown>;
  for (const n of names) {
    const v = params[n];
    if (v !== undefined) out[n] = v;
  }
  return into;
}

/**
 * CloudStack's `details` map (`details[0].cpuNumber=2`, or several keys in one entry) flattened into one
 * record, keys as sent.
 */
export function detailsOf(params: Params, name = 'details'): Record<string, string> | undefined {
  const entries = getMap(params, name);
  if (entries === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const e of entries) {
    if (e['key'] !== undefined && e['value'] !== undefined) out[e['key']] = e['value'];
    else for (const [k, v] of Object.entries(e)) out[k] = v;
  }
  return out;
}

/** A number from `details` (cpuNumber, cpuSpeed, memory of customized offerings), any case. */
export function detailNumber(details: Record<string, string> | undefined, key: string): number | undefined {
  if (details === undefined) return undefined;
  const hit = Object.entries(details).find(([k]) => k.toLowerCase() === key.toLowerCase());
  if (hit === undefined) return undefined;
  const n = Number(hit[1]);
  return Number.isFinite(n) ? n : undefined;
}

export { getNumber, getString };
