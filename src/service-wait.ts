/**
 * Riding out a service that is briefly gone (its process restarting, its node rejoining): a call is
 * tried again, with backoff, for up to a named time instead of failing at once. Only what cannot do
 * harm is repeated: a call that was never handled (no live instance, never sent, no actor there) always, and one
 * whose outcome is unknown (the instance was lost after it was sent) only when repeating it is safe
 * (a read, or an idempotent write).
 */
import type { Clock } from './clock.js';
import { DeadLetterError, NoInstanceError, NotSentError, PeerDownError, StoppedError } from './errors.js';

export interface ServiceWaitOptions {
  clock: Clock;
  /** Longest time to keep trying, ms. */
  waitMs: number;
  /** First pause between tries, ms (doubled each time, up to maxPauseMs). Default 100. */
  firstPauseMs?: number;
  /** Longest pause between tries, ms. Default 1,000. */
  maxPauseMs?: number;
}

/** Nothing was done: no instance, never sent, or no actor there to take it (a dead letter is never handled). */
const UNSENT = (err: unknown): boolean => err instanceof NoInstanceError || err instanceof NotSentError || err instanceof DeadLetterError;
const LOST = (err: unknown): boolean => err instanceof PeerDownError || err instanceof StoppedError;

export async function withServiceWait<T>(attempt: () => Promise<T>, safeToRepeat: boolean, o: ServiceWaitOptions): Promise<T> {
  const until = o.clock.now() + o.waitMs;
  let pause = o.firstPauseMs ?? 100;
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      const retry = UNSENT(err) || (safeToRepeat && LOST(err));
      if (!retry || o.clock.now() + pause > until) throw err;
    }
    await new Promise<void>((resolve) => { o.clock.setTimeout(resolve, pause); });
    pause = Math.min(pause * 2, o.maxPauseMs ?? 1_000);
  }
}
