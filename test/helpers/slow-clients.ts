/**
 * A slow-client attack in a process of its own (so that its sockets count against its own open-files
 * limit and its work against its own event loop), for the connection tests and the bench. Each group
 * holds `count` connections to one port from one source address and, when `reopen` is set, reopens
 * whatever the server closes, as an attacker would:
 *  - http-slow-head: the start of a request head, then (with trickleMs) one more byte every trickleMs;
 *  - http-idle: one whole request, its response read, then nothing (an idle keep-alive client);
 *  - ws-slow-upgrade: the start of a WebSocket upgrade request, and nothing more;
 *  - ws-silent: a complete WebSocket upgrade, then nothing (never the cluster handshake).
 * The report gives, per group, how long the server let each connection live: from its opening for the
 * incomplete kinds, from the response (or the 101) for the idle ones.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { ensureOpenFiles } from './open-files.js';

export type SlowKind = 'http-slow-head' | 'http-idle' | 'ws-slow-upgrade' | 'ws-silent';

export interface SlowGroup {
  kind: SlowKind;
  count: number;
  /** Source address to connect from (any 127.x address works on Linux loopback). Default: the OS's choice. */
  localAddress?: string;
  /** http-slow-head: one more header byte every this many ms. Default: none. */
  trickleMs?: number;
}

export interface SlowClientsOptions {
  host: string;
  port: number;
  groups: SlowGroup[];
  /** Reopen a connection the server closed, after this many ms. Default: never. */
  reopenAfterMs?: number;
  /** Connections opened at once while the groups are first filled. Default 100. */
  connectBatch?: number;
}

export interface GroupReport {
  kind: SlowKind;
  /** Connections opened (reopened ones included). */
  opened: number;
  /** Of those, closed by the server. */
  closedByServer: number;
  /** Connections that failed to open (refused, reset during connect, no free port). */
  connectErrors: number;
  /** Lifetimes of the connections the server closed, ms (from open, or from the response for idle kinds). */
  lifetimeP50: number;
  lifetimeMax: number;
  /** Of the connections still open at the end, the longest-lived, ms (same origin as above). */
  openAgeMax: number;
  stillOpen: number;
  /** First bytes of the server's replies (status lines), counted. */
  statuses: Record<string, number>;
}

export interface SlowClientsReport {
  groups: GroupReport[];
}

export interface SlowClients {
  /** The attacking process's pid. */
  readonly pid: number;
  /** Stops the attack and returns what it saw. */
  stop(): Promise<SlowClientsReport>;
  /** Kills the process (cleanup after a failure). */
  kill(): void;
}

const HERE = fileURLToPath(import.meta.url);
/** Slack of file descriptors beyond the sockets themselves (stdio, IPC, Node's own). */
const FD_SLACK = 200;

