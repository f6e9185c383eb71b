import { ConflictError, InvalidParameterError } from '../../../../src/errors.js';
import type { StoreContext } from '../context.js';
import { compact, formatDate, formatOptionalDate, parseJson } from '../format.js';
import { fetchAfter, fetchWhere, listResources, scanResources, type ListParams, type ListSpec } from '../list-query.js';
import { DEFAULT_SCAN_CHUNK, MAX_SCAN_CHUNK, type ListResult, type ScanChunk, type ScanWindow } from '../pagination.js';
import { SYSTEM, type Scope } from '../scoping.js';
import { JOB_MACHINE, JOB_PENDING, applyTransition } from '../state-machines.js';
import { accountOwner, getOwned, ownerFor } from './common.js';
import { jobLeaseName as jobLease } from '../../protocol.js';
import type { LeaseRepository } from './leases.js';

/** queryAsyncJobResult's answer / listAsyncJobs' `asyncjobs` object. `jobstatus` is a number: 0, 1, 2 (3). */
export interface AsyncJob {
  jobid: string;
  accountid: string;
  account: string;
  userid?: string;
  domainid: string;
  domainpath: string;
  cmd: string;
  jobstatus: number;
  jobprocstatus: number;
  jobresultcode: number;
  jobresulttype: string;
  jobresult?: unknown;
  jobinstancetype?: string;
  jobinstanceid?: string;
  created: string;
  completed?: string;
}

/** A job with the orchestrator's private fields (never sent to API clients). */
export interface JobRecord {
  job: AsyncJob;
  /** The command's parameters, as the orchestrator stored them. */
  cmdinfo?: unknown;
  /** Durable step progress of the orchestrator. */
  progress?: unknown;
  idempotencykey?: string;
  ownernode?: string;
  synckey?: string;
  lastupdated: string;
}

export interface CreateJobInput {
  /** CloudStack's command class name, e.g. org.apache.cloudstack.api.command.user.vm.DeployVMCmd. */
  cmd: string;
  cmdinfo?: unknown;
  instancetype?: string;
  instanceid?: string;
  /** Creating a job twice with the same key returns the first one. */
  idempotencykey?: string;
  ownernode?: string;
  /** Owner when SYSTEM creates the job (default: the caller's account and user). */
  accountid?: string;
  /** The object the job works on: jobs of one key run one at a time, oldest first. */
  synckey?: string;
}

export interface CompleteJobInput {
  /** 1 succeeded, 2 failed, 3 cancelled. */
  status: 1 | 2 | 3;
  /** 0 on success, the API error code (530, 533...) on failure. */
  resultcode?: number;
  /** e.g. {virtualmachine: {...}} or {errorcode, errortext}. */
  result?: unknown;
}

interface JobRow {
  _id: number;
  _aid: number;
  _did: number;
  uuid: string;
  cmd: string;
  cmd_info: string | null;
  status: number;
  process_status: number;
  result_code: number;
  result_type: string;
  result: string | null;
  instance_type: string | null;
  instance_uuid: string | null;
  progress: string | null;
  idempotency_key: string | null;
  owner_node: string | null;
  sync_key: string | null;
  created: number;
  last_updated: number;
  completed: number | null;
  a_uuid: string;
  a_name: string;
  u_uuid: string | null;
  d_uuid: string;
  d_path: string;
}

const STATUS_EVENT: Record<number, string> = { 1: 'Succeed', 2: 'Fail', 3: 'Cancel' };

function displayPath(p: string): string {
  return p === '/' ? 'ROOT' : 'ROOT' + p.slice(0, -1);
}

const SPEC: ListSpec<JobRow, AsyncJob> = {
  table: 'async_job',
  columns: `t.id AS _id, t.account_id AS _aid, t.domain_id AS _did, t.*, a.uuid AS a_uuid, a.name AS a_name,
    u.uuid AS u_uuid, d.uuid AS d_uuid, d.path AS d_path`,
  joins: 'JOIN account a ON a.id = t.account_id LEFT JOIN app_user u ON u.id = t.user_id JOIN domain d ON d.id = t.domain_id',
  scope: 'owned',
  filters: { jobstatus: { eq: 'status' }, instancetype: { eq: 'instance_type' }, instanceid: { eq: 'instance_uuid', exact: true },
    ownernode: { eq: 'owner_node', exact: true } },
  keyword: ['cmd'],
  map: (r) => compact<AsyncJob>({
    jobid: r.uuid, accountid: r.a_uuid, account: r.a_name, userid: r.u_uuid, domainid: r.d_uuid,
    domainpath: displayPath(r.d_path), cmd: r.cmd, jobstatus: r.status, jobprocstatus: r.process_status,
    jobresultcode: r.result_code, jobresulttype: r.result_type, jobresult: parseJson(r.result),
    jobinstancetype: r.instance_type, jobinstanceid: r.instance_uuid, created: formatDate(r.created),
    completed: formatOptionalDate(r.completed),
  }),
};

