import { InterruptedError, ResourceUnavailableError, fromWire, toWire } from '../../src/errors.js';
import { validate } from '../../src/schema.js';
import type { Components } from './components.js';
import { createPhase } from './create-phase.js';
import { FLOWS, type Flow, type FlowEnv, type JobOutcome } from './flows/index.js';
import { JOB_COMMANDS, jobError } from './job-catalog.js';
import { JobAbandoned, JobContext, emptyJournal, loadJournal, type JournalData, type UndoExecutor } from './journal.js';
import { Planner } from './planner.js';
import { JobRequestSchema, type JobRequest, type OrchestratorStats, type SubmitReply, type SyncRequest } from './protocol.js';
import { executeSync } from './sync-ops.js';
import { KeyedSerializer, Semaphore } from './serializer.js';
import { createUndoExecutor } from './undo.js';

/** A job as the runner keeps it: the request, with the id of what its create phase made. */
type StoredRequest = JobRequest & { created?: string };

/**
 * Runs jobs: creates the async_job row (owned by this orchestrator node), runs the command's flow in
 * the background under its VM's lock and a concurrency slot, saves the step journal after every step,
 * and completes the job with its result or its error — after rolling back what the failed flow did.
 * `recover()` picks up the jobs an earlier incarnation left pending; `stop()` makes running flows
 * abandon at their next step (the jobs stay pending for the next incarnation).
 */
export class JobRunner {
  readonly planner: Planner;
  private readonly undo: UndoExecutor;
  /** One operation per VM at a time, for jobs and synchronous commands alike. */
  readonly locks = new KeyedSerializer();
  private readonly slots: Semaphore;
  private readonly counters: OrchestratorStats = { active: 0, succeeded: 0, failed: 0, recovered: 0 };
  private alive = true;
  private syncSeq = 0;

  constructor(private readonly c: Components, private readonly nodeId: string) {
    this.planner = new Planner(c);
    this.undo = createUndoExecutor(c);
    this.slots = new Semaphore(c.config.maxConcurrentJobs, c.config.maxQueuedJobs);
  }

  stats(): OrchestratorStats {
    return { ...this.counters };
  }

  stop(): void {
    this.alive = false;
  }

  /** A synchronous command (recoverVirtualMachine, deleteVolume, the simulator mocks). */
  execute(req: SyncRequest): Promise<Record<string, unknown>> {
    return executeSync(this.c, this.locks, req, `sync:${this.nodeId}:${this.c.clock.now()}:${++this.syncSeq}`);
  }

  async submit(req: JobRequest): Promise<SubmitReply> {
    const limit = this.c.config.maxConcurrentJobs + this.c.config.maxQueuedJobs;
    if (this.counters.active >= limit) {
      throw new ResourceUnavailableError(`the orchestrator already has ${limit} jobs running or waiting (maxConcurrentJobs + maxQueuedJobs); retry later`);
    }
    const prepared = await createPhase(this.c, req);
    const cat = JOB_COMMANDS[req.op];
    const stored: StoredRequest = prepared.created === undefined ? req : { ...req, created: prepared.created };
    const job = await this.c.data.jobs.create(req.caller, {
      cmd: cat.cmd, cmdinfo: stored, instancetype: cat.instancetype, ownernode: this.nodeId,
      ...(prepared.instanceid === undefined ? {} : { instanceid: prepared.instanceid }),
    });
    this.launch(job.jobid, stored, emptyJournal());
    return prepared.created === undefined ? { jobid: job.jobid } : { jobid: job.jobid, id: prepared.created };
  }

  /**
   * The jobs this node's earlier incarnation left pending: each is resumed from its journal (a new
   * generation of step keys), or — with resumeOnRestart off — rolled back and failed as interrupted.
   */
  async recover(): Promise<number> {
    let count = 0;
    // Chunk by chunk: a node may have left many (up to maxQueuedJobs); each chunk is one data reply.
    for (let after: number | null = 0; after !== null;) {
      const chunk = await this.c.data.jobs.pending(this.nodeId, after);
      after = chunk.next;
      count += chunk.items.length;
      for (const rec of chunk.items) await this.recoverOne(rec);
    }
    return count;
  }

