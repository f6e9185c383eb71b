/**
 * Gossip over the Redis transport: no seeds at all — nodes discover each other through the cluster's
 * broadcast channel and the membership protocol takes it from there.
 */
import { expect } from 'chai';
import { Node } from '../../../src/node.js';
import { silentLogger } from '../../../src/logger.js';
import { GossipNode } from '../../../src/cluster/gossip-node.js';
import { testConfig } from '../../../src/gossip/config.js';
import { requireRedis, startRedis, type RedisServer } from '../../helpers/redis-server.js';
import { waitFor } from '../../helpers/wait.js';
import { testCluster } from './fixture.js';

const config = { ...testConfig(), probeInterval: 120, probeTimeout: 60, suspicionFloor: 800, gossipInterval: 40 };

describe('gossip membership over redis (no seeds)', function () {
  this.timeout(60_000);
  let redis: RedisServer;
  const running: { node: Node; gossip: GossipNode }[] = [];

  before(async function () {
    requireRedis(this);
    redis = await startRedis();
  });
  after(async () => {
    for (const m of running) { m.gossip.stop(); await m.node.stop().catch(() => undefined); }
    await redis?.dispose();
  });

  it('three nodes find each other from the broadcast channel and see a crash as a failure', async () => {
    const cluster = testCluster(redis.url);
    for (const id of ['a', 'b', 'c']) {
      const node = new Node({ nodeId: id, transport: cluster.transport(id), logger: silentLogger });
      await node.start();
      const gossip = new GossipNode(node, { roles: ['test'], cluster: cluster.name, config });
      await gossip.join([]);
      running.push({ node, gossip });
    }
    const alive = (m: { gossip: GossipNode }): number => m.gossip.membership.members({ includeSelf: false }).filter((x) => x.status === 'alive').length;
    await waitFor(() => running.every((m) => alive(m) === 2), 20_000, 'every node sees the two others');
    const victim = running.pop()!;
    victim.gossip.stop();
    await victim.node.stop();
    await waitFor(() => running.every((m) => ['dead', 'left'].includes(m.gossip.membership.member('c')?.status ?? '')), 20_000, 'c gone everywhere');
    expect(running.map((m) => alive(m))).to.deep.equal([1, 1]);
  });
});
