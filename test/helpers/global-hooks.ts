/**
 * Loaded by mocha before any test (see .mocharc.json): an unhandled rejection or uncaught exception
 * fails the run instead of passing silently, and cleanup functions registered by helpers (servers,
 * child processes) run even when a test fails.
 */
const cleanups: (() => Promise<void> | void)[] = [];

export function onCleanup(fn: () => Promise<void> | void): void {
  cleanups.push(fn);
}

const failures: unknown[] = [];
process.on('unhandledRejection', (reason) => { failures.push(reason); });

export const mochaHooks = {
  afterEach(): void {
    if (failures.length > 0) {
      const first = failures.splice(0);
      throw new Error(`unhandled rejection during the test: ${String((first[0] as Error)?.stack ?? first[0])}`);
    }
  },
  async afterAll(): Promise<void> {
    for (const fn of cleanups.splice(0).reverse()) {
      try { await fn(); } catch (err) { process.stderr.write(`cleanup failed: ${String(err)}\n`); }
    }
  },
};
