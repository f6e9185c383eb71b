import type { Redis } from 'ioredis';
import { decodeFrame } from '../../src/codec.js';
import type { Envelope } from '../../src/envelope.js';
import { IllegalStateError, NotSentError, PeerDownError, StoppedError } from '../../src/errors.js';
import type { TimerHandle } from '../../src/clock.js';
import type { Logger } from '../../src/logger.js';
import { Outbox } from '../../src/outbox.js';
import type { Transport, TransportHandlers } from '../../src/transport.js';
import { clusterNames, type ClusterNames } from './channels.js';
import { connectOrExplain, createConnection, explainStartFailure } from './connections.js';
import { FrameKind, FrameSealer, MAX_HEADER_BYTES, type OpenedFrame } from './mac.js';
import { redactUrl, resolveRedisOptions, type RedisTransportOptions, type ResolvedRedisOptions } from './options.js';
import { PeerTable, SequenceTracker } from './peer-table.js';
import { emptyRedisStats, type RedisTransportStats } from './stats.js';
import { StreamsLane } from './streams-lane.js';
import { TurnPublisher } from './publisher.js';

/** Heartbeat flag: "I just (re)connected, answer with your own heartbeat" — so peers are found at once. */
const HELLO = 1;

/**
 * Nodes talking through Redis pub/sub. Each node listens on its own channel and on the cluster's
 * broadcast channel; envelopes queued in one event-loop turn for one node leave as one MAC'd frame in one
 * PUBLISH, and the PUBLISHes of a turn share one socket write (auto-pipelining). Peers are discovered and
 * watched through heartbeats on the broadcast channel (no seeds needed). A PUBLISH that reaches no
 * subscriber, a peer that falls silent, and the loss of Redis itself all fail the affected asks at once
 * with the retryable PeerDownError; the transport reconnects and resubscribes by itself. An at-least-once
 * lane on Redis Streams is reached through `sendDurable`.
 */
export class RedisTransport implements Transport {
  readonly kind = 'redis';
  readonly nodeId: string;
  private readonly o: ResolvedRedisOptions;
  private readonly names: ClusterNames;
  private readonly sealer: FrameSealer;
  private readonly peerTable: PeerTable;
  private readonly seqs: SequenceTracker;
  private readonly counters = emptyRedisStats();
  private readonly log: Logger;
  private readonly ownChannel: string;
  private readonly outboxes = new Map<string, Outbox>();
  private readonly broadcastBox: Outbox;
  private readonly publisher: TurnPublisher;
  private readonly nextSeq = new Map<string, number>();
  private cmd: Redis | undefined;
  private sub: Redis | undefined;
  private block: Redis | undefined;
  private lane: StreamsLane | undefined;
  private handlers: TransportHandlers | undefined;
  private state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';
  private cmdReady = false;
  private subscribed = false;
  private linked = false;
  private heartbeat: TimerHandle | undefined;
  private replyScheduled = false;
  private probing = false;
  /** When this instance started; a peer that sees two instances of one node id believes the later one. */
  private readonly startedAt: number;

  constructor(options: RedisTransportOptions) {
    this.o = resolveRedisOptions(options);
    this.nodeId = this.o.nodeId;
    this.names = clusterNames(this.o.keyPrefix, this.o.clusterName);
    this.ownChannel = this.names.node(this.nodeId);
    const instance = Buffer.alloc(8);
    instance.writeUInt32BE(this.o.random.int(2 ** 32), 0);
    instance.writeUInt32BE(this.o.random.int(2 ** 32), 4);
    this.sealer = new FrameSealer(this.o.clusterSecret, this.o.clusterName, this.nodeId, instance);
    this.peerTable = new PeerTable(this.o.maxTrackedSenders);
    this.seqs = new SequenceTracker(this.o.maxTrackedSenders);
    this.log = this.o.logger.child({ transport: 'redis', node: this.nodeId });
    this.startedAt = this.o.clock.now();
    this.publisher = new TurnPublisher(() => this.cmd, this.o.earlyWriteBytes);
    this.broadcastBox = new Outbox((frame, n) => this.publishEnvelopes(undefined, this.names.broadcast, frame, n),
      (env, err) => this.undeliverable(env, err), this.o.limits, this.publisher.schedule);
  }