function record(r: JobRow, job: AsyncJob): JobRecord {
  return compact<JobRecord>({ job, cmdinfo: parseJson(r.cmd_info), progress: parseJson(r.progress),
    idempotencykey: r.idempotency_key, ownernode: r.owner_node, synckey: r.sync_key, lastupdated: formatDate(r.last_updated) });
}

/** Async jobs: the API's handles and the orchestrator's durable progress. */
export class JobRepository {
  constructor(private readonly ctx: StoreContext, private readonly leases: LeaseRepository) {}

  /**
   * Creates a job already leased to `owner` (both in one transaction), so that no other orchestrator can
   * take a job its creator is about to run. Returns the job and the lease's fencing epoch.
   */
  createOwned(scope: Scope, input: CreateJobInput, owner: string, ttlMs: number): { job: AsyncJob; epoch: number } {
    return this.ctx.tx(() => {
      const job = this.create(scope, input);
      const grant = this.leases.claim(jobLease(job.jobid), owner, ttlMs);
      if (!grant.granted) throw new ConflictError(`job ${job.jobid} is already leased to ${grant.owner}`);
      return { job, epoch: grant.epoch };
    });
  }

  /**
   * True when the job may run now: it is the oldest pending job of its sync key (CloudStack's
   * per-object sync queue, kept across orchestrator instances). A job without a key always may.
   */
  turn(uuid: string): boolean {
    const row = this.ctx.one<{ id: number; sync_key: string | null }>('SELECT id, sync_key FROM async_job WHERE uuid = ?', uuid);
    if (row === undefined || row.sync_key === null) return true;
    const older = this.ctx.one<{ id: number }>('SELECT id FROM async_job WHERE sync_key = ? AND status = 0 AND id < ? LIMIT 1',
      row.sync_key, row.id);
    return older === undefined;
  }

  /**
   * Pending jobs whose lease ran out or was given up (their orchestrator died, stalled past its lease, or
   * stopped), oldest first, at most `limit`: what another orchestrator takes over.
   */
  orphans(limit: number): JobRecord[] {
    const n = Math.max(1, Math.min(Math.floor(limit), 1000));
    // Only leased jobs (the orchestrator's) qualify: other components' jobs (maintenance) are their own.
    const { rows, items } = fetchWhere(this.ctx, SPEC, `t.status = 0 AND t.id IN (SELECT j.id FROM async_job j
      JOIN lease l ON l.name = 'job:' || j.uuid WHERE j.status = 0 AND l.expires <= ? ORDER BY j.id LIMIT ?)`,
    this.ctx.now(), n);
    return rows.map((r, i) => record(r, items[i]!));
  }

