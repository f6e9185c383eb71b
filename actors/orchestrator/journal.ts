import { ConflictError, InterruptedError, type WireError } from '../../src/errors.js';

/**
 * A compensation, as data: what to do to undo a completed step. Being data rather than a closure, it
 * survives a restart: a new incarnation of the orchestrator runs the compensations an old one recorded.
 */
export interface UndoAction {
  op: 'vmState' | 'releaseHost' | 'releaseNic' | 'stopOnHost' | 'abortMigration' | 'detachVolume' | 'releasePublicIp';
  args: Record<string, string>;
}

/**
 * A job's durable progress, saved through the data service (the job's progress column) after every step:
 * - `steps`: the result of each completed step, by name (a resumed job skips them);
 * - `order`: step names in completion order (so a partial rollback can forget what it undid);
 * - `undo`: compensations of completed steps, oldest first;
 * - `failure`: set once the job has failed, while it compensates (a resumed job carries on undoing);
 * - `gen`: the incarnation, part of every step key, so that a step re-sent after a restart is a new
 *   command to the receivers' key caches (which remember successes) and never a stale replay.
 */
export interface JournalData {
  gen: number;
  steps: Record<string, unknown>;
  order: string[];
  undo: { step: string; action: UndoAction }[];
  failure?: WireError;
}

export function emptyJournal(): JournalData {
  return { gen: 0, steps: {}, order: [], undo: [] };
}

/** Reads a stored journal back, tolerating an absent or foreign value (then the job starts afresh). */
export function loadJournal(raw: unknown): JournalData {
  if (raw === null || typeof raw !== 'object') return emptyJournal();
  const j = raw as Partial<JournalData>;
  const out: JournalData = {
    gen: typeof j.gen === 'number' ? j.gen : 0,
    steps: j.steps !== null && typeof j.steps === 'object' ? j.steps : {},
    order: Array.isArray(j.order) ? j.order : [],
    undo: Array.isArray(j.undo) ? j.undo : [],
  };
  if (j.failure !== undefined) out.failure = j.failure;
  return out;
}

/** A position in the journal to roll back to (the start of a start attempt, say). */
export interface Mark {
  order: number;
  undo: number;
}

/** Thrown when the orchestrator stops under a running job: the job stays pending for the next incarnation. */
export class JobAbandoned extends InterruptedError {}

/**
 * The data service was lost in the middle of a call (its outcome unknown): rather than fail the job on
 * a write that may well have landed, the job is left pending and resumed from its journal, whose steps
 * are idempotent by state, once the data service is back.
 */
export class DataLost extends JobAbandoned {}

export type UndoExecutor = (action: UndoAction, key: string) => Promise<void>;

/**
 * The step journal of one running job. `step()` runs a step once: a completed step (recorded in the
 * journal) returns its recorded result, so a resumed job re-runs the flow's code and only does what
 * was not done yet. Each step may register a compensation; `rollback()` runs them newest first.
 */
export class JobContext {
  constructor(
    readonly jobId: string,
    private readonly journal: JournalData,
    private readonly save: (journal: JournalData) => Promise<unknown>,
    private readonly alive: () => boolean,
  ) {}

  get generation(): number {
    return this.journal.gen;
  }

  get failure(): WireError | undefined {
    return this.journal.failure;
  }

  /** The idempotency key of a step of this job in this incarnation. */
  key(name: string): string {
    return `${this.jobId}:${this.journal.gen}:${name}`;
  }

  has(name: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.journal.steps, name);
  }

  get<T>(name: string): T | undefined {
    return this.has(name) ? (this.journal.steps[name] as T) : undefined;
  }

  /** Runs `run` unless the step is already recorded; records its result and compensation. */
  async step<T>(name: string, run: (key: string) => Promise<T>, undo?: (result: T) => UndoAction | undefined): Promise<T> {
    if (this.has(name)) return this.journal.steps[name] as T;
    this.checkAlive();
    const result = await run(this.key(name));
    this.checkAlive();
    this.journal.steps[name] = result === undefined ? null : result;
    this.journal.order.push(name);
    const action = undo?.(result);
    if (action !== undefined) this.journal.undo.push({ step: name, action });
    await this.persist();
    return result;
  }

  /**
   * Like `step`, for a step whose effect may outlive its failure (a VM start that times out may still
   * complete on the host): the compensation is recorded before the step runs, so a rollback undoes it
   * whether the step succeeded, failed, or is still running somewhere.
   */
  async guarded<T>(name: string, action: UndoAction, run: (key: string) => Promise<T>): Promise<T> {
    if (this.has(name)) return this.journal.steps[name] as T;
    this.checkAlive();
    const last = this.journal.undo[this.journal.undo.length - 1];
    if (last?.step !== name) {
      this.journal.undo.push({ step: name, action });
      await this.persist();
    }
    return this.step(name, run);
  }

  /** Records a decision (e.g. which host an attempt failed on) as a completed step. */
  async note(name: string, value: unknown): Promise<void> {
    await this.step(name, async () => value);
  }

  mark(): Mark {
    return { order: this.journal.order.length, undo: this.journal.undo.length };
  }

  /**
   * Undoes every compensation registered after `mark`, newest first, and forgets the steps completed
   * after it (so that they run again if the flow comes back to them). Progress is saved after each
   * compensation, so a restart in the middle carries on where it stopped.
   */
  async rollback(mark: Mark, exec: UndoExecutor): Promise<void> {
    while (this.journal.undo.length > mark.undo) {
      const entry = this.journal.undo[this.journal.undo.length - 1]!;
      this.checkAlive();
      await exec(entry.action, this.key(`${entry.step}:undo`));
      this.journal.undo.pop();
      await this.persist();
    }
    if (this.journal.order.length > mark.order) {
      for (const name of this.journal.order.splice(mark.order)) delete this.journal.steps[name];
      await this.persist();
    }
  }

  /** Keeps what was done since `mark` for good: a later failure of the job no longer undoes it. */
  async commit(mark: Mark): Promise<void> {
    if (this.journal.undo.length === mark.undo) return;
    this.journal.undo.splice(mark.undo);
    await this.persist();
  }

  /** Records that the job failed; a resumed job then compensates instead of going on. */
  async fail(failure: WireError): Promise<void> {
    if (this.journal.failure !== undefined) return;
    this.journal.failure = failure;
    await this.persist();
  }

  private checkAlive(): void {
    if (!this.alive()) throw new JobAbandoned(`job ${this.jobId} was left for the next orchestrator incarnation`);
  }

  private async persist(): Promise<void> {
    try {
      await this.save(this.journal);
    } catch (err) {
      // The job finished elsewhere (an older incarnation completed it): stop here, touch nothing more.
      if (err instanceof ConflictError) throw new JobAbandoned(`job ${this.jobId} has already finished`, { cause: err });
      throw err;
    }
  }
}
