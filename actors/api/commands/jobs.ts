/**
 * Async job handles (reference section 2.4): queryAsyncJobResult and listAsyncJobs read the job records
 * the data service keeps, and `createJobRecord` is how an async command obtains its `jobid` — the record
 * exists before the command answers, so a client polling at once finds it.
 */
import type { DataApi } from '../../data/protocol.js';
import { defineCommand, type HandledCommand } from '../command-table.js';
import { jobObject } from '../async-job.js';
import type { AsyncResult, Caller, HandlerContext, ResponseObject, ResponseValue } from '../types.js';
import { OWNER_LIST_PARAMS, listParams, listed, required, type CommandDeps } from './common.js';

type StoredJob = Awaited<ReturnType<DataApi['jobs']['get']>>;

/**
 * A stored job in CloudStack's field order. `jobstatus` is the number 0/1/2/3; `jobresulttype` and
 * `jobresult` appear once the job has finished, `jobresult` already wrapped in its object name (or
 * `{errorcode, errortext}`) by whoever completed it.
 */
export function jobResponse(job: StoredJob): ResponseObject {
  const done = job.jobstatus !== 0;
  return jobObject({
    ...job,
    jobresulttype: done ? job.jobresulttype : undefined,
    jobresult: done ? (job.jobresult as ResponseValue) : undefined,
  });
}

export interface JobSubmission {
  /** CloudStack's command class, e.g. `org.apache.cloudstack.api.command.user.vm.StopVMCmd`. */
  readonly cmd: string;
  /** ApiCommandResourceType of the object the job works on (`VirtualMachine`, `Volume`...). */
  readonly instancetype?: string;
  readonly instanceid?: string;
  /** What the executor needs to run the job (stored with the record). */
  readonly cmdinfo?: unknown;
}

/**
 * Creates the job record of an async command, owned by the caller, and returns the command's immediate
 * reply (`{jobid}`, or `{id, jobid}` when `instanceid` names a newly created object). The request id is
 * the idempotency key, so a retried submission of the same request never makes two jobs.
 */
export async function createJobRecord(data: DataApi, ctx: HandlerContext<Caller>, job: JobSubmission,
  createdId?: string): Promise<AsyncResult> {
  const input: Parameters<DataApi['jobs']['create']>[1] = { cmd: job.cmd, idempotencykey: `api:${ctx.requestId}` };
  if (job.instancetype !== undefined) input.instancetype = job.instancetype;
  if (job.instanceid !== undefined) input.instanceid = job.instanceid;
  if (job.cmdinfo !== undefined) input.cmdinfo = job.cmdinfo;
  const created = await data.jobs.create(ctx.caller, input);
  return createdId === undefined ? { kind: 'async', jobid: created.jobid } : { kind: 'async', id: createdId, jobid: created.jobid };
}

/**
 * An async command whose work the API has just done in one step: its job is recorded as already
 * succeeded with `result` (what queryAsyncJobResult answers), and the reply is the usual `{jobid}`.
 */
export async function doneJobRecord(data: DataApi, ctx: HandlerContext<Caller>, job: JobSubmission, result: ResponseObject): Promise<AsyncResult> {
  const input: Parameters<DataApi['jobs']['create']>[1] = { cmd: job.cmd, idempotencykey: `api:${ctx.requestId}` };
  if (job.instancetype !== undefined) input.instancetype = job.instancetype;
  if (job.instanceid !== undefined) input.instanceid = job.instanceid;
  const created = await data.jobs.createDone(ctx.caller, input, { status: 1, resultcode: 0, result });
  return { kind: 'async', jobid: created.jobid };
}

export function jobCommands(deps: CommandDeps): HandledCommand[] {
  return [
    defineCommand({
      name: 'queryAsyncJobResult',
      description: 'Retrieves the current status of asynchronous job.',
      isAsync: false,
      access: 'user',
      objectName: 'asyncjobs',
      params: [{ name: 'jobid', type: 'uuid', required: true, description: 'the ID of the asynchronous job' }],
      async handler(ctx) {
        return { kind: 'raw', body: jobResponse(await deps.data.jobs.get(ctx.caller, required(ctx.params, 'jobid'))) };
      },
    }),
    defineCommand({
      name: 'listAsyncJobs',
      description: 'Lists all pending asynchronous jobs for the account.',
      isAsync: false,
      access: 'user',
      objectName: 'asyncjobs',
      paged: true,
      params: [...OWNER_LIST_PARAMS],
      async handler(ctx) {
        return listed(ctx, listParams(ctx, ['listall', 'domainid', 'isrecursive', 'account']), {
          page: (q) => deps.data.jobs.list(ctx.caller, q), scan: (q, w) => deps.data.jobs.scan(ctx.caller, q, w),
        }, jobResponse);
      },
    }),
  ];
}
