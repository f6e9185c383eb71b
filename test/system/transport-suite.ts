/** What the multi-process suites that run once per networked transport share. */

export interface TransportSuiteOptions {
  transport: 'ws' | 'redis';
  /** Runs before the cluster starts (redis: start the server); returns the redis URL when there is one. */
  setup?: (ctx: Mocha.Context) => Promise<string | undefined>;
}

/** A figure the suite measured, printed under the test's name. */
export function print(line: string): void {
  process.stdout.write(`      (${line})\n`);
}
