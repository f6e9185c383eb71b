import { expect } from 'chai';
import { Node } from '../../../src/node.js';
import { silentLogger } from '../../../src/logger.js';
import { GossipNode } from '../../../src/cluster/gossip-node.js';
import { RegistryLocator } from '../../../src/cluster/registry-locator.js';
import { ServiceClient } from '../../../src/cluster/service-client.js';
import { PeerDownError } from '../../../src/errors.js';
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

  it('a node with 1,200 instances of a keyed service keeps small metadata; others route to each instance (issue 18)', async () => {
    const [a, b] = [await start('a'), await start('b')];
    const keys = Array.from({ length: 1_200 }, (_v, i) => `host-${i}`);
    b.node.system.spawn('/echo', echoActor());
    for (const k of ['host-7', 'host-1199']) b.node.system.spawn(`/echo/${k}`, echoActor());
    b.gossip.advertiseKeys('echo', EchoProtocol.version, keys);
    await Promise.resolve(); // published at the end of this turn
    expect(JSON.stringify(b.gossip.membership.member('b')!.meta).length).to.be.below(300);
    const locator = new RegistryLocator(a.gossip.registry, a.node.system);
    expect(locator.instances('echo')).to.deep.equal([]); // follows the keyed service from now on
    await waitFor(() => a.gossip.registry.lookup('echo/host-1199').length === 1, 10_000, 'keys read from b');
    expect(locator.instances('echo')).to.have.length(1_200);
    expect(await locator.ref(EchoProtocol, 'host-7').ask('echo', { text: 'to host-7' })).to.deep.equal({ text: 'to host-7' });
    expect(await new ServiceClient(a.gossip.registry, a.node.system).ask(EchoProtocol, 'echo', { text: 'x' }, { instance: 'host-1199' }))
      .to.deep.equal({ text: 'x' });
    expect(() => locator.ref(EchoProtocol, 'host-1200')).to.throw(NoInstanceError);
    b.gossip.advertiseKeys('echo', EchoProtocol.version, ['host-1200']);
    await waitFor(() => a.gossip.registry.lookup('echo/host-1200').length === 1 && a.gossip.registry.lookup('echo/host-7').length === 0,
      10_000, 'the new key set read again');
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

  it('routes asks by service name over live instances, and fails idempotent asks over when an instance is lost', async () => {
    const [a, b, c] = [await start('r0'), await start('r1'), await start('r2')];
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    b.node.system.spawn('/echo', echoActor({ slowWith: () => gate }));
    c.node.system.spawn('/echo', echoActor());
    b.gossip.advertise('echo', '1.0');
    c.gossip.advertise('echo', '1.0');
    await waitFor(() => a.gossip.registry.lookup('echo').length === 2, 10_000, 'both instances seen');
    const client = new ServiceClient(a.gossip.registry, a.node.system);
    const served = new Set<string>();
    for (let i = 0; i < 4; i++) {
      await client.ask(EchoProtocol, 'work', { id: `w${i}` });
    }
    for (const n of [b, c]) {
      const st = n.node.system.lookup('/echo')!.ctx.state as { workIds: string[] };
      if (st.workIds.length > 0) served.add(n.node.id);
    }
    expect([...served].sort()).to.deep.equal(['r1', 'r2']); // round-robin used both

    // Now every instance is slow; an ask's instance is lost while it waits there.
    const d = await start('r3');
    const gates = new Map<string, () => void>();
    for (const n of [b, c, d]) {
      await n.node.system.stop('/echo');
      n.node.system.spawn('/echo', echoActor({ slowWith: () => new Promise<void>((r) => gates.set(n.node.id, r)) }));
    }
    d.gossip.advertise('echo', '1.0');
    await waitFor(() => a.gossip.registry.lookup('echo').length === 3, 10_000, 'three instances seen');
    const byId = new Map([b, c, d].map((n) => [n.node.id, n]));
    const busyNode = async (): Promise<string> => {
      let id: string | undefined;
      await waitFor(() => (id = [...byId.keys()].find((k) => a.gossip.registry.inFlight(k) > 0 && gates.has(k))) !== undefined, 5_000, 'ask in flight');
      return id!;
    };
    const plain = client.ask(EchoProtocol, 'slow', { ms: 1 }, { timeoutMs: 10_000 }).catch((e: unknown) => e);
    const x = await busyNode();
    byId.get(x)!.gossip.stop();
    await byId.get(x)!.node.stop();
    byId.delete(x);
    expect(await plain).to.be.instanceOf(PeerDownError); // not idempotent: never retried
    gates.clear();
    const idem = client.ask(EchoProtocol, 'slow', { ms: 1 }, { idempotent: true, timeoutMs: 10_000 });
    const y = await busyNode();
    byId.get(y)!.gossip.stop();
    await byId.get(y)!.node.stop();
    byId.delete(y);
    const z = [...byId.keys()][0]!;
    await waitFor(() => gates.has(z), 5_000, 'retried on the last instance');
    gates.get(z)!();
    expect(await idem).to.equal('done');
    void release;
  });
});