  private async recoverOne(rec: Awaited<ReturnType<Components['data']['jobs']['pending']>>['items'][number]): Promise<void> {
    const jobId = rec.job.jobid;
    const problem = validate(JobRequestSchema, rec.cmdinfo);
    if (problem !== undefined) {
      await this.c.data.jobs.complete(jobId, { status: 2, resultcode: 530, result: { errorcode: 530,
        errortext: `job ${jobId} was interrupted by an orchestrator restart and its request could not be read back (${problem})` } });
      return;
    }
    const journal = loadJournal(rec.progress);
    journal.gen++;
    if (!this.c.config.resumeOnRestart && journal.failure === undefined) {
      journal.failure = toWire(new InterruptedError(`job ${jobId} was interrupted: the orchestrator restarted before it finished, ` +
        'and what the job had done was undone'));
    }
    await this.c.data.orchestration.saveJournal(jobId, journal);
    this.counters.recovered++;
    this.c.log.info('recovering a job left by an earlier orchestrator', { job: jobId, op: (rec.cmdinfo as JobRequest).op,
      resume: journal.failure === undefined });
    this.launch(jobId, rec.cmdinfo as StoredRequest, journal);
  }

  private launch(jobId: string, req: StoredRequest, journal: JournalData): void {
    if (req.created !== undefined) journal.steps['created'] = req.created;
    this.counters.active++;
    const flow = FLOWS[req.op] as Flow<JobRequest['op']>;
    void (async () => {
      const key = req.op === 'deployVm' ? req.created : await flow.lock(req, this.c);
      await this.locks.run(key, () => this.slots.run(() => this.runJob(jobId, req, flow, journal)));
    })().catch((err: unknown) => {
      this.c.log.error('job could not run; it stays pending for the next orchestrator incarnation', { job: jobId, error: String(err) });
    }).finally(() => { this.counters.active--; });
  }

  private async runJob(jobId: string, req: StoredRequest, flow: Flow<JobRequest['op']>, journal: JournalData): Promise<void> {
    const ctx = new JobContext(jobId, journal, (j) => this.c.data.orchestration.saveJournal(jobId, j), () => this.alive);
    const env: FlowEnv = { ctx, c: this.c, planner: this.planner, undo: this.undo };
    try {
      if (ctx.failure !== undefined) throw fromWire(ctx.failure);
      const outcome = await flow.run(env, req);
      await this.c.data.jobs.complete(jobId, { status: 1, resultcode: 0, result: render(outcome) });
      this.counters.succeeded++;
    } catch (err) {
      if (err instanceof JobAbandoned) return;
      await this.fail(env, flow, req, err);
    }
  }

  private async fail(env: FlowEnv, flow: Flow<JobRequest['op']>, req: StoredRequest, err: unknown): Promise<void> {
    const result = jobError(err, req.caller.role === 'admin');
    try {
      await env.ctx.fail(toWire(err));
      await env.ctx.rollback({ order: 0, undo: 0 }, this.undo);
      await flow.failed?.(env, req, err);
    } catch (cleanup) {
      if (cleanup instanceof JobAbandoned) return;
      this.c.log.error('a failed job could not undo everything it did', { job: env.ctx.jobId, error: String(cleanup) });
      result.errorcode = 530;
      result.errortext = `${result.errortext}; undoing the job's steps then failed too (${(cleanup as Error).message}), so some ` +
        'resources may still be held';
    }
    try {
      await this.c.data.jobs.complete(env.ctx.jobId, { status: 2, resultcode: result.errorcode, result });
      this.counters.failed++;
    } catch (e) {
      this.c.log.error('could not record a failed job; it stays pending', { job: env.ctx.jobId, error: String(e) });
    }
  }
}

function render(outcome: JobOutcome): unknown {
  return outcome.kind === 'success' ? { success: true } : { [outcome.objectName]: outcome.object };
}
