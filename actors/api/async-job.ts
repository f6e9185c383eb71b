/**
 * The async job object of queryAsyncJobResult and listAsyncJobs (reference section 2.4): numeric
 * `jobstatus` (0 pending, 1 succeeded, 2 failed, 3 cancelled), `jobresultcode` 0 or the API error
 * code, `jobresulttype` "object", and `jobresult` wrapped in the object name (`{"virtualmachine":{..}}`),
 * `{"success":true}` for success-type results, or `{"errorcode":533,"errortext":".."}` on failure.
 */
import { jobErrorResult, type MapOptions } from './error-map.js';
import type { ResponseObject, ResponseValue } from './types.js';

export type JobState = 'pending' | 'succeeded' | 'failed' | 'cancelled';

const JOB_STATUS: Readonly<Record<JobState, number>> = { pending: 0, succeeded: 1, failed: 2, cancelled: 3 };

/** What a finished job produced. */
export type JobOutcome =
  | { readonly kind: 'object'; readonly objectName: string; readonly object: ResponseObject }
  | { readonly kind: 'success'; readonly displaytext?: string }
  | { readonly kind: 'error'; readonly error: unknown };

export interface AsyncJobView {
  readonly jobid: string;
  readonly accountid: string;
  readonly userid: string;
  /** The command's class in CloudStack (e.g. `org.apache.cloudstack.api.command.admin.vm.DeployVMCmdByAdmin`). */
  readonly cmd: string;
  readonly state: JobState;
  readonly created: Date;
  readonly completed?: Date;
  readonly jobprocstatus?: number;
  /** ApiCommandResourceType: `VirtualMachine`, `Volume`, `Network`, ... */
  readonly jobinstancetype?: string;
  readonly jobinstanceid?: string;
  readonly account?: string;
  readonly domainid?: string;
  readonly domainpath?: string;
  /** Present once the job has finished (state succeeded, failed or cancelled). */
  readonly outcome?: JobOutcome;
}

function jobResult(outcome: JobOutcome, options: MapOptions): { code: number; result: ResponseObject } {
  switch (outcome.kind) {
    case 'object':
      return { code: 0, result: { [outcome.objectName]: outcome.object } };
    case 'success':
      return { code: 0, result: outcome.displaytext === undefined ? { success: true } : { success: true, details: outcome.displaytext } };
    case 'error': {
      const err = jobErrorResult(outcome.error, options);
      return { code: err.errorcode, result: err };
    }
  }
}

/** The job object in CloudStack's field order; undefined fields are left out when rendered. */
export function asyncJobResponse(job: AsyncJobView, options: MapOptions): ResponseObject {
  const done = job.outcome === undefined ? undefined : jobResult(job.outcome, options);
  return jobObject({
    ...job,
    jobstatus: JOB_STATUS[job.state],
    jobprocstatus: job.jobprocstatus ?? 0,
    jobresultcode: done?.code ?? 0,
    jobresulttype: done === undefined ? undefined : 'object',
    jobresult: done?.result,
  });
}

/** The fields of a job object, whatever keeps the job. */
export interface JobFields {
  accountid?: string | undefined; userid?: string | undefined; cmd?: string | undefined;
  jobstatus: number; jobprocstatus?: number | undefined; jobresultcode?: number | undefined;
  jobresulttype?: string | undefined; jobresult?: ResponseValue | undefined;
  jobinstancetype?: string | undefined; jobinstanceid?: string | undefined; account?: string | undefined;
  domainid?: string | undefined; domainpath?: string | undefined; created?: ResponseValue | undefined;
  completed?: ResponseValue | undefined; jobid: string;
}

/** A job object in CloudStack's field order (clients diffing responses see the same order); undefined fields are left out when rendered. */
export function jobObject(f: JobFields): ResponseObject {
  const out: Record<string, ResponseValue> = {
    accountid: f.accountid, userid: f.userid, cmd: f.cmd, jobstatus: f.jobstatus, jobprocstatus: f.jobprocstatus,
    jobresultcode: f.jobresultcode, jobresulttype: f.jobresulttype, jobresult: f.jobresult,
    jobinstancetype: f.jobinstancetype, jobinstanceid: f.jobinstanceid, account: f.account, domainid: f.domainid,
    domainpath: f.domainpath, created: f.created, completed: f.completed, jobid: f.jobid,
  };
  return out;
}
