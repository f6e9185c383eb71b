/**
 * A node in a child process for the Redis tests that need a separate process (one that can be frozen
 * with SIGSTOP while Redis keeps sending to it). Configured through the environment; hosts the echo
 * actor at /echo; answers {op:'stats'} over IPC with its transport's counters.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../../../src/logger.js';
import { Node } from '../../../src/node.js';
import { RedisTransport } from '../../../transports/redis/redis-transport.js';
import { echoActor } from '../../fixtures/echo-protocol.js';
import { projectRoot } from '../../helpers/paths.js';
import { onCleanup } from '../../helpers/global-hooks.js';
import { TEST_MAX_FRAME, TEST_TIMERS } from './fixture.js';

export interface ChildNode {
  child: ChildProcess;
  stats(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

/** Starts a child node and resolves once it is connected to Redis. */
export async function startChildNode(env: { url: string; cluster: string; secret: Buffer; nodeId: string }): Promise<ChildNode> {
  const file = fileURLToPath(import.meta.url);
  const child = fork(file, ['--child'], {
    cwd: projectRoot(),
    execArgv: file.endsWith('.ts') ? ['--import', 'tsx'] : [],
    env: { ...process.env, CHILD_REDIS_URL: env.url, CHILD_CLUSTER: env.cluster, CHILD_SECRET: env.secret.toString('hex'), CHILD_NODE: env.nodeId },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL'); // also ends a stopped (SIGSTOP) process, without letting it run first
    await exited;
  };
  onCleanup(stop);
  const [msg] = await once(child, 'message') as [{ ready?: boolean; error?: string }];
  if (!msg.ready) { await stop(); throw new Error(`child node failed to start: ${msg.error}`); }
  return {
    child,
    stop,
    async stats() {
      child.send({ op: 'stats' });
      const [m] = await once(child, 'message') as [{ stats: Record<string, number> }];
      return m.stats;
    },
  };
}

async function childMain(): Promise<void> {
  const e = process.env;
  const transport = new RedisTransport({
    nodeId: e.CHILD_NODE!, clusterName: e.CHILD_CLUSTER!, clusterSecret: Buffer.from(e.CHILD_SECRET!, 'hex'),
    url: e.CHILD_REDIS_URL!, maxFrameBytes: TEST_MAX_FRAME, ...TEST_TIMERS,
  });
  const node = new Node({ nodeId: e.CHILD_NODE!, transport, logger: silentLogger });
  node.system.spawn('/echo', echoActor());
  await node.start();
  process.on('message', (m: { op?: string }) => { if (m.op === 'stats') process.send!({ stats: transport.stats() }); });
  process.on('disconnect', () => { void node.stop().finally(() => process.exit(0)); });
  process.send!({ ready: true });
}

if (process.argv.includes('--child')) {
  childMain().catch((err: unknown) => { process.send?.({ error: String((err as Error).stack ?? err) }); process.exit(1); });
}
