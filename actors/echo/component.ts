/** The echo component: a diagnostic service that answers what it is sent (checks a cluster's messaging). */
import type { ComponentDescriptor } from '../../src/component.js';
import { echoActor } from './echo-actor.js';
import { ECHO_PATH, EchoProtocol } from './protocol.js';

export const echoComponent: ComponentDescriptor<Record<string, never>> = {
  name: 'echo',
  summary: 'a diagnostic echo service (messaging checks)',
  provides: [EchoProtocol],
  needs: [],
  instances: 'many',
  async start({ system, services }) {
    system.spawn(ECHO_PATH, echoActor());
    services.publish(EchoProtocol);
    return { stop: async () => { services.withdraw(EchoProtocol); await system.stop(ECHO_PATH); } };
  },
};
