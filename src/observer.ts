/**
 * Hooks the runtime calls when an observer is installed (the /metrics endpoint does). They are built
 * for the hot path: each (protocol, message) of asks and each component's mailbox has one stat object,
 * found once and kept (on the pending ask, on the actor cell); an ask or a message then costs a counter
 * bump, and one in `sampleEvery` is also timed. With no observer the runtime pays one property check.
 */
export interface TimingStat {
  /** A start time to pass to `record` when this event is timed (a sample), or -1. */
  begin(): number;
  /** The event finished (`ok` false: the ask failed or the handler threw). */
  record(begun: number, ok: boolean): void;
}

export interface RuntimeObserver {
  /** The stat of asks of `type` to `protocol` (the same object every time). */
  askStat(protocol: string, type: string): TimingStat;
  /** The stat of messages handled by the actor at `path` (grouped by component; the same object for a path). */
  handlingStat(path: string): TimingStat;
}
