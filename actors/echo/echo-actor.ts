import type { ActorDefinition } from '../../src/actor-types.js';
import { EchoProtocol } from './protocol.js';

export interface EchoState {
  seen: { seq: number; from: string }[];
  count: number;
  workIds: string[];
}

export interface EchoOptions {
  /** Replaces the wait of `slow` (tests pass a promise that never settles). */
  slowWith?: (ms: number) => Promise<void>;
  /** Longest wait `slow` honours, ms. Default 60,000. */
  maxSlowMs?: number;
  /** Most records and work ids remembered (oldest dropped). Default 1,000,000. */
  maxRemembered?: number;
}

export function echoActor(opts: EchoOptions = {}): ActorDefinition<typeof EchoProtocol, EchoState> {
  const maxSlow = opts.maxSlowMs ?? 60_000;
  const maxKept = opts.maxRemembered ?? 1_000_000;
  const wait = opts.slowWith ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref()));
  const keep = <T>(list: T[], item: T): void => { list.push(item); if (list.length > maxKept) list.shift(); };
  return {
    protocol: EchoProtocol,
    init: () => ({ seen: [], count: 0, workIds: [] }),
    handlers: {
      echo: (body, ctx) => { ctx.state.count++; return body; },
      slow: async ({ ms }) => { await wait(Math.min(ms, maxSlow)); return 'done'; },
      record: (body, ctx) => { keep(ctx.state.seen, body); ctx.state.count++; },
      count: (_b, ctx) => ctx.state.count,
      crash: () => { throw new Error('crash requested'); },
      crashTell: () => { throw new Error('crash requested'); },
      work: (body, ctx) => { keep(ctx.state.workIds, body.id); return body.id; },
    },
  };
}
