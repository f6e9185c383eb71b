import type { ActorDefinition } from '../../src/actor-types.js';
import type { ChildTable } from './children.js';
import { LauncherProtocol } from './protocol.js';

/** The launcher's mailbox: what to start and stop here, and what runs. The children live in `table`. */
export function launcherActor(o: { node: string; labels: readonly string[]; capacity: number; table: ChildTable; changed: () => void }):
  ActorDefinition<typeof LauncherProtocol, null> {
  return {
    protocol: LauncherProtocol,
    init: () => null,
    handlers: {
      launch: ({ instance, role, args }) => {
        const info = o.table.launch(instance, role, args);
        o.changed();
        return info;
      },
      stop: async ({ instance }) => {
        const known = await o.table.stop(instance);
        o.changed();
        return known;
      },
      list: () => ({ node: o.node, labels: [...o.labels], capacity: o.capacity, free: Math.max(0, o.capacity - o.table.live()),
        instances: o.table.list() }),
    },
  };
}
