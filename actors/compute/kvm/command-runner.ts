import { execFile } from 'node:child_process';
import type { Clock } from '../../../src/clock.js';

/** Runs one program to completion; rejects with its stderr when it fails or runs past `timeoutMs`. */
export type ExecFn = (file: string, args: readonly string[], o: { timeoutMs: number; input?: string }) => Promise<string>;

/** Largest output read from one command, bytes: `virsh dumpxml` of a big domain is a few tens of KiB. */
const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

/** The real ExecFn: execFile (no shell), so the event loop, and the agent's mailbox, never block on it. */
export const execProgram: ExecFn = (file, args, o) => new Promise((resolve, reject) => {
  const child = execFile(file, [...args], { timeout: o.timeoutMs, maxBuffer: MAX_OUTPUT_BYTES, encoding: 'utf8' },
    (err, stdout, stderr) => {
      if (err === null) { resolve(stdout); return; }
      const why = err.killed ? `killed after ${o.timeoutMs} ms` : `exit ${String(err.code ?? err.signal)}`;
      reject(new CommandError(`${file} ${args.join(' ')} failed (${why}): ${(stderr || err.message).trim().slice(0, 2_000)}`, stderr));
    });
  if (o.input !== undefined) child.stdin?.end(o.input);
});

/** A program that failed; `stderr` lets callers tell "no such domain" from a real fault. */
export class CommandError extends Error {
  constructor(message: string, readonly stderr: string) { super(message); }
}

/** Calls, total and slowest time of one kind of command, ms. */
export interface CallStats { calls: number; failures: number; totalMs: number; maxMs: number }

/**
 * Runs the host-side programs of the kvm driver (virsh, qemu-img, ip, dnsmasq), optionally inside a
 * network namespace, and times every call by its first two words (`virsh start`, `ip link`...).
 */
export class CommandRunner {
  private readonly stats = new Map<string, CallStats>();

  constructor(private readonly exec: ExecFn, private readonly clock: Clock, private readonly timeoutMs: number,
    private readonly netns?: string) {}

  /** Runs `file args`; `inNetns` runs it inside the host's network namespace, when it has one. */
  async run(file: string, args: readonly string[], o: { input?: string; inNetns?: boolean; timeoutMs?: number; kind?: string } = {}): Promise<string> {
    const kind = o.kind ?? `${file} ${args.find((a) => !a.startsWith('-')) ?? ''}`.trim();
    const [f, a] = o.inNetns === true && this.netns !== undefined ? ['ip', ['netns', 'exec', this.netns, file, ...args]] : [file, args];
    const t0 = this.clock.now();
    let ok = false;
    try {
      const out = await this.exec(f, a, { timeoutMs: o.timeoutMs ?? this.timeoutMs, ...(o.input === undefined ? {} : { input: o.input }) });
      ok = true;
      return out;
    } finally {
      const ms = this.clock.now() - t0;
      const s = this.stats.get(kind) ?? { calls: 0, failures: 0, totalMs: 0, maxMs: 0 };
      s.calls++; s.totalMs += ms; s.maxMs = Math.max(s.maxMs, ms);
      if (!ok) s.failures++;
      this.stats.set(kind, s);
    }
  }

  /** Timings so far, by command kind. */
  timings(): Record<string, CallStats> {
    return Object.fromEntries([...this.stats].map(([k, v]) => [k, { ...v }]));
  }
}
