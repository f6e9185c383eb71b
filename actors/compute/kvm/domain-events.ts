/**
 * libvirt's lifecycle events, from a long-running `virsh event --all --loop`: a guest that powers
 * itself off or crashes is seen at once, not at the next poll. The stream is restarted when it ends
 * (libvirtd restarted); the driver polls as well, for events missed in between.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Clock, TimerHandle } from '../../../src/clock.js';

export interface DomainEvent { domain: string; event: string; detail: string }

/** Wait before restarting an ended event stream, ms: libvirtd may be restarting. 1 s. */
const RESTART_DELAY_MS = 1_000;

/** `event 'lifecycle' for domain 'i-2-1-VM': Stopped Destroyed` → { domain, event: 'Stopped', detail: 'Destroyed' }. */
export function parseEventLine(line: string): DomainEvent | undefined {
  const m = /event 'lifecycle' for domain '?([^':]+)'?: (\S+)(?: (\S+))?/.exec(line);
  return m === null ? undefined : { domain: m[1]!, event: m[2]!, detail: m[3] ?? '' };
}

export class DomainEventStream {
  private child: ChildProcess | undefined;
  private timer: TimerHandle | undefined;
  private closed = false;

  constructor(private readonly uri: string, private readonly clock: Clock, private readonly onEvent: (e: DomainEvent) => void) {}

  start(): void {
    if (this.closed) return;
    // Under setpriv --pdeathsig: a SIGKILLed agent leaves no `virsh event` behind (virsh reads no stdin to notice).
    const child = spawn('setpriv', ['--pdeathsig', 'TERM', '--', 'virsh', '-c', this.uri, 'event', '--all', '--loop'], { stdio: ['ignore', 'pipe', 'ignore'] });
    this.child = child;
    let buf = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const e = parseEventLine(buf.slice(0, i));
        buf = buf.slice(i + 1);
        if (e !== undefined) this.onEvent(e);
      }
    });
    child.on('error', () => undefined); // virsh missing: 'exit' follows and the polling still reports
    child.on('exit', () => {
      if (this.child === child) this.child = undefined;
      if (!this.closed) this.timer = this.clock.setTimeout(() => this.start(), RESTART_DELAY_MS);
    });
  }

  close(): void {
    this.closed = true;
    this.timer?.cancel();
    this.child?.kill('SIGTERM');
    this.child = undefined;
  }
}