  async start(handlers: TransportHandlers): Promise<void> {
    if (this.state !== 'new') throw new IllegalStateError(`redis transport of ${this.nodeId} was already started; create a new one`);
    const conns = (['cmd', 'sub', 'block'] as const).map((role) => {
      const c = createConnection(role, this.o);
      c.on('error', (err: Error) => this.log.debug('redis connection error', { role, error: err.message }));
      return c;
    });
    [this.cmd, this.sub, this.block] = conns;
    try {
      await Promise.all(conns.map((c) => connectOrExplain(c, this.o)));
      this.handlers = handlers;
      this.state = 'running';
      this.cmdReady = this.cmd!.status === 'ready';
      this.watchConnections();
      this.sub!.on('messageBuffer', (channel: Buffer, message: Buffer) => this.receive(channel, message));
      await this.subscribe();
      this.lane = new StreamsLane({ o: this.o, names: this.names, sealer: this.sealer, cmd: this.cmd!, block: this.block!,
        consumer: `${this.nodeId}/${this.sealer.instance}`, stats: this.counters, log: this.log, deliver: (env) => this.handlers?.onEnvelope(env) });
      await this.lane.ensureGroup();
    } catch (err) {
      this.state = 'stopped';
      this.handlers = undefined;
      for (const c of conns) c.disconnect();
      throw explainStartFailure(err, this.o);
    }
    this.lane.start();
    this.linkUp();
    this.heartbeat = this.o.clock.setInterval(() => this.tick(), this.o.heartbeatIntervalMs);
    this.log.info('redis transport started', { redis: redactUrl(this.o.url), cluster: this.o.clusterName });
  }

  async stop(): Promise<void> {
    if (this.state !== 'running') { this.state = 'stopped'; return; }
    this.state = 'stopping';
    this.heartbeat?.cancel();
    this.publisher.flush();
    if (this.linked) {
      // Tell the others now rather than let them wait for the peer timeout. The goodbye goes in the same
      // pipeline after the last data frames, so its reply means all of them were handled. Bounded, in case
      // Redis hangs instead of failing.
      const bye = this.publishControl(FrameKind.Leaving, 0).catch(() => undefined);
      this.publisher.flush();
      await Promise.race([bye, new Promise<void>((r) => this.o.clock.setTimeout(r, 1_000))]);
    }
    const laneStopped = this.lane?.stop();
    this.block?.disconnect(); // returns a pending blocking read at once
    await laneStopped;
    this.sub?.disconnect();
    this.cmd?.disconnect();
    this.linked = false;
    this.outboxes.clear();
    this.handlers = undefined;
    this.state = 'stopped';
  }

  send(nodeId: string, env: Envelope): void {
    if (this.state !== 'running') throw new StoppedError(`redis transport of ${this.nodeId} is not running`);
    if (!this.linked) {
      this.counters.sendFailures++;
      throw new NotSentError(`cannot send to ${nodeId}: the connection to redis at ${redactUrl(this.o.url)} is down; retry once it is back`);
    }
    const why = this.peerTable.downReason(nodeId);
    if (why !== undefined) {
      this.counters.sendFailures++;
      throw new NotSentError(`node ${nodeId} is down (${why})`);
    }
    const box = this.outboxFor(nodeId);
    box.push(env);
    // A long batch leaves now rather than at the end of the turn: the receiver starts on it meanwhile.
    if (box.queued >= this.o.maxBatchEnvelopes) box.flush();
  }

  /** One PUBLISH on the broadcast channel reaches every node of the cluster. */
  broadcast(env: Envelope): void {
    if (this.state !== 'running' || !this.linked) { this.counters.sendFailures++; return; }
    this.broadcastBox.push({ ...env, toNode: '' });
  }

