/**
 * Hooks the runtime calls when an observer is installed (the /metrics endpoint does): the start and
 * outcome of every ask, and the handling time of every message. With none installed the runtime pays
 * one property check per ask and per message.
 */
export type AskOutcome = 'ok' | 'error';

export interface RuntimeObserver {
  /** An ask to `protocol`.`type` begins; the returned function is called once when it settles. */
  ask(protocol: string, type: string): (outcome: AskOutcome) => void;
  /** The actor at `path` handled a message of `type` in `ms` (async handlers: until their promise settled). */
  handled(path: string, type: string, ms: number): void;
}
