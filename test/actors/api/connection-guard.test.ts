/**
 * The API server's connection guard over real sockets, with the deadlines on a simulated clock so
 * that each one is checked to the millisecond: slow heads, slow bodies and idle keep-alive
 * connections are closed when their time is up and not before; a full table sheds the oldest idle or
 * incomplete connection of the heaviest address; a newcomer is refused only when everything is busy;
 * the log line is rate-limited.
 */
import { expect } from 'chai';
import { connect, type Socket } from 'node:net';
import { SimulatedClock } from '../../../src/clock.js';
import { createLogger, silentLogger } from '../../../src/logger.js';
import { defineCommand } from '../../../actors/api/command-table.js';
import { createApiServer, type ApiServer, type ApiServerLimits } from '../../../actors/api/http-server.js';
import { sleep, waitFor } from '../../helpers/wait.js';
import { ADMIN_KEYS, fakeCommands, fakeCredentials, httpCall, signedQuery } from './fixtures.js';

const NOW = Date.UTC(2030, 0, 1, 0, 0, 0);
const HEADERS_MS = 1_000;
const REQUEST_MS = 3_000;
const KEEP_ALIVE_MS = 500;
const GRACE_MS = 200;

/** A client socket driven byte by byte. */
class Raw {
  data = '';
  closed = false;
  readonly socket: Socket;
  readonly done: Promise<void>;

  private constructor(port: number, localAddress: string | undefined) {
    this.socket = connect({ port, host: '127.0.0.1', ...(localAddress ? { localAddress } : {}) });
    this.socket.on('data', (d: Buffer) => { this.data += d.toString('latin1'); });
    this.socket.on('error', () => undefined);
    this.done = new Promise((resolve) => this.socket.once('close', () => { this.closed = true; resolve(); }));
  }

  static async open(port: number, localAddress?: string): Promise<Raw> {
    const r = new Raw(port, localAddress);
    await new Promise<void>((resolve, reject) => { r.socket.once('connect', resolve); r.socket.once('error', reject); });
    return r;
  }

  write(s: string): void {
    this.socket.write(s);
  }

