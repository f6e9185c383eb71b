/** Counters the runtime keeps; exposed by ActorSystem.stats(). Plain numbers, cheap to bump. */
export interface RuntimeMetrics {
  mailboxOverflows: number;
  expiredBeforeHandling: number;
  actorFailures: number;
  actorRestarts: number;
  deadLetters: number;
  invalidMessages: number;
  duplicatesDropped: number;
  remoteSent: number;
  remoteReceived: number;
  sendFailures: number;
}

export function createMetrics(): RuntimeMetrics {
  return {
    mailboxOverflows: 0, expiredBeforeHandling: 0, actorFailures: 0, actorRestarts: 0, deadLetters: 0,
    invalidMessages: 0, duplicatesDropped: 0, remoteSent: 0, remoteReceived: 0, sendFailures: 0,
  };
}
