import { expect } from 'chai';
import { StoppedError, TimeoutError } from '../../src/errors.js';
import type { PingReqBody, Update } from '../../src/gossip/messages.js';
import { makeNode, meta, type Sent, type TestNode } from './harness.js';

/** Starts the node and runs until its first regular probe goes out; returns that ping. */
function firstPing(n: TestNode): Sent & { target: string; seq: number } {
  n.m.start();
  for (let i = 0; i < 100; i++) {
    const ping = n.sent.find((s) => s.env.body.t === 'ping');
    if (ping !== undefined && ping.env.body.t === 'ping') return { ...ping, target: ping.env.body.target, seq: ping.env.body.seq };
    n.clock.advance(10);
  }
  throw new Error('no probe was sent');
}

const pingReqs = (n: TestNode): { helper: string; body: PingReqBody }[] =>
  n.sent.flatMap((s) => (s.env.body.t === 'ping-req' ? [{ helper: s.to.node!, body: s.env.body }] : []));
/** Advances `ms` in 10 ms steps, acking every ping the node sends except those to `silent`. */
function runAcking(n: TestNode, ms: number, silent: string): void {
  for (let t = 0; t < ms; t += 10) {
    const pings = n.sent.filter((s) => s.env.body.t === 'ping' && s.to.node !== silent);
    n.sent.length = 0;
    for (const s of pings) if (s.env.body.t === 'ping') n.receive(s.to.node!, { t: 'ack', seq: s.env.body.seq });
    n.clock.advance(10);
  }
}

const types = (n: TestNode) => n.events.map((e) => `${e.type} ${e.member.id}`);
const has = (updates: readonly Update[], t: Update['t'], node: string) => updates.some((u) => u.t === t && u.node === node);

