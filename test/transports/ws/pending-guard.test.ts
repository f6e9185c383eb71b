/**
 * The ws listening port against connections that never authenticate, over real sockets: a
 * connection is closed handshakeTimeoutMs after its TCP accept whether it stalls before the WebSocket
 * upgrade or after it (the deadline is kept on a simulated clock, checked to the millisecond), a
 * flood from one address cannot keep a peer at another address out, and the log is rate-limited.
 */
import { expect } from 'chai';
import { connect, type Socket } from 'node:net';
import { SimulatedClock } from '../../../src/clock.js';
import { sleep, waitFor } from '../../helpers/wait.js';
import { captureLogger, Fixture } from './ws-helpers.js';

const TIMEOUT_MS = 1_000;
const UPGRADE = 'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
  + 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';

class Raw {
  data = Buffer.alloc(0);
  closed = false;
  readonly done: Promise<void>;

  constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => { this.data = Buffer.concat([this.data, d]); });
    socket.on('error', () => undefined);
    this.done = new Promise((resolve) => socket.once('close', () => { this.closed = true; resolve(); }));
  }

  static async open(address: string, localAddress?: string): Promise<Raw> {
    const url = new URL(address);
    const socket = connect({ host: url.hostname, port: Number(url.port), ...(localAddress ? { localAddress } : {}) });
    await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
    return new Raw(socket);
  }

  /** The code of the first WebSocket close frame received after the 101 (undefined if none). */
  closeCode(): number | undefined {
    const text = this.data.toString('latin1');
    let i = text.indexOf('\r\n\r\n');
    if (i < 0) return undefined;
    for (i += 4; i + 1 < this.data.length;) {
      const opcode = this.data[i]! & 0x0f;
      const len = this.data[i + 1]! & 0x7f;
      const start = i + (len === 126 ? 4 : 2);
      if (opcode === 0x8) return this.data.readUInt16BE(start);
      i = start + (len === 126 ? this.data.readUInt16BE(i + 2) : len);
    }
    return undefined;
  }
}

describe('ws transport: connections that never authenticate', function () {
  this.timeout(20_000);
  const fx = new Fixture();
  const raws: Raw[] = [];
  afterEach(async () => {
    for (const r of raws.splice(0)) r.socket.destroy();
    await fx.cleanup();
  });

  async function server(o: { clock?: SimulatedClock; maxPendingHandshakes?: number; maxPendingHandshakesPerAddress?: number } = {}) {
    const { logger, records } = captureLogger();
    const s = await fx.transport('server', { handshakeTimeoutMs: TIMEOUT_MS, logger, ...o });
    return { ...s, records };
  }

  async function open(s: { t: { address(): string | undefined; stats(): { pendingHandshakes: number } } }, localAddress?: string): Promise<Raw> {
    const before = s.t.stats().pendingHandshakes;
    const r = await Raw.open(s.t.address()!, localAddress);
    raws.push(r);
    await waitFor(() => s.t.stats().pendingHandshakes > before, 2_000, 'the server to accept');
    return r;
  }

  it('closes a connection that never completes its WebSocket upgrade handshakeTimeoutMs after the accept (408)', async () => {
    const clock = new SimulatedClock(Date.now());
    const s = await server({ clock });
    const silent = await open(s);
    const partial = await open(s);
    partial.socket.write('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n');
    clock.advance(TIMEOUT_MS - 1);
    await sleep(30);
    expect([silent.closed, partial.closed]).to.deep.equal([false, false]);
    clock.advance(1);
    await Promise.all([silent.done, partial.done]);
    expect(partial.data.toString()).to.match(/^HTTP\/1\.1 408/);
    expect(s.t.stats()).to.include({ upgradeTimeouts: 2, handshakeTimeouts: 0, pendingHandshakes: 0 });
  });

  it('gives the cluster handshake only what is left of the deadline from the TCP accept (4004)', async () => {
    const clock = new SimulatedClock(Date.now());
    const s = await server({ clock });
    const r = await open(s);
    clock.advance(600);
    r.socket.write(UPGRADE);
    await waitFor(() => r.data.toString('latin1').includes('challenge'), 2_000, 'the challenge');
    clock.advance(TIMEOUT_MS - 600 - 1);
    await sleep(30);
    expect(r.closeCode()).to.equal(undefined);
    clock.advance(1);
    await waitFor(() => r.closeCode() !== undefined, 2_000, 'a close frame');
    expect(r.closeCode()).to.equal(4004);
    expect(s.t.stats()).to.include({ handshakeTimeouts: 1, upgradeTimeouts: 0 });
    // The peer never answers the close frame: the socket is cut after closeTimeoutMs.
    clock.advance(2_000);
    await r.done;
  });

  it('a flood of never-finishing connections from one address cannot keep a peer at another address out', async () => {
    const s = await server({ maxPendingHandshakes: 8, maxPendingHandshakesPerAddress: 4 });
    const flood: Raw[] = [];
    for (let i = 0; i < 40; i++) {
      const r = await Raw.open(s.t.address()!, '127.0.0.2');
      raws.push(r);
      r.socket.write(i % 2 === 0 ? UPGRADE : 'GET / HTTP/1.1\r\n');
      flood.push(r);
    }
    await waitFor(() => flood.filter((r) => r.closed).length >= 36, 5_000, 'the flood to be held to its address\'s share');
    const peer = await fx.transport('peer');
    expect(await peer.t.dial(s.t.address()!)).to.equal('server');
    await waitFor(() => s.rec.ups.includes('peer'), 2_000, 'the peer up');
    expect(s.t.stats().pendingShed).to.be.at.least(36);
    expect(s.t.stats().pendingHandshakes).to.be.at.most(4);
  });

  it('logs timed-out and shed connections in one line per connectionLogIntervalMs', async () => {
    const clock = new SimulatedClock(Date.now());
    const s = await server({ clock });
    const lines = () => s.records.filter((r) => r.msg.startsWith('incoming connections closed before authenticating'));
    await open(s);
    clock.advance(TIMEOUT_MS);
    await waitFor(() => lines().length === 1, 2_000, 'the first line');
    for (let i = 0; i < 4; i++) await open(s);
    clock.advance(TIMEOUT_MS);
    await waitFor(() => s.t.stats().upgradeTimeouts === 5, 2_000, 'four more timeouts');
    expect(lines()).to.have.length(1);
    clock.advance(10_000);
    expect(lines()).to.have.length(2);
    expect(lines()[1]!.fields).to.include({ upgradeTimeouts: 4, pendingShed: 0, handshakeTimeouts: 0, longestLifeMs: TIMEOUT_MS });
    expect(lines()[1]!.level).to.equal('warn');
  });
});
