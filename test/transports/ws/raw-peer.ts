/**
 * A hand-driven ws peer for tests: speaks the handshake with whatever it is told (wrong secret, no
 * secret, another cluster, a skewed clock, a replayed hello), then can send raw bytes, stay silent, or
 * stop reading — what a buggy or hostile node would do.
 */
import { WebSocket, type ClientOptions } from 'ws';
import {
  HANDSHAKE_VERSION, newNonce, signHello, type Challenge, type Hello, type Welcome,
} from '../../../transports/ws/handshake.js';

export interface RawPeerOptions {
  address: string;
  nodeId: string;
  cluster: string;
  /** undefined: send a hello without a MAC (a node configured without the secret). */
  secret: Buffer | undefined;
  /** Added to the hello's timestamp. */
  tsOffsetMs?: number;
  /** Send this recorded hello instead of a fresh one (replay). */
  replay?: Hello;
  /** Answer pings (default true). false makes a silent peer. */
  autoPong?: boolean;
  /** Advertised listening address ('' by default: the target cannot redial a raw peer). */
  address4hello?: string;
  epoch?: string;
  ws?: ClientOptions;
}

export interface CloseInfo {
  code: number;
  reason: string;
}

export class RawPeer {
  readonly closed: Promise<CloseInfo>;
  challenge: Challenge | undefined;
  hello: Hello | undefined;
  welcome: Welcome | undefined;
  /** Binary frames received after the handshake. */
  readonly frames: Buffer[] = [];

  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('error', () => undefined);
  }

  /** Connects and runs the handshake; resolves once welcomed or closed (check `welcome`). */
  static async connect(o: RawPeerOptions): Promise<RawPeer> {
    const ws = new WebSocket(o.address, { perMessageDeflate: false, autoPong: o.autoPong ?? true, ...o.ws });
    const peer = new RawPeer(ws);
    const settled = new Promise<void>((resolve) => {
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        if (isBinary) { peer.frames.push(data); return; }
        const msg = JSON.parse(data.toString()) as Challenge | Welcome;
        if (msg.t === 'challenge') {
          peer.challenge = msg;
          peer.hello = o.replay ?? peer.makeHello(o, msg);
          ws.send(JSON.stringify(peer.hello));
        } else if (msg.t === 'welcome') {
          peer.welcome = msg;
          resolve();
        }
      });
      void peer.closed.then(() => resolve());
    });
    await settled;
    return peer;
  }

  private makeHello(o: RawPeerOptions, c: Challenge): Hello {
    const fields = {
      t: 'hello' as const, v: HANDSHAKE_VERSION, cluster: o.cluster, node: o.nodeId, to: c.node, epoch: o.epoch ?? 'raw-epoch',
      nonce: c.nonce, cnonce: newNonce(), ts: Date.now() + (o.tsOffsetMs ?? 0), address: o.address4hello ?? '',
    };
    return o.secret === undefined ? { ...fields, mac: '' } : signHello(o.secret, fields);
  }

  send(bytes: Buffer): void {
    this.ws.send(bytes, { binary: true });
  }

  /** Stops reading from the socket (the kernel buffers fill, the sender's bufferedAmount grows). */
  pause(): void {
    this.ws.pause();
  }

  resume(): void {
    this.ws.resume();
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    this.ws.terminate();
    await this.closed;
  }
}
