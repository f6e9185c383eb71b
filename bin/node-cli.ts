/**
 * A cloudstackd node with any set of components (`--role=api`, `--role=data,orchestrator`,
 * `--role=management`, `--role=compute`, `--role=all --transport ws`...). It joins its cluster, starts
 * the components in dependency order, and prints `ready` once every service they need is served by
 * some member (saying meanwhile which it is waiting for). A role that cannot run exits with status 2
 * and one line saying why.
 */
import { readFileSync } from 'node:fs';
import { CloudstackdError, ConfigError } from '../src/errors.js';
import { createLogger, jsonSink, stderrSink, type Logger } from '../src/logger.js';
import { Node } from '../src/node.js';
import { createTransport, joinSeeds } from '../transports/create-transport.js';
import type { ApiComponent } from '../actors/api/api-actor.js';
import type { DataHandle } from '../actors/data/component.js';
import { startAssembly, waitForServices, type Assembly } from './assembly.js';
import type { CliConfig } from './cli-options.js';
import { startClusterMembership, type ClusterMembership } from './cluster.js';
import { ensureDataDir, writeCredentials } from './lab.js';
import { loadReportMs, startLoadReport } from './load-report.js';
import { startMetricsEndpoint, type MetricsEndpoint, type SingletonFigures } from './metrics-endpoint.js';
import type { ServiceFrameworkHandle } from '../actors/service-framework/component.js';
import type { StartedOrchestrator } from '../actors/orchestrator/start.js';
import { optionsFromCli } from './node-options.js';
import { runUntilSignal } from './until-signal.js';

/** How often a node still waiting for services it needs says which, ms. */
const WAITING_REPORT_MS = 5_000;
/** A node waits this long for the services it needs before it gives up, ms: a day (it keeps saying what it waits for). */
const WAIT_FOR_SERVICES_MS = 24 * 3_600_000;