  /**
   * At-least-once delivery through `nodeId`'s Redis Stream: resolves once XADD succeeded (whether or not
   * the node is up now; it reads its stream when it comes back). May be delivered more than once, so the
   * envelope is marked `dedup` and the receiving runtime runs its handler once per id. Rejects with a
   * retryable ResourceUnavailableError when Redis cannot store it, FrameTooLargeError when it is too big.
   */
  async sendDurable(nodeId: string, env: Envelope): Promise<void> {
    if (this.state !== 'running' || this.lane === undefined) throw new StoppedError(`redis transport of ${this.nodeId} is not running`);
    env.dedup = true;
    await this.lane.add(nodeId, env);
  }

  peers(): string[] {
    return this.peerTable.ids();
  }

  /** Where this node listens: the Redis server (without credentials) and its channel. */
  address(): string {
    const u = new URL(this.o.url);
    u.username = '';
    u.password = '';
    return `${u.origin}#${this.ownChannel}`;
  }

  /** True while both the command and the subscriber connections are up and subscribed. */
  isConnected(): boolean {
    return this.linked;
  }

  stats(): RedisTransportStats {
    return { ...this.counters };
  }

  // ---- connection state ------------------------------------------------------------------------

  private async subscribe(): Promise<void> {
    await this.sub!.subscribe(this.ownChannel, this.names.broadcast);
    this.subscribed = true;
  }

  private watchConnections(): void {
    const sub = this.sub!;
    const cmd = this.cmd!;
    sub.on('close', () => { this.subscribed = false; this.linkDown('the subscriber connection to redis closed'); });
    sub.on('ready', () => {
      if (this.state !== 'running') return;
      this.subscribe().then(() => { this.counters.resubscribes++; this.linkUp(); },
        (err: Error) => this.log.warn('resubscribing failed; retrying on the next connection', { error: err.message }));
    });
    cmd.on('close', () => { this.cmdReady = false; this.linkDown('the command connection to redis closed'); });
    cmd.on('ready', () => { this.cmdReady = true; this.linkUp(); });
  }

  private linkUp(): void {
    if (this.state !== 'running' || this.linked || !this.cmdReady || !this.subscribed) return;
    this.linked = true;
    this.log.info('connected to redis', { redis: redactUrl(this.o.url) });
    void this.publishControl(FrameKind.Heartbeat, HELLO).catch(() => undefined);
  }

  /** Pub/sub loses whatever is published while we are away: every peer is down until heard from again. */
  private linkDown(reason: string): void {
    if (this.state !== 'running' || !this.linked) return;
    this.linked = false;
    this.counters.redisDisconnects++;
    this.log.warn('lost redis; peers are down until they are heard from again', { reason });
    for (const id of this.peerTable.ids()) this.peerDown(id, `lost contact through redis: ${reason}`);
    for (const env of this.broadcastBox.drain()) this.undeliverable(env, new NotSentError(reason));
  }

  private peerDown(id: string, reason: string, instance?: string): void {
    const wasUp = this.peerTable.markDown(id, reason, instance);
    if (this.peerTable.isUp(id)) return; // an older incarnation left; the current one stays
    const box = this.outboxes.get(id);
    this.outboxes.delete(id);
    for (const env of box?.drain() ?? []) this.undeliverable(env, new NotSentError(`node ${id} is down (${reason}); the message was not sent`));
    if (wasUp) this.handlers?.onPeerDown(id, reason);
  }

  // ---- sending -----------------------------------------------------------------------------------

  private outboxFor(nodeId: string): Outbox {
    let box = this.outboxes.get(nodeId);
    if (box === undefined) {
      const channel = this.names.node(nodeId);
      box = new Outbox((frame, n) => this.publishEnvelopes(nodeId, channel, frame, n), (env, err) => this.undeliverable(env, err),
        this.o.limits, this.publisher.schedule);
      this.outboxes.set(nodeId, box);
    }
    return box;
  }

  private takeSeq(channel: string, units: number): number {
    const seq = this.nextSeq.get(channel) ?? 0;
    this.nextSeq.set(channel, seq + units);
    return seq;
  }

