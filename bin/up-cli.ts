/**
 * `cloudstackd up --spec <file>`: a whole cloud of separate processes on this machine. This process is
 * a launcher node; it starts the data service and the service framework through its launcher, writes
 * the desired deployment from the spec into the data service, and the acting framework launches the
 * rest. When every component runs and the API answers it prints the endpoint and the credentials.
 * Ctrl-C (or SIGTERM) stops every process it started — the framework first, so nothing is restarted.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { DataProtocol, dataClient, waitingDataCall } from '../actors/data/protocol.js';
import { LAUNCHER_PATH, LauncherProtocol, type InstanceInfo } from '../actors/launcher/protocol.js';
import { ServiceFrameworkProtocol, type FrameworkStatus } from '../actors/service-framework/protocol.js';
import { ConfigError } from '../src/errors.js';
import { createLogger, LOG_LEVELS, type LogLevel } from '../src/logger.js';
import type { Node } from '../src/node.js';
import { startAssembly, waitForServices } from './assembly.js';
import type { ClusterMembership } from './cluster.js';
import type { CliConfig } from './cli-options.js';
import { writeCredentials } from './lab.js';
import { joinCluster } from './node-cli.js';
import { launcherOptionsOf } from './node-options.js';
import { readSpec, type UpSpec } from './up-spec.js';
import { runUntilSignal } from './until-signal.js';

/** How long `up` waits for the whole cloud to run, ms: 5 minutes (a loaded machine starting a dozen processes). */
const UP_TIMEOUT_MS = 300_000;
/** How often it looks, ms. */
const POLL_MS = 200;

const say = (line: string): void => { process.stdout.write(`${line}\n`); };

function configOf(spec: UpSpec, dir: string, logLevel: LogLevel): CliConfig {
  return {
    roles: ['launcher'], transport: 'ws', listen: { host: '127.0.0.1', port: 0 }, join: [], redisUrl: undefined, clusterName: spec.cluster,
    clusterSecretFile: join(dir, 'secret'), nodeName: 'up', bind: '127.0.0.1', port: 0, dataDir: dir, databaseUrl: undefined, databaseUnavailableRetryMs: undefined, hosts: 0, logLevel,
    strict: false, hypervisor: 'simulator', cpuCores: 32, cpuSpeed: 2400, memory: 131_072, zone: undefined, pod: undefined,
    cluster: undefined, joinTimeoutMs: 10_000, heartbeatProfile: spec.profile, labels: [], launcherCapacity: 256, metricsPort: 0, metricsHost: '127.0.0.1', logFormat: spec.logFormat, restartMaxFailures: undefined, restartWindowMs: undefined,
  };
}

/** A failure that waiting longer cannot mend. */
class CloudFailed extends ConfigError {}

