/**
 * A compute process with many simulated hosts, for the scale run of bench/distributed.ts:
 * `node dist/bench/distributed-agents.js <cloudstackd --role=compute flags> --agents N` runs N agents
 * named `<node-name>-a<i>` on one node (the CLI's compute role runs one). Prints the CLI's ready line.
 */
import { readFileSync } from 'node:fs';
import { createLogger } from '../src/logger.js';
import { Node } from '../src/node.js';
import { createTransport, joinSeeds } from '../transports/create-transport.js';
import { startAssembly } from '../bin/assembly.js';
import { parseCli } from '../bin/cli-options.js';
import { startClusterMembership } from '../bin/cluster.js';
import { hostOf } from '../bin/node-options.js';

const argv = [...process.argv];
const at = argv.indexOf('--agents');
const agents = at > 0 ? Number(argv[at + 1]) : 1;
if (at > 0) argv.splice(at, 2);
const config = parseCli(argv);
const log = createLogger(config.logLevel);
const secret = config.clusterSecretFile === undefined ? undefined : readFileSync(config.clusterSecretFile);
const transport = await createTransport({ kind: config.transport, nodeId: config.nodeName, clusterName: config.clusterName,
  clusterSecret: secret, listen: config.listen, redisUrl: config.redisUrl, logger: log });
const node = new Node({ nodeId: config.nodeName, transport, logger: log });
await node.start();
const seeds = config.join.map((j) => `${j.host}:${j.port}`);
await joinSeeds(transport, seeds, config.joinTimeoutMs);
const cluster = await startClusterMembership(node, { roles: ['compute'], clusterName: config.clusterName, profile: config.heartbeatProfile,
  seeds: transport.kind === 'ws' ? seeds : [], log });
const gossip = cluster.gossip;
const base = hostOf(config);
const hosts = Array.from({ length: agents }, (_v, i) => ({ ...base, name: `${config.nodeName}-a${String(i).padStart(3, '0')}` }));
// The compute component as `cloudstackd --role=compute` starts it, with many hosts instead of one.
const started = await startAssembly({ system: node.system, services: cluster.services, transport, log, profile: config.heartbeatProfile },
  ['compute'], () => ({ hosts }));
process.stdout.write(`ready node=${node.id} transport=${transport.kind} agents=${agents}\n`);
const keepAlive = setInterval(() => undefined, 1 << 30);
process.once('SIGTERM', () => {
  clearInterval(keepAlive);
  void started.stop().then(() => gossip.leave()).then(() => node.stop()).finally(() => process.exit(0));
});