describe('gossip/membership: probing (SWIM + Lifeguard)', () => {
  it('a failed probe (no ack, helpers nack) suspects the target and tells it directly', () => {
    const n = makeNode(['b', 'c', 'd']);
    const ping = firstPing(n);
    const cfg = n.m.config;
    n.clock.advance(cfg.probeTimeout);
    const reqs = pingReqs(n);
    expect(reqs.map((r) => r.helper).sort()).to.deep.equal(['b', 'c', 'd'].filter((x) => x !== ping.target).sort());
    for (const r of reqs) n.receive(r.helper, { t: 'nack', seq: r.body.seq });
    n.clock.advance(cfg.probeInterval - cfg.probeTimeout);
    expect(n.m.member(ping.target)?.status).to.equal('suspect');
    expect(n.m.healthScore).to.equal(0);
    expect(n.sentTo(ping.target, 'gossip').some((s) => has(s.env.updates, 'suspect', ping.target))).to.equal(true);
  });

  it('an indirect ack saves the target', () => {
    const n = makeNode(['b', 'c', 'd']);
    const ping = firstPing(n);
    n.clock.advance(n.m.config.probeTimeout);
    const [req] = pingReqs(n);
    n.receive(req!.helper, { t: 'ack', seq: req!.body.seq });
    n.clock.advance(n.m.config.probeInterval);
    expect(n.m.member(ping.target)?.status).to.equal('alive');
  });

  it('relays a ping-req: pings the target, forwards its ack, or nacks on timeout', () => {
    const n = makeNode(['b', 'c']);
    n.receive('b', { t: 'ping-req', seq: 5, target: 'c', epoch: 1, addr: [], nack: true });
    const [relayed] = n.sentTo('c', 'ping');
    const seq = relayed!.env.body.t === 'ping' ? relayed!.env.body.seq : -1;
    n.receive('c', { t: 'ack', seq });
    expect(n.sentTo('b', 'ack').map((s) => s.env.body)).to.deep.equal([{ t: 'ack', seq: 5 }]);
    n.receive('b', { t: 'ping-req', seq: 6, target: 'c', epoch: 1, addr: [], nack: true });
    n.clock.advance(n.m.config.probeTimeout);
    expect(n.sentTo('b', 'nack').map((s) => s.env.body)).to.deep.equal([{ t: 'nack', seq: 6 }]);
  });

  it('local health: missing nacks raise the score (this node is the slow one); successes lower it', () => {
    const n = makeNode(['b', 'c', 'd']);
    firstPing(n);
    n.clock.advance(n.m.config.probeInterval);
    expect(n.m.healthScore).to.equal(2);
    const seen: number[] = [];
    for (let i = 0; i < 20; i++) {
      runAcking(n, n.m.config.probeInterval, '');
      if (seen[seen.length - 1] !== n.m.healthScore) seen.push(n.m.healthScore);
    }
    expect(seen).to.deep.equal([1, 0]);
  });

  it('suspect → dead: the window expires and the verification probe fails', () => {
    const n = makeNode(['b', 'c', 'd']);
    const ping = firstPing(n);
    n.clock.advance(n.m.config.probeInterval);
    expect(n.m.member(ping.target)?.status).to.equal('suspect');
    runAcking(n, 15_000, ping.target);
    expect(n.m.member(ping.target)?.status).to.equal('dead');
    expect(types(n).filter((t) => t.endsWith(ping.target))).to.deep.equal([`suspected ${ping.target}`, `failed ${ping.target}`]);
    expect(n.m.stats().deathsDeclared).to.equal(1);
  });

  it('dogpile: independent confirmations bring the verdict forward', () => {
    const run = (confirm: boolean): number => {
      const n = makeNode(['b', 'c', 'd', 'e']);
      const ping = firstPing(n);
      n.clock.advance(n.m.config.probeInterval);
      const t0 = n.clock.now();
      if (confirm) {
        for (const from of ['b', 'c', 'd', 'e'].filter((x) => x !== ping.target)) {
          n.receive(from, { t: 'gossip' }, [{ t: 'suspect', node: ping.target, epoch: 1, inc: 0, from }]);
        }
      }
      n.clock.runUntil(t0 + 30_000);
      const failed = n.events.find((e) => e.type === 'failed');
      return (failed?.member.since ?? Infinity) - t0;
    };
    const alone = run(false);
    const confirmed = run(true);
    expect(confirmed).to.be.lessThan(alone);
    expect(alone).to.be.lessThan(30_000);
  });

  it('verification: a suspect that answers the final probe is not declared dead, and is told it is suspected', () => {
    const n = makeNode(['b', 'c', 'd']);
    const ping = firstPing(n);
    n.clock.advance(n.m.config.probeInterval);
    n.clear();
    // Answer every ping to the suspect from now on.
    for (let t = 0; t < 20_000; t += 10) {
      for (const s of n.sentTo(ping.target, 'ping')) {
        if (s.env.body.t !== 'ping') continue;
        expect(has(s.env.updates, 'suspect', ping.target), 'buddy rule').to.equal(true);
        n.receive(ping.target, { t: 'ack', seq: s.env.body.seq });
      }
      n.sent.length = 0;
      n.clock.advance(10);
    }
    expect(n.m.member(ping.target)?.status).to.equal('suspect');
    expect(types(n)).to.not.include(`failed ${ping.target}`);
  });

  it('stall guard: a probe whose timers fire late is dropped without accusing anyone', () => {
    const n = makeNode(['b', 'c', 'd'], {}, 'a', 1, true);
    firstPing(n);
    n.stall!(2000);
    expect(n.m.members().filter((m) => m.status !== 'alive')).to.deep.equal([]);
    expect(n.m.stats().stalledRounds).to.be.greaterThan(0);
    expect(n.m.stats().suspicionsRaised).to.equal(0);
  });

  it('peerConnectionLost probes the member at once', () => {
    const n = makeNode(['b', 'c', 'd']);
    n.m.start();
    n.clear();
    n.m.peerConnectionLost('c');
    expect(n.sentTo('c', 'ping')).to.have.length(1);
    n.m.peerConnectionLost('c');
    expect(n.sentTo('c', 'ping')).to.have.length(1);
  });

  it('join: contacts the seeds by address and resolves when one answers', async () => {
    const n = makeNode([]);
    const joined = n.m.join(['sim://seed']);
    const [req] = n.sent.filter((s) => s.env.body.t === 'push-pull');
    expect(req?.to).to.deep.equal({ node: null, addresses: ['sim://seed'] });
    n.receive('s', { t: 'push-pull', join: true, reply: true, members: [{ node: 's', epoch: 1, inc: 0, status: 'alive', meta: meta('s') }] });
    expect(await joined).to.equal(2);
  });

  it('join: retries while alone and rejects after joinTimeout; stop() rejects a pending join', async () => {
    const n = makeNode([], { joinTimeout: 3000, joinRetryInterval: 1000 });
    const joined = n.m.join(['sim://nobody']);
    n.clock.advance(3000);
    expect(n.sent.filter((s) => s.env.body.t === 'push-pull').length).to.be.greaterThan(2);
    const err = await joined.catch((e: unknown) => e);
    expect(err).to.be.instanceOf(TimeoutError);
    const n2 = makeNode([]);
    const p2 = n2.m.join(['sim://nobody']).catch((e: unknown) => e);
    n2.m.stop();
    expect(await p2).to.be.instanceOf(StoppedError);
  });

  it('leave: tells peers it left, stops probing, and stops after the drain time', async () => {
    const n = makeNode(['b', 'c']);
    n.m.start();
    n.clock.advance(1000);
    n.clear();
    const done = n.m.leave();
    expect(n.m.self.status).to.equal('left');
    const told = n.sent.filter((s) => has(s.env.updates, 'left', 'a')).map((s) => s.to.node);
    expect(told.length).to.be.greaterThan(0);
    n.clear();
    n.clock.advance(n.m.config.leaveDrainTime);
    await done;
    n.clear();
    n.clock.advance(10_000);
    expect(n.sent).to.deep.equal([]);
  });
});
