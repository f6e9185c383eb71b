/**
 * What the ws transport logs about incoming connections that do not become peers, rate-limited so
 * that a flood costs a line every connectionLogIntervalMs instead of one per connection: timeouts and
 * connections shed from the pending table in one summary line; refused handshakes with the reason of
 * the first of each interval (a wrong secret or cluster name is a configuration problem worth seeing).
 */
import { EventTally } from '../../src/net/event-tally.js';
import type { ResolvedWsOptions } from './options.js';
import type { PendingEvent } from './pending-guard.js';

export type IncomingEvent = PendingEvent | 'handshakeTimeouts';
const INCOMING_EVENTS: readonly IncomingEvent[] = ['pendingShed', 'upgradeTimeouts', 'handshakeTimeouts'];

export class IncomingLog {
  private readonly closed: EventTally<IncomingEvent>;
  private readonly refusals: EventTally<'authFailures'>;

  constructor(o: ResolvedWsOptions) {
    const tally = { clock: o.clock, intervalMs: o.connectionLogIntervalMs };
    this.closed = new EventTally(INCOMING_EVENTS, { ...tally, report: (counts, last) => o.log.warn(
      'incoming connections closed before authenticating (handshake timeout, or shed to admit newcomers)',
      { ...counts, windowMs: last.windowMs, lastSource: last.source, longestLifeMs: last.longestLifeMs ?? null,
        handshakeTimeoutMs: o.handshakeTimeoutMs, maxPendingHandshakes: o.maxPendingHandshakes }) });
    this.refusals = new EventTally(['authFailures'], { ...tally, report: (counts, last) => o.log.warn(
      'refused a peer at the handshake', { ...last.detail, refusals: counts.authFailures, windowMs: last.windowMs }) });
  }

  /** A connection closed before authenticating, `lifeMs` after its accept (none for a refused newcomer). */
  closedEarly(kind: IncomingEvent, source: string, lifeMs?: number): void {
    this.closed.add(kind, source, {}, lifeMs);
  }

  refused(remote: string, peer: string, reason: string): void {
    this.refusals.add('authFailures', remote, { remote, peer, reason });
  }

  /** Logs what is pending (the transport is stopping). */
  flush(): void {
    this.closed.flush();
    this.refusals.flush();
  }
}
