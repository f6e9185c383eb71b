import { ResourceUnavailableError } from '../../src/errors.js';

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
