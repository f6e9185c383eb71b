import { ResourceUnavailableError } from '../../src/errors.js';

/**
 * Runs tasks one at a time per key, in submission order (a VM's operations), and tasks of different
 * keys concurrently. Keys with nothing queued are forgotten, so the map holds only busy keys.
 */
export class KeyedSerializer {
  private readonly tails = new Map<string, Promise<void>>();

  get busyKeys(): number {
    return this.tails.size;
  }

  run<T>(key: string | undefined, task: () => Promise<T>): Promise<T> {
    if (key === undefined) return task();
    const prev = this.tails.get(key) ?? Promise.resolve();
    const result = prev.then(task);
    const tail = result.then(() => undefined, () => undefined);
    this.tails.set(key, tail);
    void tail.then(() => { if (this.tails.get(key) === tail) this.tails.delete(key); });
    return result;
  }
}

/** At most `limit` tasks at once; up to `maxWaiting` more wait in order, further ones are refused. */
export class Semaphore {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number, private readonly maxWaiting: number) {}

  get load(): number {
    return this.running + this.waiting.length;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) {
      if (this.waiting.length >= this.maxWaiting) {
        throw new ResourceUnavailableError(`the orchestrator already has ${this.load} jobs running or waiting; retry later`);
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next !== undefined) next(); // hand the slot over
      else this.running--;
    }
  }
}
