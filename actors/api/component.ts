/**
 * The API component: CloudStack's HTTP API. Stateless — sessions, jobs and everything else live in the
 * data service — so any number of instances serve one cloud, each on its own address.
 */
import type { ComponentDescriptor } from '../../src/component.js';
import { DataProtocol } from '../data/protocol.js';
import { startApi, type ApiComponent, type ApiComponentOptions } from './api-actor.js';

export type ApiComponentStartOptions = Omit<ApiComponentOptions, 'locator' | 'cluster'>;

export const apiComponent: ComponentDescriptor<ApiComponentStartOptions, ApiComponent> = {
  name: 'api',
  summary: 'the CloudStack-compatible HTTP API (/client/api): authentication, sessions, commands, async job handles',
  // The API is reached over HTTP, not by messages: it publishes no service.
  provides: [],
  needs: [DataProtocol.name],
  instances: 'many',
  async start({ system, services, options, log }) {
    const api = await startApi(system, {
      ...options, locator: services.locator, cluster: { members: () => services.members() },
      server: { logger: log, ...options.server },
    });
    log.debug('api listening', { endpoint: api.endpoint });
    return { handle: api, stop: () => api.stop() };
  },
};
