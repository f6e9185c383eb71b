/**
 * Peer discovery and liveness through the broadcast channel, watched from this process while child
 * nodes come and go: a new node is seen (onPeerUp), a frozen one falls silent (down after the peer
 * timeout), a killed one is found unsubscribed (down quickly), a restarted one is a new instance, and a
 * node that stops says so.
 */
import { expect } from 'chai';
import { silentLogger } from '../../../src/logger.js';
import { Node } from '../../../src/node.js';
import { requireRedis, startRedis, type RedisServer } from '../../helpers/redis-server.js';
import { waitFor } from '../../helpers/wait.js';
import { startChildNode, type ChildNode } from './node-child.js';
import { TEST_TIMERS, testCluster, type TestCluster } from './fixture.js';

describe('redis transport: peer liveness', function () {
  this.timeout(60_000);
  let server: RedisServer | undefined;
  let c: TestCluster;
  let watcher: Node | undefined;
  const children: ChildNode[] = [];
  const events: string[] = [];

  const child = async (): Promise<ChildNode> => {
    const ch = await startChildNode({ url: server!.url, cluster: c.name, secret: c.secret, nodeId: 'c1' });
    children.push(ch);
    return ch;
  };
  const downs = (): string[] => events.filter((e) => e.startsWith('down'));
  const ups = (): number => events.filter((e) => e === 'up').length;

  before(async function () {
    requireRedis(this);
    server = await startRedis();
    c = testCluster(server.url);
    watcher = new Node({ nodeId: 'watcher', transport: c.transport('watcher'), logger: silentLogger });
    watcher.onPeer((id, up, reason) => { if (id === 'c1') events.push(up ? 'up' : `down: ${reason}`); });
    await watcher.start();
  });
  after(async () => {
    for (const ch of children) await ch.stop();
    await watcher?.stop();
    await server?.dispose();
  });

  it('sees nodes arrive, fall silent, die, restart and leave', async () => {
    const first = await child();
    await waitFor(() => ups() === 1, 10_000, 'c1 up');

    first.child.kill('SIGSTOP'); // alive to Redis (still subscribed) but silent
    await waitFor(() => downs().length === 1, 10_000, 'c1 down while frozen');
    expect(downs()[0]).to.contain(`silent for more than ${TEST_TIMERS.peerTimeoutMs} ms`);
    first.child.kill('SIGCONT');
    await waitFor(() => ups() === 2, 10_000, 'c1 up again');

    await first.stop(); // SIGKILL: no goodbye, but its subscription disappears with it
    await waitFor(() => downs().length === 2, 10_000, 'c1 down after SIGKILL');
    expect(downs()[1]).to.contain('nothing subscribed to its channel');

    const second = await child();
    await waitFor(() => ups() === 3, 10_000, 'c1 restarted');
    second.child.kill('SIGSTOP');
    const third = await child(); // a new instance announces itself before the old one is found silent
    await waitFor(() => events.some((e) => e.includes('restarted')), 10_000, 'restart seen');
    await second.stop();

    third.child.disconnect(); // a graceful stop: it says it is leaving
    await waitFor(() => events.at(-1)?.includes('left the cluster') === true, 10_000, 'c1 left');
    expect(watcher!.transport!.peers()).to.deep.equal([]);
  });
});
