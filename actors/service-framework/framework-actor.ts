import type { ActorDefinition } from '../../src/actor-types.js';
import type { Framework } from './framework.js';
import { ServiceFrameworkProtocol } from './protocol.js';

/** The acting framework's mailbox: its status, and a round on demand (after an operator's change). */
export function frameworkActor(f: Framework): ActorDefinition<typeof ServiceFrameworkProtocol, null> {
  return {
    protocol: ServiceFrameworkProtocol,
    init: () => null,
    handlers: {
      status: () => f.status(),
      reconcile: async () => { await f.round(); return f.status(); },
    },
  };
}