  /** Responses received so far (status codes). */
  statuses(): number[] {
    return [...this.data.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
  }

  destroy(): void {
    this.socket.destroy();
  }
}

describe('api/connection-guard', function () {
  this.timeout(10_000);
  let clock: SimulatedClock;
  let server: ApiServer;
  let port: number;
  const raws: Raw[] = [];
  let release: () => void = () => undefined;

  async function start(limits: Partial<ApiServerLimits> = {}, logger = silentLogger): Promise<void> {
    clock = new SimulatedClock(NOW);
    const gate = new Promise<void>((r) => { release = r; });
    const slowCommand = defineCommand({
      name: 'slowCommand', description: 'waits for the test', isAsync: false, access: 'user', params: [],
      handler: async () => { await gate; return { kind: 'success' }; },
    });
    server = createApiServer({
      port: 0, commands: [...fakeCommands(), slowCommand], credentials: fakeCredentials(), clock, logger,
      limits: { headersTimeoutMs: HEADERS_MS, requestTimeoutMs: REQUEST_MS, keepAliveTimeoutMs: KEEP_ALIVE_MS, keepAliveGraceMs: GRACE_MS, ...limits },
    });
    port = (await server.listen()).port;
  }

  afterEach(async () => {
    release();
    for (const r of raws.splice(0)) r.destroy();
    await server?.close();
  });

  /** Opens a raw connection and waits until the server has admitted it. */
  async function open(localAddress?: string): Promise<Raw> {
    const before = server.connectionStats().accepted + server.connectionStats().refused;
    const r = await Raw.open(port, localAddress);
    raws.push(r);
    await waitFor(() => server.connectionStats().accepted + server.connectionStats().refused > before, 2_000, 'the server to see the connection');
    return r;
  }

  const signedGet = (command = 'listZones'): string =>
    `GET /client/api?${signedQuery({ command, response: 'json' }, ADMIN_KEYS)} HTTP/1.1\r\nHost: x\r\n\r\n`;

  /** Advances the simulated clock, then lets socket events run. */
  async function advance(ms: number): Promise<void> {
    clock.advance(ms);
    await sleep(30);
  }

  describe('deadlines', () => {
    it('closes a connection whose request head is incomplete at headersTimeoutMs (408), however it trickles', async () => {
      await start();
      const silent = await open();
      const slow = await open();
      slow.write('GET /client/api?command=listZones HTTP/1.1\r\nHost: x\r\nX-Slow: ');
      for (let i = 0; i < 9; i++) {
        await advance(100);
        slow.write('a');
      }
      await advance(HEADERS_MS - 901);
      expect([silent.closed, slow.closed]).to.deep.equal([false, false]);
      expect(server.connectionStats().awaitingHead).to.equal(2);
      await advance(1);
      await Promise.all([silent.done, slow.done]);
      expect(slow.statuses()).to.deep.equal([408]);
      expect(silent.statuses()).to.deep.equal([408]);
      expect(server.connectionStats()).to.include({ headTimeouts: 2, open: 0 });
    });

    it('closes a request whose body is incomplete at requestTimeoutMs from its start (408)', async () => {
      await start();
      const r = await open();
      await advance(200);
      r.write(`POST /client/api?${signedQuery({ command: 'echoParams', response: 'json' }, ADMIN_KEYS)} HTTP/1.1\r\nHost: x\r\n`
        + 'Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nname=abc');
      await waitFor(() => server.connectionStats().receivingBody === 1, 2_000, 'the request to be received');
      await advance(REQUEST_MS - 201);
      expect(r.closed).to.equal(false);
      await advance(1);
      await r.done;
      expect(r.statuses()).to.deep.equal([408]);
      expect(server.connectionStats()).to.include({ bodyTimeouts: 1, headTimeouts: 0, open: 0 });
    });

    it('closes a kept-alive connection keepAliveTimeoutMs (+ grace) after its last response; each request restarts the wait', async () => {
      await start();
      const r = await open();
      r.write(signedGet());
      await waitFor(() => r.statuses().length === 1 && server.connectionStats().idle === 1, 2_000, 'the first answer');
      await advance(KEEP_ALIVE_MS + GRACE_MS - 1);
      r.write(signedGet());
      await waitFor(() => r.statuses().length === 2 && server.connectionStats().idle === 1, 2_000, 'the second answer');
      await advance(KEEP_ALIVE_MS + GRACE_MS - 1);
      expect(r.closed).to.equal(false);
      await advance(1);
      await r.done;
      expect(r.statuses()).to.deep.equal([200, 200]);
      expect(server.connectionStats()).to.include({ idleTimeouts: 1, headTimeouts: 0, open: 0 });
    });

    it('after a response, the next head must begin within keepAliveTimeoutMs and be whole within headersTimeoutMs of it', async () => {
      await start();
      const r = await open();
      r.write(signedGet());
      await waitFor(() => r.statuses().length === 1 && server.connectionStats().idle === 1, 2_000, 'the answer');
      await advance(100);
      r.write('GET /client/api?command=listZones HTTP/1.1\r\n');
      await sleep(50); // the bytes reach the server
      await advance(KEEP_ALIVE_MS + GRACE_MS - 100);
      expect(server.connectionStats()).to.include({ awaitingHead: 1, idle: 0 });
      await advance(HEADERS_MS - KEEP_ALIVE_MS - GRACE_MS - 1);
      expect(r.closed).to.equal(false);
      await advance(1);
      await r.done;
      expect(r.statuses()).to.deep.equal([200, 408]);
      expect(server.connectionStats()).to.include({ headTimeouts: 1, idleTimeouts: 0 });
    });

    it('never cuts a request being served, however long it takes', async () => {
      await start();
      const r = await open();
      r.write(signedGet('slowCommand'));
      await waitFor(() => server.connectionStats().serving === 1, 2_000, 'the request to be served');
      await advance(REQUEST_MS * 3);
      expect(r.closed).to.equal(false);
      release();
      await waitFor(() => r.statuses().length === 1, 2_000, 'the answer');
      expect(r.statuses()).to.deep.equal([200]);
    });
  });

  describe('a full table', () => {
    it('evicts the oldest incomplete connection (503) to admit a newcomer, who is served', async () => {
      await start({ maxConnections: 3, maxConnectionsPerAddress: 3 });
      const [a, b, c] = [await open(), await open(), await open()];
      const reply = await httpCall(port, { path: `/client/api?${signedQuery({ command: 'listZones', response: 'json' }, ADMIN_KEYS)}` });
      expect(reply.status).to.equal(200);
      await a!.done;
      expect(a!.statuses()).to.deep.equal([503]);
      expect([b!.closed, c!.closed]).to.deep.equal([false, false]);
      expect(server.connectionStats()).to.include({ evicted: 1, refused: 0 });
    });

    it('holds an address to maxConnectionsPerAddress: it competes only with itself', async () => {
      await start({ maxConnections: 10, maxConnectionsPerAddress: 2 });
      const other = [await open('127.0.0.3'), await open('127.0.0.3')];
      const flood = [await open('127.0.0.2'), await open('127.0.0.2'), await open('127.0.0.2'), await open('127.0.0.2')];
      await Promise.all([flood[0]!.done, flood[1]!.done]);
      expect(flood.map((f) => f.closed)).to.deep.equal([true, true, false, false]);
      expect(other.map((f) => f.closed)).to.deep.equal([false, false]);
      expect(server.connectionStats()).to.include({ evicted: 2, open: 4 });
    });

    it('takes the victim from the heaviest address, incomplete before idle', async () => {
      await start({ maxConnections: 4, maxConnectionsPerAddress: 4 });
      const lone = await open('127.0.0.3');
      const idle = await open('127.0.0.2');
      idle.write(signedGet());
      await waitFor(() => server.connectionStats().idle === 1, 2_000, 'an idle connection');
      const heads = [await open('127.0.0.2'), await open('127.0.0.2')];
      await open('127.0.0.4');
      await heads[0]!.done;
      expect([lone.closed, idle.closed, heads[0]!.closed, heads[1]!.closed]).to.deep.equal([false, false, true, false]);
    });

    it('refuses a newcomer (503) only when every connection is serving a request', async () => {
      await start({ maxConnections: 2, maxConnectionsPerAddress: 2 });
      const busy = [await open(), await open()];
      for (const b of busy) b.write(signedGet('slowCommand'));
      await waitFor(() => server.connectionStats().serving === 2, 2_000, 'two requests in service');
      const late = await open();
      await late.done;
      expect(late.statuses()).to.deep.equal([503]);
      expect(server.connectionStats()).to.include({ refused: 1, evicted: 0 });
      release();
      await waitFor(() => busy.every((b) => b.statuses().length === 1), 2_000, 'both answers');
      expect(busy.map((b) => b.statuses()[0])).to.deep.equal([200, 200]);
    });
  });

  describe('options', () => {
    it('refuses a per-address cap above the table and a zero log interval, naming the option', () => {
      const make = (limits: Partial<ApiServerLimits>) => () => createApiServer({ commands: [], credentials: fakeCredentials(), limits });
      expect(make({ maxConnections: 10, maxConnectionsPerAddress: 11 })).to.throw(/maxConnectionsPerAddress must not exceed limits.maxConnections/);
      expect(make({ connectionLogIntervalMs: 0 })).to.throw(/limits.connectionLogIntervalMs must be a positive integer/);
    });
  });

  describe('logging and closing', () => {
    it('logs shed and timed-out connections at most once per connectionLogIntervalMs', async () => {
      const lines: Record<string, unknown>[] = [];
      await start({ connectionLogIntervalMs: 10_000 }, createLogger('warn', (_l, _m, f) => { lines.push(f); }));
      const first = await open();
      await advance(HEADERS_MS);
      await first.done;
      expect(lines).to.have.length(1);
      expect(lines[0]).to.include({ headTimeouts: 1, evicted: 0, longestLifeMs: HEADERS_MS });
      for (let i = 0; i < 3; i++) await open();
      await advance(HEADERS_MS);
      expect(server.connectionStats().headTimeouts).to.equal(4);
      expect(lines).to.have.length(1);
      await advance(10_000 - HEADERS_MS);
      expect(lines).to.have.length(2);
      expect(lines[1]).to.include({ headTimeouts: 3, windowMs: 10_000, longestLifeMs: HEADERS_MS });
    });

    it('close() closes idle and incomplete connections at once and lets a request in service finish', async () => {
      await start();
      const head = await open();
      const idle = await open();
      idle.write(signedGet());
      const busy = await open();
      busy.write(signedGet('slowCommand'));
      await waitFor(() => server.connectionStats().idle === 1 && server.connectionStats().serving === 1, 2_000, 'idle and busy connections');
      const closing = server.close();
      await Promise.all([head.done, idle.done]);
      expect(busy.closed).to.equal(false);
      release();
      await Promise.all([closing, busy.done]);
      expect(busy.statuses()).to.deep.equal([200]);
    });

    it('closes the connection of a malformed request (400) even when the client keeps its side open', async () => {
      await start();
      const r = await open();
      r.write('NOT HTTP AT ALL\r\n\r\n');
      await r.done;
      expect(r.statuses()).to.deep.equal([400]);
      expect(server.connectionStats().open).to.equal(0);
    });
  });
});
