import type { Components } from '../components.js';
import type { JobContext, UndoExecutor } from '../journal.js';
import type { Planner } from '../planner.js';
import type { JobRequest } from '../protocol.js';

/** What a job flow works with: its journal, the components, the planner and the compensations. */
export interface FlowEnv {
  readonly ctx: JobContext;
  readonly c: Components;
  readonly planner: Planner;
  readonly undo: UndoExecutor;
}

/** A finished job's result: `{<objectName>: object}` or `{success: true}` (reference section 2.4). */
export type JobOutcome =
  | { readonly kind: 'object'; readonly objectName: string; readonly object: unknown }
  | { readonly kind: 'success' };

export type RequestOf<O extends JobRequest['op']> = Extract<JobRequest, { op: O }>;

/** One asynchronous command, as a durable job. */
export interface Flow<O extends JobRequest['op']> {
  /** The resource whose operations run one at a time (a VM's id), if any. */
  lock(req: RequestOf<O>, c: Components): Promise<string | undefined>;
  run(env: FlowEnv, req: RequestOf<O>): Promise<JobOutcome>;
  /** After a failure and the rollback of every compensation: what else the failure means (a deploy's VM goes to Error). */
  failed?(env: FlowEnv, req: RequestOf<O>, err: unknown): Promise<void>;
}

export function object(objectName: string, object: unknown): JobOutcome {
  return { kind: 'object', objectName, object };
}

export const SUCCESS: JobOutcome = { kind: 'success' };
