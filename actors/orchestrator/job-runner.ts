import { FencedError, InterruptedError, ResourceUnavailableError, fromWire, isRetryable, toWire } from '../../src/errors.js';
import { validate } from '../../src/schema.js';
import type { Components } from './components.js';
import { createPhase } from './create-phase.js';
import { FLOWS, type Flow, type FlowEnv, type JobOutcome } from './flows/index.js';
import { JOB_COMMANDS, jobError } from './job-catalog.js';
import { JobOwnership } from './job-ownership.js';
import { DataLost, JobAbandoned, JobContext, emptyJournal, loadJournal, type JournalData } from './journal.js';
import { Planner } from './planner.js';
import { JobRequestSchema, type JobRequest, type OrchestratorStats, type SubmitReply, type SyncRequest } from './protocol.js';
import { executeSync } from './sync-ops.js';
import { KeyedSerializer } from '../../src/keyed-serializer.js';
import { Semaphore } from './serializer.js';
import { createUndoExecutor } from './undo.js';

/** A job as the runner keeps it: the request, with the id of what its create phase made. */
type StoredRequest = JobRequest & { created?: string };

type PendingRecord = Awaited<ReturnType<Components['data']['jobs']['pending']>>['items'][number];

/**
 * Runs jobs: creates the async_job row already leased to this instance, runs the command's flow in the
 * background once it is the oldest job of its VM (across every orchestrator) and a concurrency slot is
 * free, saves the step journal after every step, and completes the job with its result or its error —
 * after rolling back what the failed flow did. Every write and command of a job is fenced by its lease:
 * once another instance owns the job, this one's writes are refused and its flow stops at the next
 * step. `recover()` takes over the jobs this node's previous incarnation left; every takeoverScanMs the
 * runner takes over jobs whose owner's lease ran out (a dead or stalled orchestrator).
 */
export class JobRunner {
  readonly planner: Planner;
  /** One operation per VM at a time for synchronous commands (jobs wait for their turn in the data service). */
  readonly locks = new KeyedSerializer();
  readonly ownership: JobOwnership;
  private readonly slots: Semaphore;
  /** When this instance began running each job it runs (job latency, see OrchestratorStats.latency). */
  private readonly began = new Map<string, number>();
  private readonly latency = { counts: new Array<number>(JOB_LATENCY_BOUNDS_MS.length + 1).fill(0), sumMs: 0, count: 0 };
  private readonly counters = { active: 0, succeeded: 0, failed: 0, recovered: 0, takenOver: 0, lostLeases: 0 } satisfies OrchestratorStats;
  private readonly running = new Set<string>();
  private alive = true;
  private syncSeq = 0;

  constructor(private readonly c: Components, private readonly nodeId: string, incarnation: number) {
    this.planner = new Planner(c);
    this.slots = new Semaphore(c.config.maxConcurrentJobs, c.config.maxQueuedJobs);
    this.ownership = new JobOwnership(c, nodeId, incarnation);
    this.ownership.keeper.onLost((lease, reason) => {
      this.counters.lostLeases++;
      c.log.warn('lost a job lease; the job stops here and its new owner carries on', { lease, reason });
    });
  }

  stats(): OrchestratorStats {
    return { ...this.counters, owner: this.ownership.owner, leases: this.ownership.keeper.size,
      latency: { boundsMs: [...JOB_LATENCY_BOUNDS_MS], counts: [...this.latency.counts], sumMs: this.latency.sumMs, count: this.latency.count } };
  }

  /** Starts renewing leases and looking for orphaned jobs. */
  start(): void {
    this.ownership.start(async () => { await this.takeOver(); });
  }