  private publishEnvelopes(nodeId: string | undefined, channel: string, frame: Buffer, n: number): void {
    const sealed = this.sealer.seal(channel, FrameKind.Envelopes, this.takeSeq(channel, n), n, frame, this.o.clock.now());
    this.counters.framesSent++;
    this.counters.envelopesSent += n;
    this.counters.bytesSent += sealed.length;
    this.publisher.publish(channel, sealed, (r) => {
      if (r instanceof Error) this.unrouted(nodeId, frame, n, `PUBLISH failed: ${r.message}`);
      else if (r === 0 && nodeId !== undefined) this.unrouted(nodeId, frame, n, 'nothing is subscribed to its channel');
    });
  }

  /** A frame that did not reach its node: its asks fail now (retryable) instead of at their deadline. */
  private unrouted(nodeId: string | undefined, frame: Buffer, n: number, why: string): void {
    this.counters.unroutedFrames++;
    this.counters.sendFailures += n;
    if (nodeId === undefined || this.handlers === undefined) return;
    this.peerDown(nodeId, why);
    // Redis delivered it to nobody (or refused it): nothing happened, so sending again is safe.
    const err = new NotSentError(`node ${nodeId} did not get a message: ${why}`);
    for (const env of decodeFrame(frame, this.o.limits)) this.handlers?.onUndeliverable(env, err);
  }

  private undeliverable(env: Envelope, err: Error): void {
    this.counters.sendFailures++;
    this.handlers?.onUndeliverable(env, err);
  }

  /** Heartbeats and goodbyes share the data frames' pipeline, so they keep their order with them. */
  private publishControl(kind: FrameKind, flags: number): Promise<number> {
    const ch = this.names.broadcast;
    const payload = Buffer.allocUnsafe(9);
    payload[0] = flags;
    payload.writeDoubleBE(this.startedAt, 1);
    const sealed = this.sealer.seal(ch, kind, this.takeSeq(ch, 1), 1, payload, this.o.clock.now());
    return new Promise((resolve, reject) => this.publisher.publish(ch, sealed, (r) => (r instanceof Error ? reject(r) : resolve(r))));
  }

  /** Periodic: announce ourselves, declare silent peers down, probe the ones going quiet. */
  private tick(): void {
    if (this.state !== 'running' || !this.linked) return;
    void this.publishControl(FrameKind.Heartbeat, 0).catch(() => undefined);
    const now = this.o.clock.now();
    for (const id of this.peerTable.silentFor(this.o.peerTimeoutMs, now)) this.peerDown(id, `silent for more than ${this.o.peerTimeoutMs} ms`);
    const quiet = this.peerTable.silentFor(1.5 * this.o.heartbeatIntervalMs, now);
    if (quiet.length === 0 || this.probing) return;
    // A crashed process stops heartbeating, but Redis knows at once that its subscription is gone.
    this.probing = true;
    this.cmd!.pubsub('NUMSUB', ...quiet.map((id) => this.names.node(id))).then((res) => {
      const counts = res as (string | number)[];
      quiet.forEach((id, i) => {
        if (Number(counts[2 * i + 1]) === 0 && this.peerTable.isUp(id)) this.peerDown(id, 'its redis connection is gone (nothing subscribed to its channel)');
      });
    }, () => undefined).finally(() => { this.probing = false; });
  }

  private scheduleReply(): void {
    if (this.replyScheduled) return;
    this.replyScheduled = true;
    setImmediate(() => {
      this.replyScheduled = false;
      if (this.state === 'running' && this.linked) void this.publishControl(FrameKind.Heartbeat, 0).catch(() => undefined);
    });
  }

  // ---- receiving ---------------------------------------------------------------------------------

