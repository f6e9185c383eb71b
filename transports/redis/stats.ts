import { emptyStats, type TransportStats } from '../../src/transport.js';

/** The Redis transport's counters, beyond the ones every transport keeps. */
export interface RedisTransportStats extends TransportStats {
  /** Frames refused for a missing or wrong MAC (also counted in authFailures). */
  macFailures: number;
  /** Frames refused because their timestamp is further than maxClockSkewMs from ours (also in authFailures). */
  staleFrames: number;
  /** Frames whose sequence number was already seen: replays (also in authFailures). */
  replayedFrames: number;
  /** Frames over maxFrameBytes plus the header (also in decodeErrors). */
  oversizedFrames: number;
  /** Envelopes lost on pub/sub, seen as gaps in their senders' sequence numbers. */
  lostEnvelopes: number;
  /** Frames this node published that reached no subscriber or failed to publish (their envelopes are in sendFailures). */
  unroutedFrames: number;
  /** Times a connection to Redis was lost. */
  redisDisconnects: number;
  /** Times the node channel and broadcast channel were subscribed again after a loss. */
  resubscribes: number;
  /** Frames from another process using this node's id (a configuration error, logged). */
  duplicateNodeFrames: number;
  durableSent: number;
  durableSendFailures: number;
  durableReceived: number;
  /** Entries taken over with XAUTOCLAIM (from a crashed consumer, or after a lost XACK). */
  durableClaimed: number;
  durableAckFailures: number;
  durableReadErrors: number;
}

export function emptyRedisStats(): RedisTransportStats {
  return {
    ...emptyStats(), macFailures: 0, staleFrames: 0, replayedFrames: 0, oversizedFrames: 0, lostEnvelopes: 0,
    unroutedFrames: 0, redisDisconnects: 0, resubscribes: 0, duplicateNodeFrames: 0, durableSent: 0,
    durableSendFailures: 0, durableReceived: 0, durableClaimed: 0, durableAckFailures: 0, durableReadErrors: 0,
  };
}