  /**
   * Running flows stop at their next step; their leases are given back, so that another instance (or
   * this node's next incarnation) resumes them at once instead of waiting for the leases to run out.
   */
  stop(): void {
    this.alive = false;
    const held = [...this.running];
    this.ownership.stop();
    for (const jobId of held) void this.ownership.giveUp(jobId);
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
    const syncKey = req.op === 'deployVm' ? prepared.created : await (FLOWS[req.op] as Flow<JobRequest['op']>).lock(req, this.c);
    const sentAt = this.c.clock.now();
    const { job, epoch } = await this.c.data.jobs.createOwned(req.caller, {
      cmd: cat.cmd, cmdinfo: stored, instancetype: cat.instancetype, ownernode: this.nodeId,
      ...(prepared.instanceid === undefined ? {} : { instanceid: prepared.instanceid }),
      ...(syncKey === undefined ? {} : { synckey: syncKey }),
    }, this.ownership.owner, this.c.config.jobLease.ttlMs);
    this.ownership.adopt(job.jobid, epoch, sentAt);
    this.launch(job.jobid, stored, emptyJournal(), syncKey);
    return prepared.created === undefined ? { jobid: job.jobid } : { jobid: job.jobid, id: prepared.created };
  }

  /**
   * Takes over the jobs this node's earlier incarnation left pending (their leases are superseded at
   * once: that incarnation is gone), then any job whose owner's lease ran out.
   */
  async recover(): Promise<number> {
    let n = 0;
    // Chunk by chunk: a node may have left many (up to maxQueuedJobs); each chunk is one data reply.
    for (let after: number | null = 0; after !== null;) {
      const chunk = await this.c.data.jobs.pending(this.nodeId, after);
      after = chunk.next;
      for (const rec of chunk.items) if (await this.resume(rec)) n++;
    }
    return n + await this.takeOver();
  }

  /** One takeover round: pending jobs nobody holds a live lease on are claimed and resumed. */
  async takeOver(): Promise<number> {
    if (!this.alive) return 0;
    let n = 0;
    for (const rec of await this.c.data.jobs.orphans(this.c.config.takeoverBatch)) {
      if (!this.alive) break;
      if (await this.resume(rec)) { n++; this.counters.takenOver++; }
    }
    return n;
  }

  /**
   * Claims a pending job and resumes it from its journal (a new generation of step keys), or — with
   * resumeOnRestart off — rolls it back and fails it as interrupted. False when another instance got it.
   */
  private async resume(rec: PendingRecord): Promise<boolean> {
    const jobId = rec.job.jobid;
    if (this.running.has(jobId) || !(await this.ownership.claim(jobId))) return false;
    try {
      await this.resumeClaimed(rec);
      return true;
    } catch (err) {
      // Claimed but not launched (the data service went away meanwhile): give it back for the next scan.
      await this.ownership.giveUp(jobId);
      throw err;
    }
  }

  private async resumeClaimed(rec: PendingRecord): Promise<void> {
    const jobId = rec.job.jobid;
    const fence = this.ownership.fence(jobId)!;
    const data = this.c.fenced(fence).data;
    const problem = validate(JobRequestSchema, rec.cmdinfo);
    if (problem !== undefined) {
      this.ownership.completing(jobId);
      await data.jobs.complete(jobId, { status: 2, resultcode: 530, result: { errorcode: 530,
        errortext: `job ${jobId} was interrupted by an orchestrator restart and its request could not be read back (${problem})` } });
      this.ownership.finished(jobId, rec.synckey);
      return;
    }
    const journal = loadJournal(rec.progress);
    journal.gen++;
    if (!this.c.config.resumeOnRestart && journal.failure === undefined) {
      journal.failure = toWire(new InterruptedError(`job ${jobId} was interrupted: the orchestrator restarted before it finished, ` +
        'and what the job had done was undone'));
    }
    await data.jobs.saveProgress(jobId, journal, { ownernode: this.nodeId });
    this.counters.recovered++;
    this.c.log.info('resuming a job left by another orchestrator incarnation', { job: jobId, op: (rec.cmdinfo as JobRequest).op,
      previousOwner: rec.ownernode ?? '', resume: journal.failure === undefined });
    this.launch(jobId, rec.cmdinfo as StoredRequest, journal, rec.synckey);
  }

  private launch(jobId: string, req: StoredRequest, journal: JournalData, syncKey: string | undefined): void {
    if (req.created !== undefined) journal.steps['created'] = req.created;
    this.counters.active++;
    this.running.add(jobId);
    this.began.set(jobId, this.c.clock.now());
    const flow = FLOWS[req.op] as Flow<JobRequest['op']>;
    void (async () => {
      if (!(await this.ownership.waitTurn(jobId, syncKey, () => this.alive))) return;
      await this.slots.run(() => this.runJob(jobId, req, flow, journal));
    })().catch((err: unknown) => {
      this.c.log.error('job could not run; it stays pending for the next owner', { job: jobId, error: String(err) });
    }).finally(() => {
      this.counters.active--;
      this.running.delete(jobId);
      this.began.delete(jobId);
      this.ownership.finished(jobId, syncKey);
    });
  }

