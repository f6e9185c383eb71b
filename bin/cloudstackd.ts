#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { createLogger } from '../src/logger.js';
import { Node } from '../src/node.js';
import { createTransport, joinSeeds } from '../transports/create-transport.js';
import type { GossipNode } from '../src/cluster/gossip-node.js';
import { startGossip } from './cluster.js';
import { ROLE_SETS, parseCli, type CliConfig } from './cli-options.js';
import { STARTERS, type Started } from './components.js';
import { runLabCli } from './lab-cli.js';
import { assemblyFor, startAssembly } from './distributed.js';

function readSecret(config: CliConfig): Buffer | undefined {
  if (config.clusterSecretFile === undefined) return undefined;
  try {
    const secret = readFileSync(config.clusterSecretFile);
    if (secret.length < 16) throw new Error('the secret must be at least 16 bytes');
    return secret;
  } catch (err) {
    fatal(`cannot use --cluster-secret-file ${config.clusterSecretFile}: ${(err as Error).message}`);
  }
}

function fatal(message: string, code = 1): never {
  process.stderr.write(`cloudstackd: ${message}\n`);
  process.exit(code);
}

/** The default role on the in-process transport is the all-in-one lab. */
function isLab(config: CliConfig): boolean {
  const all = ROLE_SETS.all!;
  return config.transport === 'inproc' && config.roles.length === all.length && all.every((r) => config.roles.includes(r));
}

async function main(): Promise<void> {
  const config = parseCli(process.argv);
  if (isLab(config)) {
    await runLabCli(config);
    return;
  }
  const log = createLogger(config.logLevel);
  const transport = await createTransport({
    kind: config.transport, nodeId: config.nodeName, clusterName: config.clusterName, clusterSecret: readSecret(config),
    listen: config.listen, redisUrl: config.redisUrl, logger: log,
  });
  const node = new Node({ nodeId: config.nodeName, transport, logger: log, strict: config.strict });
  await node.start();
  const seeds = config.join.map((j) => (j.host.includes(':') ? `[${j.host}]:${j.port}` : `${j.host}:${j.port}`));
  let gossip: GossipNode | undefined;
  try {
    await joinSeeds(transport, seeds, config.joinTimeoutMs);
    if (transport.kind !== 'inproc') gossip = startGossip(node, config, seeds, log);
  } catch (err) {
    await node.stop();
    fatal(`cannot join the cluster: ${(err as Error).message}`);
  }
  const started: Started[] = [];
  const assembly = assemblyFor(config.roles);
  if (assembly !== undefined) {
    try {
      started.push(await startAssembly(assembly, { node, config, log, gossip }));
    } catch (err) {
      await gossip?.leave().catch(() => undefined);
      await node.stop().catch(() => undefined);
      fatal(`cannot start the ${assembly} role: ${(err as Error).message}`);
    }
  }
  for (const role of assembly === undefined ? config.roles : []) {
    const starter = STARTERS[role];
    if (starter === undefined) {
      log.warn('component not available in this version; skipped', { component: role });
      continue;
    }
    started.push(await starter({ node, config, log, gossip }));
  }
  log.info('node started', { id: node.id, roles: config.roles.join(','), transport: transport.kind, address: transport.address() ?? '' });
  process.stdout.write(`ready node=${node.id} transport=${transport.kind} address=${transport.address() ?? ''}\n`);

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info('stopping', { signal });
    for (const s of started.reverse()) await s.stop().catch((err: unknown) => log.warn('component stop failed', { component: s.name, error: String(err) }));
    await gossip?.leave().catch(() => undefined);
    await node.stop();
    log.info('stopped');
    process.exitCode = 0;
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  // Real timers are unref()'d, so keep the process alive until a signal arrives.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  process.once('SIGINT', () => clearInterval(keepAlive));
  process.once('SIGTERM', () => clearInterval(keepAlive));
}

main().catch((err: unknown) => fatal((err as Error).message ?? String(err)));
