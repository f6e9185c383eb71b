/** The storage component: volumes and snapshots on primary storage. Stateless: run as many as wanted. */
import type { ComponentDescriptor } from '../../src/component.js';
import { DataProtocol } from '../data/protocol.js';
import { StorageProtocol } from './protocol.js';
import { startStorage } from './start.js';

export interface StorageComponentOptions {
  /** Pools considered per volume placement. */
  readonly poolCandidates?: number;
}

export const storageComponent: ComponentDescriptor<StorageComponentOptions> = {
  name: 'storage',
  summary: 'volumes and snapshots on primary storage pools',
  provides: [StorageProtocol],
  needs: [DataProtocol.name],
  instances: 'many',
  async start({ system, services, options }) {
    const s = startStorage(system, { locator: services.locator,
      ...(options.poolCandidates === undefined ? {} : { poolCandidates: options.poolCandidates }) });
    services.publish(StorageProtocol);
    return { stop: async () => { services.withdraw(StorageProtocol); await s.stop(); } };
  },
};
