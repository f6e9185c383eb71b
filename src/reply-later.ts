import type { ActorContext } from './actor-types.js';

/**
 * Answers the current ask when `work` settles and lets the actor take its next message at once: for
 * handlers whose work is independent from one message to the next (or serialised by key), so that an
 * actor waiting on remote services serves many requests at a time instead of one round trip after
 * another. The value returned is a placeholder the runtime ignores (the reply was detached).
 */
export function replyLater<T>(ctx: ActorContext<unknown>, work: () => Promise<T>): T {
  const reply = ctx.detachReply();
  const p = work();
  if (reply === undefined) {
    p.catch(() => undefined); // a tell: nobody waits for the outcome
  } else {
    p.then((v) => reply.resolve(v === undefined ? null : v), (err: unknown) => reply.reject(err));
  }
  return undefined as unknown as T;
}