  private receive(channelBuf: Buffer, message: Buffer): void {
    const c = this.counters;
    if (this.handlers === undefined) return;
    c.framesReceived++;
    c.bytesReceived += message.length;
    if (message.length > this.o.limits.maxFrameBytes + MAX_HEADER_BYTES) { c.decodeErrors++; c.oversizedFrames++; return; }
    const channel = channelBuf.toString();
    const f = this.sealer.open(channel, message);
    if (typeof f === 'string') { this.refuse('macFailures', `frame refused (${f}): not signed with this cluster's secret`, channel); return; }
    const now = this.o.clock.now();
    if (Math.abs(now - f.sentAt) > this.o.maxClockSkewMs) { this.refuse('staleFrames', 'frame refused: its timestamp is outside maxClockSkewMs (clock skew or replay)', f.sender); return; }
    if (f.sender === this.nodeId) {
      if (f.instance !== this.sealer.instance && ++c.duplicateNodeFrames === 1) this.log.error('another process uses this node id in this cluster; give each node a unique id');
      return;
    }
    const lost = this.seqs.check(f.instance, channel, f.seq, f.units);
    if (lost < 0) { this.refuse('replayedFrames', 'frame refused: sequence number already seen (replay)', f.sender); return; }
    if (lost > 0) {
      c.lostEnvelopes += lost;
      this.log.warn('messages lost on redis pub/sub (gap in sequence numbers)', { from: f.sender, lost });
    }
    if (f.kind === FrameKind.Heartbeat) this.onHeartbeat(f, now);
    else if (f.kind === FrameKind.Leaving) { this.peerDown(f.sender, 'left the cluster', f.instance); this.seqs.forget(f.instance); }
    else { this.heard(f, now, false); this.deliver(f, channel === this.names.broadcast); }
  }

  private refuse(counter: 'macFailures' | 'staleFrames' | 'replayedFrames', msg: string, from: string): void {
    const c = this.counters;
    c.authFailures++;
    const n = ++c[counter];
    // Logged at 1, 2, 4, 8... so a flood of forged frames cannot flood the log.
    if ((n & (n - 1)) === 0) this.log.warn(msg, { from, count: n });
  }

  /** Heartbeat payload: flags (1 byte), then the instance's start time (f64, ms). */
  private onHeartbeat(f: OpenedFrame, now: number): void {
    const p = f.payload;
    const startedAt = p.length >= 9 ? p.readDoubleBE(1) : 0;
    this.heard(f, now, ((p[0] ?? 0) & HELLO) !== 0, startedAt);
  }

  /**
   * Any authenticated frame is a sign of life, not only heartbeats: after an outage a peer may send us
   * envelopes before its heartbeat reaches us, and replies to it must not be refused meanwhile.
   */
  private heard(f: OpenedFrame, now: number, hello: boolean, startedAt?: number): void {
    const seen = this.peerTable.heard(f.sender, f.instance, now, startedAt);
    if (seen === 'ignored') return;
    if (seen === 'known') {
      if (!hello) return;
      // A peer we thought up has just reconnected to Redis: what was in flight with it (our requests, its
      // replies) may be lost, so its pending asks fail now, retryably, rather than at their deadlines.
      this.handlers?.onPeerDown(f.sender, 'it reconnected to redis; messages in flight may be lost');
    } else if (seen === 'restarted') {
      this.handlers?.onPeerDown(f.sender, 'restarted (a new instance announced itself)');
    }
    if (seen !== 'known') this.log.info('peer up', { peer: f.sender });
    this.handlers?.onPeerUp(f.sender);
    this.scheduleReply();
  }

  private deliver(f: OpenedFrame, broadcast: boolean): void {
    let envs: Envelope[];
    try {
      envs = decodeFrame(f.payload, this.o.limits);
    } catch (err) {
      if (++this.counters.decodeErrors === 1) this.log.warn('undecodable frame dropped', { from: f.sender, error: (err as Error).message });
      return;
    }
    this.counters.envelopesReceived += envs.length;
    const h = this.handlers!;
    for (const env of envs) {
      if (broadcast) env.toNode = this.nodeId;
      try {
        h.onEnvelope(env);
      } catch (err) {
        // A fault above the transport must not take the subscriber connection's event handler down.
        this.log.error('envelope handler threw', { from: f.sender, type: env.type, error: (err as Error).message });
      }
    }
  }
}