  create(scope: Scope, input: CreateJobInput): AsyncJob {
    return this.ctx.tx(() => {
      if (input.idempotencykey !== undefined) {
        const existing = this.ctx.one<{ uuid: string }>('SELECT uuid FROM async_job WHERE idempotency_key = ?', input.idempotencykey);
        if (existing !== undefined) return this.get(SYSTEM, existing.uuid);
      }
      const owner = scope === SYSTEM && input.accountid !== undefined ? accountOwner(this.ctx, input.accountid)
        : ownerFor(this.ctx, scope, input.accountid, 'job');
      const userId = scope === SYSTEM ? null : this.ctx.idOf('app_user', scope.userId) ?? null;
      const uuid = this.ctx.uuid();
      const now = this.ctx.now();
      this.ctx.run(`INSERT INTO async_job (uuid, account_id, domain_id, user_id, cmd, cmd_info, instance_type,
        instance_uuid, idempotency_key, owner_node, sync_key, created, last_updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      uuid, owner.accountId, owner.domainId, userId, input.cmd,
      input.cmdinfo === undefined ? null : JSON.stringify(input.cmdinfo), input.instancetype ?? null,
      input.instanceid ?? null, input.idempotencykey ?? null, input.ownernode ?? null, input.synckey ?? null, now, now);
      return this.get(SYSTEM, uuid);
    });
  }

  get(scope: Scope, uuid: string): AsyncJob {
    return getOwned(this.ctx, SPEC, scope, 'job', uuid, '1').item;
  }

  list(scope: Scope, params: ListParams = {}): ListResult<AsyncJob> {
    return listResources(this.ctx, SPEC, scope, params);
  }

  /** Every match of `list`, chunk by chunk (see pagination.ts). */
  scan(scope: Scope, params: ListParams, window: ScanWindow = {}): ScanChunk<AsyncJob> {
    return scanResources(this.ctx, SPEC, scope, params, window);
  }

  /** The job with its private fields (components only). */
  record(uuid: string): JobRecord {
    const { row, item } = getOwned(this.ctx, SPEC, SYSTEM, 'job', uuid, '1');
    return record(row, item);
  }

  /**
   * Pending jobs (optionally of one orchestrator node), oldest first, a chunk at a time: what a
   * restarted orchestrator resumes. A node may have left up to maxQueuedJobs (100,000) of them, so
   * they are never read whole: pass `next` back as `after` until it is null.
   */
  pending(ownernode?: string, after = 0, limit = DEFAULT_SCAN_CHUNK): { items: JobRecord[]; next: number | null } {
    if (!Number.isInteger(after) || !Number.isInteger(limit) || limit < 1 || limit > MAX_SCAN_CHUNK) {
      throw new InvalidParameterError(`pending jobs: after must be a key handed out and limit 1..${MAX_SCAN_CHUNK}`);
    }
    const { rows, items, next } = ownernode === undefined
      ? fetchAfter(this.ctx, SPEC, 't.status = 0', after, limit)
      : fetchAfter(this.ctx, SPEC, 't.status = 0 AND t.owner_node = ?', after, limit, ownernode);
    return { items: rows.map((r, i) => record(r, items[i]!)), next };
  }

  /** Saves step progress of a pending job (ConflictError once the job has finished). */
  saveProgress(uuid: string, progress: unknown, extra: { processstatus?: number; instancetype?: string;
    instanceid?: string; ownernode?: string } = {}): JobRecord {
    return this.ctx.tx(() => {
      const res = this.ctx.run(`UPDATE async_job SET progress = ?, process_status = COALESCE(?, process_status),
        instance_type = COALESCE(?, instance_type), instance_uuid = COALESCE(?, instance_uuid),
        owner_node = COALESCE(?, owner_node), last_updated = ? WHERE uuid = ? AND status = ?`,
      JSON.stringify(progress ?? null), extra.processstatus ?? null, extra.instancetype ?? null, extra.instanceid ?? null,
      extra.ownernode ?? null, this.ctx.now(), uuid, JOB_PENDING);
      if (res.changes === 0) {
        this.get(SYSTEM, uuid);
        throw new ConflictError(`job ${uuid} has already finished; its progress cannot change`);
      }
      return this.record(uuid);
    });
  }

  /**
   * Finishes a pending job (compare-and-set on status 0): succeeded, failed or cancelled with its
   * result. Finishing it again is IllegalStateError, so a job never has two outcomes.
   */
  /**
   * The record of a job the API did itself in one step (e.g. disableAccount): created and completed in
   * one transaction, so no executor ever sees it pending.
   */
  createDone(scope: Scope, input: CreateJobInput, done: CompleteJobInput): AsyncJob {
    return this.ctx.tx(() => this.complete(this.create(scope, input).jobid, done));
  }

  complete(uuid: string, input: CompleteJobInput): AsyncJob {
    const event = STATUS_EVENT[input.status];
    if (event === undefined) throw new InvalidParameterError(`job status must be 1, 2 or 3, got ${String(input.status)}`);
    return this.ctx.tx(() => {
      const id = this.ctx.requireId('async_job', uuid, 'job');
      const now = this.ctx.now();
      applyTransition(this.ctx, { machine: JOB_MACHINE, table: 'async_job', column: 'status', id, uuid, event,
        set: { result_code: input.resultcode ?? (input.status === 1 ? 0 : 530),
          result: input.result === undefined ? null : JSON.stringify(input.result), completed: now, last_updated: now } });
      // A finished job has no owner any more: a stale owner's late write under its lease is refused.
      this.ctx.run('DELETE FROM lease WHERE name = ?', jobLease(uuid));
      return this.get(SYSTEM, uuid);
    });
  }
}
