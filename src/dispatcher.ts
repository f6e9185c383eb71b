import { RingQueue } from './queue.js';

/** What the dispatcher runs: a cell with messages waiting. */
export interface Runnable {
  /** Handles up to its throughput of messages; returns how many it handled. */
  runSome(): number;
}

/**
 * Runs every ready actor of a system from one microtask instead of one microtask per actor, so a
 * burst spread over many actors costs one scheduling round. After `turnBudget` messages it yields to
 * the event loop (setImmediate) so I/O is never starved.
 */
export class Dispatcher {
  private readonly ready = new RingQueue<Runnable>(64);
  private scheduled = false;

  constructor(private readonly turnBudget = 8_192) {}

  schedule(r: Runnable): void {
    this.ready.push(r);
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(this.drain);
    }
  }

  private readonly drain = (): void => {
    let budget = this.turnBudget;
    while (budget > 0) {
      const r = this.ready.shift();
      if (r === undefined) { this.scheduled = false; return; }
      budget -= r.runSome() + 1;
    }
    if (this.ready.length > 0) setImmediate(this.drain);
    else this.scheduled = false;
  };
}
