/**
 * `cloudstackd status`: joins the cluster for a moment (with --cluster-file from `up`, or --join and
 * --cluster-secret-file) and prints the members and the components each runs, instance counts against
 * desired, restarts, the busiest mailboxes (the members' advertised mailbox depth) and the lease holders.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { DataProtocol, dataClient } from '../actors/data/protocol.js';
import { ServiceFrameworkProtocol } from '../actors/service-framework/protocol.js';
import { ConfigError } from '../src/errors.js';
import { createLogger } from '../src/logger.js';
import { waitForServices } from './assembly.js';
import { parseHostPort, type CliConfig } from './cli-options.js';
import { joinCluster } from './node-cli.js';

/** How long status waits to find the framework and data service, ms. */
const FIND_TIMEOUT_MS = 15_000;

/** Tries a few times: a member just joined may need a moment before a connection to it is up. */
const ATTEMPTS = 3;

async function retried<T>(f: () => Promise<T>): Promise<T> {
  for (let i = 1; ; i++) {
    try { return await f(); } catch (err) {
      if (i >= ATTEMPTS) throw err;
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
}

export async function runStatusCli(argv: string[]): Promise<void> {
  const o = new Command('cloudstackd status')
    .option('--cluster-file <file>', 'the cluster.json `up` wrote (join address, cluster name, secret file)')
    .option('--join <host:port>', 'a member to join')
    .option('--cluster-name <name>', 'the cluster name', 'cloudstack')
    .option('--cluster-secret-file <file>', 'the shared cluster secret')
    .option('--redis-url <url>', 'a cluster over Redis: its redis:// or rediss:// URL (instead of --join)')
    .allowExcessArguments(false)
    .parse(argv, { from: 'user' })
    .opts<{ clusterFile?: string; join?: string; clusterName: string; clusterSecretFile?: string; redisUrl?: string }>();
  const file = o.clusterFile === undefined ? {} : JSON.parse(readFileSync(o.clusterFile, 'utf8')) as { join?: string; clusterName?: string; clusterSecretFile?: string };
  const join = o.join ?? file.join;
  const secret = o.clusterSecretFile ?? file.clusterSecretFile;
  if ((join === undefined && o.redisUrl === undefined) || secret === undefined) {
    throw new ConfigError('status needs --cluster-file, or --join (or --redis-url) and --cluster-secret-file');
  }
  const config: CliConfig = {
    roles: [], transport: o.redisUrl === undefined ? 'ws' : 'redis', listen: { host: '127.0.0.1', port: 0 },
    join: o.redisUrl === undefined && join !== undefined ? [parseHostPort(join)] : [], redisUrl: o.redisUrl,
    clusterName: file.clusterName ?? o.clusterName, clusterSecretFile: secret, nodeName: `status-${process.pid}`, bind: '127.0.0.1', port: 0, databaseUrl: undefined, databaseUnavailableRetryMs: undefined,
    dataDir: '.', hosts: 0, logLevel: 'error', strict: false, hypervisor: 'simulator', cpuCores: 1, cpuSpeed: 100, memory: 128, zone: undefined,
    pod: undefined, cluster: undefined, joinTimeoutMs: 10_000, heartbeatProfile: 'default', labels: [], launcherCapacity: 1, metricsPort: undefined, metricsHost: '127.0.0.1', logFormat: 'text', restartMaxFailures: undefined, restartWindowMs: undefined,
  };
  const { node, cluster } = await joinCluster(config, createLogger('error'));
  try {
    await waitForServices(cluster.services, [ServiceFrameworkProtocol.name, DataProtocol.name], { timeoutMs: FIND_TIMEOUT_MS, pollMs: 50 });
    const s = await retried(() => cluster.services.locator.ref(ServiceFrameworkProtocol).ask('status', {}, { timeoutMs: 10_000 }));
    const data = dataClient((body) => cluster.services.locator.ref(DataProtocol).ask('call', body, { timeoutMs: 10_000 }));
    // The lease holders are worth printing, not worth failing for: the rest comes from the framework.
    const leases = await retried(() => data.leases.list('', 1000)).then((all) => all.filter((l) => !l.name.startsWith('job:') && l.owner !== ''),
      (err: unknown) => (err as Error).message);
    const members = cluster.services.members().filter((m) => !m.local).sort((a, b) => (a.id < b.id ? -1 : 1));
    const out: string[] = [];
    out.push(`members (${members.length}):`);
    for (const m of members) out.push(`  ${m.id.padEnd(24)} ${m.status.padEnd(7)} ${m.roles.join(',')}`);
    out.push(`components (acting framework ${s.acting}, epoch ${s.epoch}):`);
    for (const v of s.services) {
      out.push(`  ${v.name.padEnd(18)} ${v.running}/${v.desired} running (min ${v.min}, max ${v.max}${v.fixed ? ', fixed' : ''})` +
        `  restarts ${v.restarts}  ${v.state}${v.reason === undefined ? '' : `: ${v.reason}`}`);
    }
    out.push('launchers:');
    for (const l of s.launchers) out.push(`  ${l.node.padEnd(24)} free ${l.free}/${l.capacity}${l.labels.length > 0 ? `  labels ${l.labels.join(',')}` : ''}`);
    out.push('instances:');
    for (const i of [...s.instances].sort((a, b) => (a.instance < b.instance ? -1 : 1))) {
      out.push(`  ${i.instance.padEnd(24)} ${i.state.padEnd(8)} pid ${String(i.pid).padEnd(7)} on ${i.node}  restarts ${i.restarts}  since ${new Date(i.startedAt).toISOString()}${i.metrics === undefined ? '' : `  ${i.metrics}`}`);
    }
    out.push('busiest mailboxes (messages waiting per member):');
    for (const m of [...members].sort((a, b) => (b.load.mailbox ?? 0) - (a.load.mailbox ?? 0)).slice(0, 5)) {
      out.push(`  ${m.id.padEnd(24)} ${m.load.mailbox ?? 0}  (asks in flight ${m.load.asks ?? 0}, cpu ${m.load.cpu ?? 0} %)`);
    }
    out.push('leases:');
    if (typeof leases === 'string') out.push(`  (the data service did not answer: ${leases})`);
    else for (const l of leases) out.push(`  ${l.name.padEnd(24)} ${l.owner}  epoch ${l.epoch}`);
    out.push(`counters: ${Object.entries(s.counters).map(([k, v]) => `${k}=${v}`).join(' ')}`);
    process.stdout.write(out.join('\n') + '\n');
  } finally {
    await cluster.gossip.leave().catch(() => undefined);
    await node.stop();
  }
}
