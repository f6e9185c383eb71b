import type { ActorCell } from './actor-cell.js';
import type { ActorContext, Address } from './actor-types.js';

/**
 * One context object per actor (not per message): the fields that depend on the message being
 * handled read the cell's current message, which is safe because an actor handles one at a time.
 */
export function createContext<S>(cell: ActorCell<S>): ActorContext<S> {
  const system = cell.system;
  const ctx: ActorContext<S> = {
    self: { node: system.nodeId, path: cell.path },
    clock: system.clock,
    log: system.log.child({ actor: cell.path }),
    state: undefined as S,
    get sender() { return cell.current?.sender; },
    get deadline() { const d = cell.current?.deadline; return d ? d : undefined; },
    ref: (address, protocol) => system.ref(address, protocol),
    ask: (ref, type, body, options = {}) => {
      const opts = { ...options };
      const d = cell.current?.deadline;
      if (d) {
        const left = Math.max(0, d - system.clock.now());
        opts.timeoutMs = Math.min(opts.timeoutMs ?? system.askTimeoutMs, left);
      }
      const trace = cell.current?.trace;
      if (trace !== undefined && opts.trace === undefined) opts.trace = trace;
      return system.askFrom(cell as ActorCell, ref, type, body, opts) as never;
    },
    tell: (ref, type, body) => system.tellFrom(cell as ActorCell, ref, type, body),
    spawn: (name, definition, options = {}) => {
      if (name.includes('/') || name === '') throw new Error(`child name "${name}" must be non-empty and contain no "/"`);
      return system.spawnCell(`${cell.path}/${name}`, definition, options, cell as ActorCell);
    },
    stop: async (target?: Address) => {
      if (target === undefined) return cell.stop();
      const child = system.lookup(target.path);
      if (child === undefined || child.parent !== (cell as ActorCell)) {
        throw new Error(`${target.path} is not a child of ${cell.path}`);
      }
      return child.stop();
    },
    detachReply: () => {
      const msg = cell.current;
      if (msg === undefined || msg.reply === undefined) return undefined;
      const sink = msg.reply;
      msg.reply = undefined;
      return sink;
    },
    watch: (target) => system.watch(cell as ActorCell, target),
    unwatch: (target) => system.unwatch(cell as ActorCell, target),
  };
  return ctx;
}
