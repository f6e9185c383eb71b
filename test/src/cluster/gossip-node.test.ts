import { expect } from 'chai';
import { Node } from '../../../src/node.js';
import { silentLogger } from '../../../src/logger.js';
import { GossipNode } from '../../../src/cluster/gossip-node.js';
import { RegistryLocator } from '../../../src/cluster/registry-locator.js';
import { testConfig } from '../../../src/gossip/config.js';
import { IncompatibleProtocolError, NoInstanceError } from '../../../src/errors.js';
import { defineProtocol } from '../../../src/protocol.js';
import { InprocHub } from '../../../transports/inproc/hub.js';
import { InprocTransport } from '../../../transports/inproc/inproc-transport.js';
import { EchoProtocol, echoActor } from '../../fixtures/echo-protocol.js';
import { waitFor } from '../../helpers/wait.js';

// Real timers on a shared CI machine: twice the simulator's test profile, so a busy event loop is not a death.
const config = { ...testConfig(), probeInterval: 120, probeTimeout: 60, suspicionFloor: 800, gossipInterval: 40 };

describe('gossip over a transport, and routing by service name', function () {
  this.timeout(30_000);
  let hub: InprocHub;
  let members: { node: Node; gossip: GossipNode }[] = [];

  async function start(id: string, cluster = 'c1'): Promise<{ node: Node; gossip: GossipNode }> {
    const node = new Node({ nodeId: id, transport: new InprocTransport({ nodeId: id, hub }), logger: silentLogger });
    await node.start();
    const gossip = new GossipNode(node, { roles: ['test'], cluster, config });
    const m = { node, gossip };
    members.push(m);
    await gossip.join([]);
    return m;
  }

  beforeEach(() => { hub = new InprocHub(); members = []; });
  afterEach(async () => {
    for (const m of members) { m.gossip.stop(); await m.node.stop().catch(() => undefined); }
  });

  it('five nodes find each other and each other\'s services with no seeds configured', async () => {
    const ms: { node: Node; gossip: GossipNode }[] = [];
    for (let i = 0; i < 5; i++) ms.push(await start(`n${i}`));
    ms[3]!.node.system.spawn('/echo', echoActor());
    ms[3]!.gossip.advertise('echo', EchoProtocol.version);
    await waitFor(() => ms.every((m) => m.gossip.membership.members({ includeSelf: true }).filter((x) => x.status === 'alive').length === 5), 10_000, 'convergence');
    await waitFor(() => ms.every((m) => m.gossip.registry.lookup('echo').length === 1), 10_000, 'service seen everywhere');
    const locator = new RegistryLocator(ms[0]!.gossip.registry, ms[0]!.node.system);
    expect(await locator.ref(EchoProtocol).ask('echo', { text: 'routed' })).to.deep.equal({ text: 'routed' });
  });

  it('fails at once when no instance serves a service, and refuses another major version', async () => {
    const [a, b] = [await start('a'), await start('b')];
    b.node.system.spawn('/echo', echoActor());
    b.gossip.advertise('echo', '2.0');
    await waitFor(() => a.gossip.registry.lookup('echo').length === 1, 10_000, 'service seen');
    const locator = new RegistryLocator(a.gossip.registry, a.node.system);
    expect(() => locator.ref(EchoProtocol)).to.throw(IncompatibleProtocolError);
    expect(() => locator.ref(defineProtocol('nothing', '1.0', {}))).to.throw(NoInstanceError);
  });

  it('a stopped node is declared failed by the others, and a graceful leave is recorded as left', async () => {
    const ms = [await start('x0'), await start('x1'), await start('x2'), await start('x3')];
    await waitFor(() => ms.every((m) => m.gossip.membership.members({ includeSelf: false }).filter((x) => x.status === 'alive').length === 3), 10_000, 'convergence')
      .catch((e: Error) => { throw new Error(`${e.message}: ${ms.map((m) => `${m.node.id}: ${m.gossip.membership.members().map((x) => `${x.id}=${x.status}`).join(',')}`).join('; ')}`); });
    const failedSeen: string[] = [];
    ms[0]!.gossip.membership.onChange((e) => { if (e.type === 'failed') failedSeen.push(e.member.id); });
    // Crash: no leave message, the transport just goes.
    ms[3]!.gossip.stop();
    await ms[3]!.node.stop();
    await waitFor(() => ms.slice(0, 3).every((m) => m.gossip.membership.member('x3')?.status === 'dead'), 10_000, 'x3 dead everywhere');
    expect(failedSeen).to.include('x3');
    await ms[2]!.gossip.leave();
    await waitFor(() => ms.slice(0, 2).every((m) => m.gossip.membership.member('x2')?.status === 'left'), 10_000, 'x2 left');
  });

  it('two clusters on one hub never merge', async () => {
    const a = await start('p1', 'alpha');
    const b = await start('p2', 'beta');
    await new Promise((r) => setTimeout(r, 500));
    expect(a.gossip.membership.members().map((m) => m.id)).to.not.include('p2');
    expect(b.gossip.membership.members().map((m) => m.id)).to.not.include('p1');
  });
});
