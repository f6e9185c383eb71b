import { expect } from 'chai';
import { ClusterSimulator } from '../../src/gossip/simulator.js';
import type { MembershipEvent } from '../../src/gossip/member-table.js';

/** Events seen by every node, as "observer type member". */
function record(sim: ClusterSimulator): { events: string[]; of: (type: MembershipEvent['type'], member: string) => string[] } {
  const events: string[] = [];
  sim.onEvent((obs, e) => events.push(`${obs} ${e.type} ${e.member.id}`));
  return { events, of: (type, member) => events.filter((l) => l.endsWith(` ${type} ${member}`)).map((l) => l.split(' ')[0]!) };
}

function ids(sim: ClusterSimulator, except: string[] = []): string[] {
  return sim.up().map((n) => n.id).filter((id) => !except.includes(id));
}

describe('gossip/simulator: cluster scenarios', () => {
  it('join: 20 nodes find each other through one seed', () => {
    const sim = new ClusterSimulator({ seed: 1 });
    sim.addCluster(20);
    expect(sim.runUntil(() => sim.converged(), 10_000)).to.equal(true);
  });

  it('crash: every member declares the crashed node dead, and nobody else', () => {
    const sim = new ClusterSimulator({ seed: 2 });
    const nodes = sim.addCluster(30, { converged: true });
    const log = record(sim);
    sim.run(2000);
    sim.crash(nodes[7]!.id);
    const others = ids(sim);
    expect(sim.runUntil(() => others.every((o) => sim.view(o, nodes[7]!.id) === 'dead'), 10_000)).to.equal(true);
    expect(log.events.filter((l) => l.includes(' failed ') && !l.endsWith(nodes[7]!.id))).to.deep.equal([]);
    expect(sim.converged(others)).to.equal(true);
  });

  it('graceful leave is recorded as "left" everywhere, never as failed', async () => {
    const sim = new ClusterSimulator({ seed: 3 });
    const nodes = sim.addCluster(10, { converged: true });
    const log = record(sim);
    sim.run(1000);
    const leaving = sim.leave(nodes[4]!.id);
    sim.run(5000);
    await leaving;
    expect(log.of('left', nodes[4]!.id).sort()).to.deep.equal(ids(sim, [nodes[4]!.id]).sort());
    expect(log.of('failed', nodes[4]!.id)).to.deep.equal([]);
  });

  it('partition and heal: each side declares the other dead, then they merge again', () => {
    const sim = new ClusterSimulator({ seed: 4 });
    const nodes = sim.addCluster(10, { converged: true });
    sim.run(1000);
    const a = nodes.slice(0, 5).map((n) => n.id);
    const b = nodes.slice(5).map((n) => n.id);
    const heal = sim.network.partition(a, b);
    const split = (): boolean => a.every((x) => b.every((y) => sim.view(x, y) === 'dead' && sim.view(y, x) === 'dead'));
    expect(sim.runUntil(split, 15_000)).to.equal(true);
    expect(sim.converged(a) && sim.converged(b)).to.equal(true);
    heal();
    expect(sim.runUntil(() => sim.converged(), 60_000, 200)).to.equal(true);
  });

  it('one-way partition: a node that can hear but not speak is declared dead, and comes back after healing', () => {
    const sim = new ClusterSimulator({ seed: 5 });
    const nodes = sim.addCluster(8, { converged: true });
    sim.run(1000);
    const mute = nodes[2]!.id;
    const rest = ids(sim, [mute]);
    const heal = sim.network.partition([mute], rest, { oneWay: true });
    expect(sim.runUntil(() => rest.every((o) => sim.view(o, mute) === 'dead'), 15_000)).to.equal(true);
    expect(sim.converged(rest)).to.equal(true);
    heal();
    expect(sim.runUntil(() => sim.converged(), 60_000, 200)).to.equal(true);
  });

  it('restart with a new epoch supersedes the dead incarnation', () => {
    const sim = new ClusterSimulator({ seed: 6 });
    const nodes = sim.addCluster(10, { converged: true });
    const log = record(sim);
    sim.run(1000);
    const victim = nodes[3]!.id;
    sim.crash(victim);
    const others = ids(sim);
    expect(sim.runUntil(() => others.every((o) => sim.view(o, victim) === 'dead'), 10_000)).to.equal(true);
    sim.start(victim, [nodes[0]!.address]);
    expect(sim.node(victim).epoch).to.equal(2);
    expect(sim.runUntil(() => sim.converged(), 10_000)).to.equal(true);
    expect(log.of('restarted', victim).sort()).to.deep.equal(others.sort());
  });

  it('restart before anyone noticed the crash: the new epoch takes over at once, with no death', () => {
    const sim = new ClusterSimulator({ seed: 7 });
    const nodes = sim.addCluster(10, { converged: true });
    const log = record(sim);
    sim.run(1000);
    const victim = nodes[5]!.id;
    sim.restart(victim, [nodes[0]!.address]);
    expect(sim.runUntil(() => sim.converged(), 10_000)).to.equal(true);
    expect(log.of('failed', victim)).to.deep.equal([]);
    for (const o of ids(sim, [victim])) expect(sim.node(o).membership.member(victim)?.epoch).to.equal(2);
  });

  it('a broken link is bridged by indirect probes: nobody is suspected', () => {
    const sim = new ClusterSimulator({ seed: 10 });
    const nodes = sim.addCluster(8, { converged: true });
    const log = record(sim);
    const [a, b] = [nodes[0]!.id, nodes[1]!.id];
    sim.network.setLinkLoss(a, b, 1);
    sim.network.setLinkDelay(b, a, { min: 40, max: 60 });
    sim.run(30_000);
    expect(log.events.filter((l) => l.includes(' suspected '))).to.deep.equal([]);
    expect(sim.node(a).membership.stats().indirectRequests).to.be.greaterThan(0);
  });

  it('two clusters on one network never merge, even when one is given the other\'s seed', () => {
    const sim = new ClusterSimulator({ seed: 8 });
    const alpha = Array.from({ length: 4 }, () => sim.addNode({ cluster: 'alpha' }));
    const beta = Array.from({ length: 4 }, () => sim.addNode({ cluster: 'beta' }));
    sim.start(alpha[0]!.id);
    for (const n of alpha.slice(1)) sim.start(n.id, [alpha[0]!.address]);
    sim.start(beta[0]!.id);
    for (const n of beta.slice(1)) sim.start(n.id, [beta[0]!.address, alpha[1]!.address]);
    sim.run(20_000);
    expect(sim.converged(alpha.map((n) => n.id))).to.equal(true);
    expect(sim.converged(beta.map((n) => n.id))).to.equal(true);
    expect(alpha[1]!.membership.stats().droppedForeignCluster).to.be.greaterThan(0);
  });

  it('a node pausing 2 s again and again is never declared dead, and accuses nobody', () => {
    const sim = new ClusterSimulator({ seed: 9 });
    const nodes = sim.addCluster(12, { converged: true });
    const log = record(sim);
    const staller = nodes[1]!.id;
    sim.clock.setInterval(() => sim.pause(staller, 2000), 10_000);
    sim.run(120_000);
    expect(log.events.filter((l) => l.includes(' failed '))).to.deep.equal([]);
    expect(log.of('suspected', staller).length).to.be.greaterThan(0);
    expect(log.events.filter((l) => l.startsWith(`${staller} suspected`))).to.deep.equal([]);
    sim.run(3000);
    expect(sim.converged()).to.equal(true);
  });

  it('is deterministic: the same seed gives the same trace, another seed another one', () => {
    const scenario = (seed: number): string[] => {
      const sim = new ClusterSimulator({ seed, loss: 0.05 });
      const nodes = sim.addCluster(12);
      sim.run(5000);
      sim.crash(nodes[3]!.id);
      sim.pause(nodes[4]!.id, 1500);
      const heal = sim.network.partition([nodes[5]!.id], ids(sim, [nodes[5]!.id]));
      sim.run(6000);
      heal();
      sim.start(nodes[3]!.id, [nodes[0]!.address]);
      sim.run(10_000);
      return sim.trace;
    };
    const first = scenario(42);
    expect(first.length).to.be.greaterThan(100);
    expect(scenario(42)).to.deep.equal(first);
    expect(scenario(43)).to.not.deep.equal(first);
  });
});
