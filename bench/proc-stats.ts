/** What the multi-process benches read of their children (Linux /proc), and a polling wait. */
import { readdirSync, readFileSync } from 'node:fs';

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

/**
 * CPU time, in clock ticks, of `pid`, of the children it has waited for (cutime + cstime: the short-lived
 * programs it ran) and of its children still running, each counted the same way (a long-lived `virsh
 * event`). What a process costs the machine including the programs it runs; the difference of two
 * readings is exact for children born or reaped in between.
 */
export function cpuTicksWithChildren(pid: number): number {
  const stat = (p: number): number[] => readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]!.split(' ').map(Number);
  const own = (p: number): number => { const f = stat(p); return f[11]! + f[12]! + f[13]! + f[14]!; };
  let total = own(pid);
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    let kids: number[] = [];
    try { kids = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').split(' ').filter(Boolean).map(Number); } catch { /* task gone */ }
    for (const k of kids) { try { total += own(k); } catch { /* exited since */ } }
  }
  return total;
}

/** Polls `cond` every `pollMs` until it holds; throws after `timeoutMs` naming `what`. */
export async function waitUntil(cond: () => Promise<boolean>, timeoutMs: number, what: string, pollMs = 25): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