  private async runJob(jobId: string, req: StoredRequest, flow: Flow<JobRequest['op']>, journal: JournalData): Promise<void> {
    const fence = this.ownership.fence(jobId);
    if (fence === undefined) return; // lost while waiting for a slot: the new owner runs it
    const c = this.c.config.fenceWrites ? this.c.fenced(fence) : this.c;
    const alive = (): boolean => this.alive && this.ownership.holds(jobId);
    const ctx = new JobContext(jobId, journal, (j) => c.data.orchestration.saveJournal(jobId, j), alive);
    const env: FlowEnv = { ctx, c, planner: this.planner.for(c), undo: createUndoExecutor(c) };
    try {
      if (ctx.failure !== undefined) throw fromWire(ctx.failure);
      const outcome = await flow.run(env, req);
      if (!alive()) return;
      this.ownership.completing(jobId);
      await c.data.jobs.complete(jobId, { status: 1, resultcode: 0, result: render(outcome) });
      this.counters.succeeded++;
      this.finished(jobId);
    } catch (err) {
      if (err instanceof DataLost) { await this.ownership.giveUp(jobId); return; }
      if (err instanceof JobAbandoned || err instanceof FencedError || !alive()) return;
      await this.fail(env, flow, req, err);
    }
  }

  /** Counts a finished job's latency. */
  private finished(jobId: string): void {
    const began = this.began.get(jobId);
    if (began === undefined) return;
    const ms = this.c.clock.now() - began;
    let i = 0;
    while (i < JOB_LATENCY_BOUNDS_MS.length && ms > JOB_LATENCY_BOUNDS_MS[i]!) i++;
    this.latency.counts[i]!++;
    this.latency.sumMs += ms;
    this.latency.count++;
  }

  private async fail(env: FlowEnv, flow: Flow<JobRequest['op']>, req: StoredRequest, err: unknown): Promise<void> {
    const result = jobError(err, req.caller.role === 'admin');
    try {
      await env.ctx.fail(toWire(err));
      await env.ctx.rollback({ order: 0, undo: 0 }, env.undo);
      await flow.failed?.(env, req, err);
    } catch (cleanup) {
      if (cleanup instanceof DataLost) { await this.ownership.giveUp(env.ctx.jobId); return; }
      if (cleanup instanceof JobAbandoned || cleanup instanceof FencedError) return;
      if (isRetryable(cleanup) && env.ctx.generation < this.c.config.maxResumes) {
        // A component is out of reach for now: leave the job pending (its failure is in the journal)
        // and let whoever takes it over next carry on undoing, rather than end it holding resources.
        this.c.log.warn('a failed job could not undo its steps yet; it stays pending and is resumed', { job: env.ctx.jobId,
          error: String(cleanup) });
        await this.ownership.giveUp(env.ctx.jobId);
        return;
      }
      this.c.log.error('a failed job could not undo everything it did', { job: env.ctx.jobId, error: String(cleanup) });
      result.errorcode = 530;
      result.errortext = `${result.errortext}; undoing the job's steps then failed too (${(cleanup as Error).message}), so some ` +
        'resources may still be held';
    }
    try {
      this.ownership.completing(env.ctx.jobId);
      await env.c.data.jobs.complete(env.ctx.jobId, { status: 2, resultcode: result.errorcode, result });
      this.counters.failed++;
      this.finished(env.ctx.jobId);
    } catch (e) {
      this.c.log.error('could not record a failed job; it stays pending', { job: env.ctx.jobId, error: String(e) });
    }
  }
}

/** Job latency buckets, ms: 10 ms (a sync-like job) to a minute (a slow deploy). */
const JOB_LATENCY_BOUNDS_MS = [10, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000] as const;

function render(outcome: JobOutcome): unknown {
  return outcome.kind === 'success' ? { success: true } : { [outcome.objectName]: outcome.object };
}