async function until<T>(what: string, probe: () => Promise<T | undefined>, stopping: () => boolean): Promise<T> {
  const end = Date.now() + UP_TIMEOUT_MS;
  for (;;) {
    if (stopping()) throw new ConfigError('stopped before the cloud was up');
    const v = await probe().catch((err: unknown) => { if (err instanceof CloudFailed) throw err; return undefined; });
    if (v !== undefined) return v;
    if (Date.now() > end) throw new ConfigError(`the cloud is not up after ${UP_TIMEOUT_MS} ms: ${what}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

function allRunning(s: FrameworkStatus): boolean {
  return s.services.length > 0 && s.services.every((v) => v.running >= v.desired);
}

export async function runUpCli(argv: string[]): Promise<void> {
  const program = new Command('cloudstackd up')
    .requiredOption('--spec <file>', 'the deployment spec (JSON, see examples/cloud.json)')
    .addOption(new Option('--log-level <level>', 'this process\'s log level').default('warn').choices(LOG_LEVELS))
    .allowExcessArguments(false);
  program.parse(argv, { from: 'user' });
  const o = program.opts<{ spec: string; logLevel: LogLevel }>();
  const spec = readSpec(o.spec);
  const temporary = spec.dataDir === undefined;
  const dir = resolve(spec.dataDir ?? mkdtempSync(join(tmpdir(), 'cloudstackd-up-')));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'secret'), randomBytes(32).toString('hex'), { mode: 0o600 });
  const config = configOf(spec, dir, spec.logLevel);
  const log = createLogger(o.logLevel);
  const { node, cluster } = await joinCluster(config, log);
  const assembly = await startAssembly({ system: node.system, services: cluster.services, transport: node.transport, log, profile: spec.profile },
    ['launcher'], (name) => (name === 'launcher' ? launcherOptionsOf(config, process.argv[1] ?? '') : {}));
  let shutdown: Promise<void> | undefined;
  const stopAll = (): Promise<void> => (shutdown ??= (async () => {
    await assembly.stop();
    await cluster.gossip.leave().catch(() => undefined);
    await node.stop();
    if (temporary) rmSync(dir, { recursive: true, force: true });
  })());
  const stopping = runUntilSignal(log, stopAll);
  try {
    await bringUp(spec, dir, node, cluster, stopping);
  } catch (err) {
    // Nothing is left behind when the cloud cannot come up: every process started is stopped.
    await stopAll();
    if (!stopping()) throw err;
  }
}

async function bringUp(spec: UpSpec, dir: string, node: Node, cluster: ClusterMembership, stopping: () => boolean): Promise<void> {
  const launcher = node.system.ref({ node: node.id, path: LAUNCHER_PATH }, LauncherProtocol);
  const launch = (instance: string, role: string, args: string[] = []): Promise<InstanceInfo> => launcher.ask('launch', { instance, role, args });

  // The data service first: the deployment lives there, and the framework needs it for its lease.
  await launch('data-1', 'data');
  await waitForServices(cluster.services, ['data'], { timeoutMs: UP_TIMEOUT_MS, pollMs: 50 });
  const data = dataClient(waitingDataCall((body) => cluster.services.locator.ref(DataProtocol).ask('call', body), node.system.clock));
  for (const s of spec.services) await data.componentServices.define(s);
  for (let i = 1; i <= spec.frameworkInstances; i++) await launch(`service-framework-${i}`, 'service-framework', spec.frameworkArgs);

  const framework = () => cluster.services.locator.ref(ServiceFrameworkProtocol);
  const status = await until('components still starting', async () => {
    const s = await framework().ask('reconcile', {}, { timeoutMs: 10_000 });
    const failed = s.services.find((v) => v.state === 'Alert');
    if (failed !== undefined) {
      const restarts = s.instances.filter((i) => i.role === failed.name).reduce((n, i) => n + i.restarts, 0);
      throw new CloudFailed(`cannot bring the cloud up: component ${failed.name} is crash-looping (${restarts} restarts): ${failed.reason ?? ''}`);
    }
    return allRunning(s) ? s : undefined;
  }, stopping);
  const api = status.instances.find((i) => i.role === 'api' && i.state === 'running' && i.endpoint !== undefined);
  const dataInfo = status.instances.find((i) => i.role === 'data');
  if (api?.endpoint !== undefined) {
    await until('the API does not answer', async () => ((await fetch(api.endpoint!)).status > 0 ? true : undefined), stopping);
    if (dataInfo?.credentials !== undefined) {
      const keys = JSON.parse(readFileSync(dataInfo.credentials, 'utf8')) as { apiKey: string; secretKey: string };
      say(`credentials: ${writeCredentials(dir, { endpoint: api.endpoint, apiKey: keys.apiKey, secretKey: keys.secretKey })}`);
    }
    say(`endpoint: ${api.endpoint}`);
  }
  writeFileSync(join(dir, 'cluster.json'), JSON.stringify({ join: node.transport!.address()!.replace(/^ws:\/\//, ''),
    clusterName: spec.cluster, clusterSecretFile: join(dir, 'secret') }, null, 2) + '\n');
  say(`status: cloudstackd status --cluster-file ${join(dir, 'cluster.json')}`);
  say(`up: ${status.services.map((s) => `${s.name}=${s.running}`).join(' ')} (Ctrl-C stops everything)`);
}
