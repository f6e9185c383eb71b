import type { Clock } from '../../src/clock.js';
import { ResourceUnavailableError, TimeoutError } from '../../src/errors.js';

/**
 * The host's command workers: at most `limit` VM commands run at once (CloudStack's agent has a pool
 * of `workers` threads for the same reason), and up to `maxWaiting` more wait in arrival order, so a
 * burst of deploys onto one host is not served one start after another. A command that is still
 * waiting for a slot at its ask's deadline is not run at all: the asker has given up on it.
 */
export class CommandSlots {
  private running = 0;
  private readonly waiting: { grant: () => void; expire: () => void }[] = [];

  constructor(private readonly clock: Clock, private readonly limit: number, private readonly maxWaiting: number, private readonly host: () => string) {}

  get load(): number {
    return this.running + this.waiting.length;
  }

  async run<T>(what: string, deadline: number | undefined, task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await this.queue(what, deadline);
    else this.running++;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next !== undefined) next.grant(); // hand the slot over
      else this.running--;
    }
  }

  private queue(what: string, deadline: number | undefined): Promise<void> {
    if (this.waiting.length >= this.maxWaiting) {
      throw new ResourceUnavailableError(`host ${this.host()} already has ${this.load} commands running or waiting (limit ${this.limit} + ${this.maxWaiting}); ${what} was not run, retry later`);
    }
    return new Promise<void>((resolve, reject) => {
      const entry = {
        grant: () => { timer?.cancel(); resolve(); },
        expire: () => {
          const i = this.waiting.indexOf(entry);
          if (i >= 0) this.waiting.splice(i, 1);
          reject(new TimeoutError(`${what} waited on host ${this.host()} for one of its ${this.limit} command slots past the ask's deadline; it was not run`));
        },
      };
      const timer = deadline === undefined ? undefined : this.clock.setTimeout(entry.expire, deadline - this.clock.now());
      this.waiting.push(entry);
    });
  }
}
