import { InvalidParameterError } from '../../src/errors.js';

interface Entry {
  /** What the key was first used for (command and VM); a key names one command only. */
  signature: string;
  promise: Promise<unknown>;
  done: boolean;
  value: unknown;
}

/**
 * Idempotency keys of recent commands on one host. The orchestrator sends each job step at least
 * once with the same key; a repeat joins the operation still in progress, or answers the success
 * already recorded without running it again. Failures are forgotten, so a retry runs the command
 * again (a failed command leaves the host as it was). Bounded: the oldest keys are dropped first.
 */
export class CommandCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.entries.size;
  }

  run<T>(key: string, signature: string, fn: () => Promise<T>): Promise<T> {
    const seen = this.entries.get(key);
    if (seen !== undefined) {
      if (seen.signature !== signature) {
        return Promise.reject(new InvalidParameterError(
          `idempotency key ${key} was already used for ${seen.signature}, not ${signature}; use a new key per command`));
      }
      return (seen.done ? Promise.resolve(seen.value) : seen.promise) as Promise<T>;
    }
    const promise = fn();
    const entry: Entry = { signature, promise, done: false, value: undefined };
    this.entries.set(key, entry);
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    promise.then(
      (value) => { entry.done = true; entry.value = value; },
      () => { if (this.entries.get(key) === entry) this.entries.delete(key); },
    );
    return promise;
  }
}