/** Starts the attack; resolves once every group's first `count` connections have been attempted. */
export async function startSlowClients(o: SlowClientsOptions): Promise<SlowClients> {
  const child: ChildProcess = fork(HERE, ['--slow-clients-child'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
  const total = o.groups.reduce((n, g) => n + g.count, 0);
  try {
    ensureOpenFiles(total + FD_SLACK, child.pid!);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  const messages: unknown[] = [];
  const waiters: ((m: unknown) => void)[] = [];
  child.on('message', (m) => { const w = waiters.shift(); if (w) w(m); else messages.push(m); });
  const exited = new Promise<never>((_, reject) => child.once('exit', (code, sig) => reject(new Error(`slow clients exited (${code ?? sig})`))));
  exited.catch(() => undefined);
  const next = (): Promise<unknown> => Promise.race([exited, new Promise((r) => { const m = messages.shift(); if (m !== undefined) r(m); else waiters.push(r); })]);
  child.send(o);
  await next();
  return {
    pid: child.pid!,
    async stop() {
      child.send('stop');
      const report = (await next()) as SlowClientsReport;
      child.kill('SIGKILL');
      return report;
    },
    kill: () => { child.kill('SIGKILL'); },
  };
}

// ---- the attacking process ------------------------------------------------------------------------

interface Conn {
  socket: Socket;
  openedAt: number;
  servedAt: number | undefined;
  head: string;
  closedByUs: boolean;
}

const WS_UPGRADE = 'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
  + 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';
const FIRST_BYTES: Record<SlowKind, string> = {
  'http-slow-head': 'GET /client/api?command=listZones HTTP/1.1\r\nHost: x\r\nX-Slow: ',
  'http-idle': 'GET /client/api?command=listZones&response=json HTTP/1.1\r\nHost: x\r\n\r\n',
  'ws-slow-upgrade': 'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n',
  'ws-silent': WS_UPGRADE,
};

class Group {
  readonly conns = new Set<Conn>();
  opened = 0;
  closedByServer = 0;
  connectErrors = 0;
  readonly lifetimes: number[] = [];
  readonly statuses: Record<string, number> = {};
  private trickle: NodeJS.Timeout | undefined;

  constructor(readonly g: SlowGroup, readonly o: SlowClientsOptions, readonly running: () => boolean) {
    if (g.trickleMs !== undefined) {
      this.trickle = setInterval(() => { for (const c of this.conns) if (c.socket.writable) c.socket.write('a'); }, g.trickleMs);
    }
  }

  /** Opens one connection; resolves once it is connected or failed. */
  open(): Promise<void> {
    return new Promise((resolve) => {
      const socket = connect({ host: this.o.host, port: this.o.port, ...(this.g.localAddress ? { localAddress: this.g.localAddress } : {}) });
      const c: Conn = { socket, openedAt: 0, servedAt: undefined, head: '', closedByUs: false };
      let connected = false;
      socket.once('connect', () => {
        connected = true;
        c.openedAt = Date.now();
        this.opened++;
        this.conns.add(c);
        socket.write(FIRST_BYTES[this.g.kind]);
        resolve();
      });
      socket.on('data', (d: Buffer) => this.onData(c, d));
      socket.on('error', () => undefined);
      socket.once('close', () => {
        if (!connected) { this.connectErrors++; resolve(); }
        else this.onClose(c);
        if (this.running() && this.o.reopenAfterMs !== undefined && !c.closedByUs) {
          setTimeout(() => { if (this.running()) void this.open(); }, this.o.reopenAfterMs);
        }
      });
    });
  }

  private onData(c: Conn, d: Buffer): void {
    if (c.head.length < 64) {
      c.head += d.toString('latin1');
      if (c.head.length >= 12 || c.head.includes('\r\n')) {
        const status = c.head.slice(9, 12);
        if (c.servedAt === undefined) {
          this.statuses[status] = (this.statuses[status] ?? 0) + 1;
          // The idle kinds start idling once answered; an error reply to the others is not service.
          if ((this.g.kind === 'http-idle' && status !== '503') || (this.g.kind === 'ws-silent' && status === '101')) c.servedAt = Date.now();
          else c.servedAt = Number.NaN;
        }
        c.head = 'x'.repeat(64);
      }
    }
  }

  private onClose(c: Conn): void {
    this.conns.delete(c);
    if (c.closedByUs) return;
    this.closedByServer++;
    const from = this.origin(c);
    if (from !== undefined) this.lifetimes.push(Date.now() - from);
  }

  /** Idle kinds count from their answer; the others, and an idle one never answered, from the opening. */
  private origin(c: Conn): number | undefined {
    const idleKind = this.g.kind === 'http-idle' || this.g.kind === 'ws-silent';
    if (!idleKind) return c.openedAt;
    return c.servedAt !== undefined && Number.isFinite(c.servedAt) ? c.servedAt : c.openedAt;
  }

  report(): GroupReport {
    if (this.trickle) clearInterval(this.trickle);
    const now = Date.now();
    const open = [...this.conns];
    const ages = open.map((c) => now - (this.origin(c) ?? now));
    for (const c of open) { c.closedByUs = true; c.socket.destroy(); }
    const sorted = [...this.lifetimes].sort((a, b) => a - b);
    return {
      kind: this.g.kind, opened: this.opened, closedByServer: this.closedByServer, connectErrors: this.connectErrors,
      lifetimeP50: sorted[Math.floor(sorted.length / 2)] ?? 0, lifetimeMax: sorted[sorted.length - 1] ?? 0,
      openAgeMax: Math.max(0, ...ages), stillOpen: open.length, statuses: this.statuses,
    };
  }
}

async function runChild(o: SlowClientsOptions): Promise<void> {
  let running = true;
  const groups = o.groups.map((g) => new Group(g, o, () => running));
  const batch = o.connectBatch ?? 100;
  for (const g of groups) {
    for (let i = 0; i < g.g.count; i += batch) {
      await Promise.all(Array.from({ length: Math.min(batch, g.g.count - i) }, () => g.open()));
    }
  }
  process.send!('ready');
  process.on('message', (m) => {
    if (m !== 'stop') return;
    running = false;
    process.send!({ groups: groups.map((g) => g.report()) } satisfies SlowClientsReport);
  });
}

if (process.argv[2] === '--slow-clients-child') {
  process.once('message', (o) => { void runChild(o as SlowClientsOptions); });
  process.on('disconnect', () => process.exit(0));
}
