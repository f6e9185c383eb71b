/**
 * The API component: an actor that owns the HTTP server. The server is opened when the actor starts and
 * closed (in-flight requests finished) when it stops. Requests are not funnelled through the actor's
 * mailbox — each one is independent and mostly waits on the data service, so they run concurrently;
 * the actor gives the server a place in the actor tree (lifecycle, supervision, a `status` address).
 * Commands reach the data service through the locator, by service name, never by address.
 */
import { randomUUID } from 'node:crypto';
import type { ActorSystem } from '../../src/actor-system.js';
import type { ActorDefinition, ActorRef } from '../../src/actor-types.js';
import { createRealClock, type Clock } from '../../src/clock.js';
import type { ServiceLocator } from '../../src/locator.js';
import type { Logger } from '../../src/logger.js';
import { DataProtocol, dataClient, type DataApi, waitingDataCall } from '../data/protocol.js';
import { createCommands } from './commands/index.js';
import { locatedOrchestrator } from './commands/orchestration.js';
import { locatedFramework } from './commands/component-services.js';
import { locatedFabricAdmin } from './commands/fabric.js';
import type { ClusterView } from './commands/management-servers.js';
import { createDataCredentials, type CredentialCacheOptions } from './credentials.js';
import { API_PATH, createApiServer, type ApiServer, type ApiServerOptions } from './http-server.js';
import { sharedSessions } from './shared-sessions.js';
import { API_PATH_ACTOR, ApiProtocol } from './protocol.js';

export interface ApiComponentOptions {
  /** Finds the data service (and, later, the other components) by service name. */
  readonly locator: ServiceLocator;
  /** Interface to bind. Default 127.0.0.1. */
  readonly host?: string;
  /** TCP port; 0 picks a free one. Default 8080. */
  readonly port?: number;
  /** Deadline of each call to the data service, ms. Default 10,000 (well inside the 30 s request timeout). */
  readonly dataTimeoutMs?: number;
  /** The API-key cache (see credentials.ts). */
  readonly credentialCache?: Partial<CredentialCacheOptions>;
  /** HTTP server settings: limits, sessions, auth, page size, version, clock, logger. */
  readonly server?: Omit<ApiServerOptions, 'commands' | 'credentials' | 'host' | 'port'>;
  /** Random UUIDs for names the API makes up. Default crypto.randomUUID. */
  readonly newUuid?: () => string;
  /** Actor path. Default /api. */
  readonly path?: string;
  /** The cluster's live members (listManagementServers). Without it the command is not served. */
  readonly cluster?: ClusterView;
}

export const DEFAULT_DATA_TIMEOUT_MS = 10_000;

/** A started API component. */
export interface ApiComponent {
  readonly ref: ActorRef<typeof ApiProtocol>;
  readonly host: string;
  readonly port: number;
  /** e.g. http://127.0.0.1:8080/client/api */
  readonly endpoint: string;
  readonly server: ApiServer;
  /** Closes the server (letting in-flight requests finish) and stops the actor. */
  stop(): Promise<void>;
}

/** The URL clients use: a wildcard bind address is reached through loopback. */
export function endpointFor(host: string, port: number): string {
  const h = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${h.includes(':') ? `[${h}]` : h}:${port}${API_PATH}`;
}

/** The data service as the commands see it: each call asks whichever instance the locator names now. */
export function locatedDataApi(locator: ServiceLocator, timeoutMs: number, clock: Clock = createRealClock()): DataApi {
  return dataClient(waitingDataCall((body) => locator.ref(DataProtocol).ask('call', body, { timeoutMs }), clock));
}

/** The API actor and the server it owns, before it is spawned. */
export interface ApiActorParts {
  readonly definition: ActorDefinition<typeof ApiProtocol, null>;
  readonly server: ApiServer;
  /** Settles once the actor has started: the bound port, or the error that kept the server from listening. */
  readonly listening: Promise<{ port: number } | Error>;
}

/**
 * Builds the API actor. When it starts it opens the server; if that fails (a port in use is a
 * ConfigError saying so) `listening` carries the error and the actor serves nothing.
 */
export function apiActor(options: ApiComponentOptions, clock: Clock, log: Logger): ApiActorParts {
  const host = options.host ?? '127.0.0.1';
  const data = locatedDataApi(options.locator, options.dataTimeoutMs ?? DEFAULT_DATA_TIMEOUT_MS, clock);
  const s = options.server ?? {};
  const credentials = createDataCredentials(data, s.clock ?? clock, options.credentialCache);
  const commands = createCommands({
    data,
    keysChanged: (userId) => credentials.invalidateUser(userId),
    cloudStackVersion: s.cloudStackVersion ?? '4.20.0.0',
    maxPageSize: s.maxPageSize ?? 500,
    newUuid: options.newUuid ?? randomUUID,
    orchestrator: locatedOrchestrator(options.locator, clock),
    fabric: locatedFabricAdmin(options.locator),
    framework: locatedFramework(options.locator),
    ...(options.cluster === undefined ? {} : { cluster: options.cluster }),
  });
  const server = createApiServer({ clock, logger: log, ...s, host, port: options.port ?? 8080, commands, credentials,
    sharedSessions: s.sharedSessions ?? sharedSessions(data, s.sessions) });
  let settle!: (r: { port: number } | Error) => void;
  const listening = new Promise<{ port: number } | Error>((resolve) => { settle = resolve; });
  let port = -1;
  const definition: ActorDefinition<typeof ApiProtocol, null> = {
    protocol: ApiProtocol,
    init: () => null,
    // The server outlives restarts of the actor (its state is null): only start and stop touch it.
    started: async () => {
      try {
        port = (await server.listen()).port;
        settle({ port });
      } catch (err) {
        settle(err instanceof Error ? err : new Error(String(err)));
      }
    },
    stopping: () => server.close(),
    handlers: {
      status: () => ({ host, port, endpoint: endpointFor(host, port), commands: server.table.all().length }),
    },
  };
  return { definition, server, listening };
}

/**
 * Spawns the API actor on `system` and resolves once the server listens; rejects (with the actor
 * stopped again) when it cannot, e.g. a ConfigError for a port already in use.
 */
export async function startApi(system: ActorSystem, options: ApiComponentOptions): Promise<ApiComponent> {
  const path = options.path ?? API_PATH_ACTOR;
  const parts = apiActor(options, system.clock, system.log);
  const ref = system.spawn(path, parts.definition);
  const outcome = await parts.listening;
  if (outcome instanceof Error) {
    await system.stop(path);
    throw outcome;
  }
  const host = options.host ?? '127.0.0.1';
  return {
    ref, host, port: outcome.port, endpoint: endpointFor(host, outcome.port), server: parts.server,
    stop: () => system.stop(path),
  };
}
