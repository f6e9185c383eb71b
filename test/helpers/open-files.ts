/**
 * Tests and benches that hold thousands of sockets need that many file descriptors in each process.
 * On Linux this reads a process's limit from /proc and, when the soft limit is too low but the hard
 * limit allows it, raises the soft limit with util-linux `prlimit` (an unprivileged change). It never
 * touches the hard limit; when that is too low it throws, saying what to run.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface OpenFilesLimit {
  soft: number;
  hard: number;
}

/** The open-files limit of a process (Linux); undefined elsewhere. */
export function openFilesLimit(pid: number = process.pid): OpenFilesLimit | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/limits`, 'utf8');
  } catch {
    return undefined;
  }
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(text);
  if (m === null) return undefined;
  const n = (v: string): number => (v === 'unlimited' ? Number.POSITIVE_INFINITY : Number(v));
  return { soft: n(m[1]!), hard: n(m[2]!) };
}

/**
 * Makes sure process `pid` may open `needed` files; returns what was done, for the test's output.
 * Throws when the hard limit is below `needed` or the soft limit cannot be raised.
 */
export function ensureOpenFiles(needed: number, pid: number = process.pid): string {
  const limit = openFilesLimit(pid);
  if (limit === undefined) return 'open-files limit not checked (no /proc)';
  if (limit.soft >= needed) return `open-files limit ${limit.soft} >= ${needed}`;
  if (limit.hard < needed) {
    throw new Error(`process ${pid} needs ${needed} open files but its hard limit is ${limit.hard}: run the tests after \`ulimit -n ${needed}\` (as root or with a higher hard limit)`);
  }
  try {
    execFileSync('prlimit', ['--pid', String(pid), `--nofile=${needed}:`], { stdio: 'pipe' });
  } catch (err) {
    throw new Error(`process ${pid} needs ${needed} open files (soft limit ${limit.soft}) and prlimit could not raise it: ${(err as Error).message}; run \`ulimit -n ${needed}\` first`);
  }
  const now = openFilesLimit(pid);
  if (now === undefined || now.soft < needed) throw new Error(`prlimit did not raise the open-files limit of ${pid} to ${needed}`);
  return `open-files soft limit raised from ${limit.soft} to ${now.soft}`;
}

/**
 * The kernel's count of connections dropped because a listening socket's accept queue was full
 * (TcpExt ListenOverflows, for this network namespace; Linux only). Under a connection flood a
 * dropped connection waits in SYN-ACK retransmits, for seconds, before the server ever sees it.
 */
export function listenOverflows(): number | undefined {
  let text: string;
  try {
    text = readFileSync('/proc/net/netstat', 'utf8');
  } catch {
    return undefined;
  }
  const rows = text.split('\n').filter((l) => l.startsWith('TcpExt:'));
  if (rows.length < 2) return undefined;
  const names = rows[0]!.split(/\s+/);
  const values = rows[1]!.split(/\s+/);
  const i = names.indexOf('ListenOverflows');
  return i < 0 ? undefined : Number(values[i]);
}
