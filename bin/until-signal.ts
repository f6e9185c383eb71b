import type { Logger } from '../src/logger.js';

/** After a clean stop, how long to wait for stray handles before exiting anyway, ms. */
export const EXIT_GRACE_MS = 2_000;

/**
 * Keeps the process alive (real timers are unref()'d) until SIGINT or SIGTERM, then runs `stop` once
 * and exits 0 — after EXIT_GRACE_MS at the latest, should a stray handle keep the loop alive.
 * Returns a function that tells whether a stop has begun.
 */
export function runUntilSignal(log: Logger, stop: () => Promise<void>): () => boolean {
  const keepAlive = setInterval(() => undefined, 1 << 30);
  let stopping = false;
  const onSignal = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info('stopping', { signal });
    clearInterval(keepAlive);
    await stop();
    log.info('stopped');
    process.exitCode = 0;
    setTimeout(() => process.exit(0), EXIT_GRACE_MS).unref();
  };
  process.once('SIGINT', () => void onSignal('SIGINT'));
  process.once('SIGTERM', () => void onSignal('SIGTERM'));
  return () => stopping;
}
