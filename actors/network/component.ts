/** The network component: guest networks, VLAN/VNI and address allocation. Stateless: run as many as wanted. */
import type { ComponentDescriptor } from '../../src/component.js';
import { DataProtocol } from '../data/protocol.js';
import { NetworkProtocol } from './protocol.js';
import { startNetwork } from './start.js';

export interface NetworkComponentOptions {
  /** Times a guest address reservation is retried when a concurrent one took the same address. */
  readonly nicRetries?: number;
}

export const networkComponent: ComponentDescriptor<NetworkComponentOptions> = {
  name: 'network',
  summary: 'guest networks, VLAN/VNI allocation, guest and public IP addresses',
  provides: [NetworkProtocol],
  needs: [DataProtocol.name],
  instances: 'many',
  async start({ system, services, options }) {
    const s = startNetwork(system, { locator: services.locator, ...(options.nicRetries === undefined ? {} : { nicRetries: options.nicRetries }) });
    services.publish(NetworkProtocol);
    return { stop: async () => { services.withdraw(NetworkProtocol); await s.stop(); } };
  },
};
