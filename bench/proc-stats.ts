/** What the multi-process benches read of their children (Linux /proc), and a polling wait. */
import { readFileSync } from 'node:fs';

/** Resident set size of `pid`, KiB. */
export function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? NaN : Number(m[1]);
}

/** CPU time of `pid` so far (utime + stime), in clock ticks (100 per second on Linux). */
export function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** Polls `cond` every `pollMs` until it holds; throws after `timeoutMs` naming `what`. */
export async function waitUntil(cond: () => Promise<boolean>, timeoutMs: number, what: string, pollMs = 25): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