function fatal(message: string, code: number): never {
  process.stderr.write(`cloudstackd: ${message}\n`);
  process.exit(code);
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function readSecret(config: CliConfig): Buffer | undefined {
  if (config.clusterSecretFile === undefined) return undefined;
  try {
    const secret = readFileSync(config.clusterSecretFile);
    if (secret.length < 16) throw new Error('the secret must be at least 16 bytes');
    return secret;
  } catch (err) {
    fatal(`cannot use --cluster-secret-file ${config.clusterSecretFile}: ${(err as Error).message}`, 2);
  }
}

export async function joinCluster(config: CliConfig, log: Logger): Promise<{ node: Node; cluster: ClusterMembership }> {
  const transport = await createTransport({
    kind: config.transport, nodeId: config.nodeName, clusterName: config.clusterName, clusterSecret: readSecret(config),
    listen: config.listen, redisUrl: config.redisUrl, logger: log,
  });
  const node = new Node({ nodeId: config.nodeName, transport, logger: log, strict: config.strict });
  await node.start();
  const seeds = config.join.map((j) => (j.host.includes(':') ? `[${j.host}]:${j.port}` : `${j.host}:${j.port}`));
  try {
    await joinSeeds(transport, seeds, config.joinTimeoutMs);
  } catch (err) {
    await node.stop();
    fatal(`cannot join the cluster: ${(err as Error).message}`, 1);
  }
  const cluster = await startClusterMembership(node, { roles: config.roles, clusterName: config.clusterName,
    profile: config.heartbeatProfile, seeds: transport.kind === 'ws' ? seeds : [], log, waitForSeeds: config.roles.includes('data') });
  return { node, cluster };
}

/** Says what the data and API components of this node give a user: the database, the endpoint, the keys. */
function announce(config: CliConfig, assembly: Assembly): void {
  const data = assembly.handle<DataHandle>('data');
  const api = assembly.handle<ApiComponent>('api');
  if (data?.seed !== undefined) {
    say(data.seed.created ? `seeded a new database in ${config.dataDir}: one Advanced zone` : `reusing the database in ${config.dataDir}`);
    const file = writeCredentials(config.dataDir, { endpoint: api?.endpoint ?? '', apiKey: data.seed.apiKey, secretKey: data.seed.secretKey });
    say(`credentials: ${file}`);
  }
  if (api !== undefined) say(`endpoint: ${api.endpoint}`);
}

export async function runNodeCli(config: CliConfig): Promise<void> {
  const log = createLogger(config.logLevel, config.logFormat === 'json' ? jsonSink : stderrSink);
  if (config.roles.includes('data')) {
    try { ensureDataDir(config.dataDir); } catch (err) { fatal((err as Error).message, 2); }
  }
  const { node, cluster } = await joinCluster(config, log);
  let metrics: MetricsEndpoint | undefined;
  let assembly: Assembly;
  try {
    if (config.metricsPort !== undefined) metrics = await startMetricsEndpoint(node, cluster.gossip, { host: config.metricsHost, port: config.metricsPort });
    const base = optionsFromCli(config);
    const onRequest = metrics?.onApiRequest;
    assembly = await startAssembly({ system: node.system, services: cluster.services, transport: node.transport, log,
      profile: config.heartbeatProfile }, config.roles,
    (name) => (name === 'api' && onRequest !== undefined ? { ...(base(name) as object), server: { onRequest } } : base(name)));
  } catch (err) {
    cluster.gossip.stop();
    await metrics?.close();
    await node.stop().catch(() => undefined);
    const e = err as Error;
    // A role that cannot run here (a second SQLite writer, a port in use...) is a configuration problem: 2.
    fatal(e.message, err instanceof ConfigError || (err instanceof CloudstackdError && !err.retryable) ? 2 : 1);
  }
  announce(config, assembly);
  if (metrics !== undefined) {
    const framework = assembly.handle<ServiceFrameworkHandle>('service-framework');
    if (framework !== undefined) {
      metrics.addSource(() => {
        const c = framework.framework()?.status().counters;
        return c === undefined ? {} : { launch: c.launches, restart: c.restarts, stop: c.stops, scale: c.scaleChanges, crashloop: c.crashLoops };
      });
    }
    for (const lease of ['fabric-monitor', 'fabric-admin', 'service-framework']) {
      const singleton = assembly.handle<SingletonFigures>(lease);
      if (singleton !== undefined) metrics.addSingleton(lease, singleton);
    }
    const orchestrator = assembly.handle<StartedOrchestrator>('orchestrator');
    if (orchestrator !== undefined) metrics.addJobs(() => orchestrator.ref.ask('stats', {}, { timeoutMs: 5_000 }));
    say(`metrics: ${metrics.url}`);
  }
  const stopLoadReport = startLoadReport(node.system, cluster.services, loadReportMs(config.heartbeatProfile));

  const stopping = runUntilSignal(log, async () => {
    stopLoadReport();
    await assembly.stop();
    await metrics?.close();
    await cluster.gossip.leave().catch(() => undefined);
    await node.stop();
  });

  const missing = assembly.missingServices();
  if (missing.length > 0) say(`waiting for services: ${missing.join(', ')}`);
  try {
    await waitForServices(cluster.services, missing, { timeoutMs: WAIT_FOR_SERVICES_MS, pollMs: 50, reportEveryMs: WAITING_REPORT_MS,
      waiting: (m) => say(`waiting for services: ${m.join(', ')}`) });
  } catch (err) {
    if (!stopping()) fatal((err as Error).message, 1);
    return;
  }
  if (stopping()) return;
  const transport = node.transport!;
  log.info('node started', { id: node.id, roles: assembly.names.join(','), transport: transport.kind, address: transport.address() ?? '' });
  say(`components: ${assembly.names.join(',')}`);
  say(`ready node=${node.id} transport=${transport.kind} address=${transport.address() ?? ''}`);
}
