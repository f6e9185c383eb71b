/**
 * A compute process with many simulated hosts, for the scale run of bench/distributed.ts:
 * `node dist/bench/distributed-agents.js <cloudstackd --role=compute flags> --agents N` runs N agents
 * named `<node-name>-a<i>` on one node (the CLI's compute role runs one). Prints the CLI's ready line.
 */
import { readFileSync } from 'node:fs';
import { createLogger } from '../src/logger.js';
import { Node } from '../src/node.js';
import { createTransport, joinSeeds } from '../transports/create-transport.js';
import { parseCli } from '../bin/cli-options.js';
import { startGossip } from '../bin/cluster.js';
import { hostOf, startCompute } from '../bin/distributed.js';

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
const gossip = startGossip(node, config, seeds, log);
const base = hostOf(config);
const hosts = Array.from({ length: agents }, (_v, i) => ({ ...base, name: `${config.nodeName}-a${String(i).padStart(3, '0')}` }));
const started = await startCompute({ node, config, log, gossip }, { hosts });
process.stdout.write(`ready node=${node.id} transport=${transport.kind} agents=${agents}\n`);
const keepAlive = setInterval(() => undefined, 1 << 30);
process.once('SIGTERM', () => {
  clearInterval(keepAlive);
  void started.stop().then(() => gossip.leave()).then(() => node.stop()).finally(() => process.exit(0));
});
