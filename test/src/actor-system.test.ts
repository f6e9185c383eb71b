import { expect } from 'chai';
import { ActorSystem } from '../../src/actor-system.js';
import { SimulatedClock } from '../../src/clock.js';
import { DeadLetterError, HandlerError, MailboxFullError, TimeoutError, TooManyPendingError, CodecError } from '../../src/errors.js';
import { silentLogger } from '../../src/logger.js';
import { ask, defineProtocol, tell } from '../../src/protocol.js';
import { t } from '../../src/schema.js';
import type { ActorDefinition, Address } from '../../src/actor-types.js';
import { EchoProtocol, echoActor } from '../fixtures/echo-protocol.js';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

function system(extra: Partial<ConstructorParameters<typeof ActorSystem>[0]> = {}): ActorSystem {
  return new ActorSystem({ nodeId: 'n1', logger: silentLogger, ...extra });
}

describe('ActorSystem', () => {
  it('delivers tells in order and answers asks with the handler result', async () => {
    const sys = system();
    const ref = sys.spawn('/echo', echoActor());
    for (let i = 0; i < 100; i++) ref.tell('record', { seq: i, from: 'a' });
    expect(await ref.ask('echo', { text: 'hi' })).to.deep.equal({ text: 'hi' });
    expect(await ref.ask('count', {})).to.equal(101);
    await sys.shutdown();
  });

  it('handles one message at a time, awaiting async handlers before the next', async () => {
    const P = defineProtocol('seq', '1.0', { step: ask(t.object({ i: t.number() }), t.number()) });
    const log: string[] = [];
    const sys = system();
    const ref = sys.spawn('/s', {
      protocol: P,
      handlers: {
        step: async ({ i }) => { log.push(`start ${i}`); await tick(); log.push(`end ${i}`); return i; },
      },
    });
    await Promise.all([ref.ask('step', { i: 1 }), ref.ask('step', { i: 2 })]);
    expect(log).to.deep.equal(['start 1', 'end 1', 'start 2', 'end 2']);
    await sys.shutdown();
  });

  it('rejects an ask at its deadline with TimeoutError', async () => {
    const clock = new SimulatedClock(1_000);
    const sys = system({ clock });
    const ref = sys.spawn('/echo', echoActor({ slowWith: () => new Promise(() => {}) }));
    const p = ref.ask('slow', { ms: 1 }, { timeoutMs: 100 });
    let settled: unknown;
    p.catch((e) => { settled = e; });
    clock.advance(99);
    await tick();
    expect(settled).to.equal(undefined);
    clock.advance(10);
    await tick();
    expect(settled).to.be.instanceOf(TimeoutError);
    await sys.shutdown();
  });

  it('fails an ask to an actor that does not exist at once with DeadLetterError', async () => {
    const clock = new SimulatedClock();
    const sys = system({ clock });
    const ref = sys.ref('/nobody', EchoProtocol);
    let err: unknown;
    await ref.ask('echo', { text: 'x' }).catch((e) => { err = e; });
    expect(err).to.be.instanceOf(DeadLetterError);
    expect(clock.now()).to.equal(0); // no time had to pass
    ref.tell('record', { seq: 1, from: 'x' });
    expect(sys.recentDeadLetters().map((d) => d.to)).to.deep.equal(['/nobody', '/nobody']);
    await sys.shutdown();
  });

  it('propagates the remaining deadline to nested asks', async () => {
    const clock = new SimulatedClock();
    const P = defineProtocol('outer', '1.0', { go: ask(t.object({}), t.number()) });
    const sys = system({ clock });
    const inner = sys.spawn('/inner', echoActor({ slowWith: () => new Promise(() => {}) }));
    let seenDeadline: number | undefined;
    const outer = sys.spawn('/outer', {
      protocol: P,
      handlers: {
        go: async (_b, ctx) => {
          seenDeadline = ctx.deadline;
          await ctx.ask(inner, 'slow', { ms: 1 }, { timeoutMs: 60_000 }).catch(() => undefined);
          return clock.now();
        },
      },
    });
    const p = outer.ask('go', {}, { timeoutMs: 200 });
    p.catch(() => undefined);
    await tick();
    expect(seenDeadline).to.equal(200);
    clock.advance(205);
    await tick();
    await p.then(() => expect.fail('outer ask must time out'), (e) => expect(e).to.be.instanceOf(TimeoutError));
    expect(sys.pending.count).to.equal(0); // the nested ask expired with the outer one, not 60 s later
    await sys.shutdown();
  });

  it('bounds pending asks', async () => {
    const sys = system({ maxPendingAsks: 2 });
    const ref = sys.spawn('/echo', echoActor({ slowWith: () => new Promise(() => {}) }));
    void ref.ask('slow', { ms: 1 }).catch(() => undefined);
    void ref.ask('slow', { ms: 1 }).catch(() => undefined);
    let err: unknown;
    try { await ref.ask('slow', { ms: 1 }); } catch (e) { err = e; }
    expect(err).to.be.instanceOf(TooManyPendingError);
    await sys.shutdown();
  });

  describe('mailbox overflow policies', () => {
    const P = defineProtocol('block', '1.0', { hold: ask(t.object({ i: t.number() }), t.number()), note: tell(t.object({ i: t.number() })) });
    function blocker(overflow: 'reject' | 'drop-oldest' | 'backpressure', handled: number[], gate: Promise<void>): ActorDefinition<typeof P, null> {
      return {
        protocol: P,
        mailbox: { capacity: 2, overflow, maxWaiting: 1 },
        handlers: {
          hold: async ({ i }) => { await gate; handled.push(i); return i; },
          note: ({ i }) => { handled.push(i); },
        },
      };
    }

    it('reject: the sender gets a retryable MailboxFullError', async () => {
      let open!: () => void;
      const gate = new Promise<void>((r) => { open = r; });
      const handled: number[] = [];
      const sys = system();
      const ref = sys.spawn('/b', blocker('reject', handled, gate));
      const first = ref.ask('hold', { i: 0 });
      await tick(); // 0 is being handled; the mailbox is empty again
      const queued = [ref.ask('hold', { i: 1 }), ref.ask('hold', { i: 2 })];
      let err: unknown;
      await ref.ask('hold', { i: 3 }).catch((e) => { err = e; });
      expect(err).to.be.instanceOf(MailboxFullError);
      expect((err as MailboxFullError).retryable).to.equal(true);
      expect(() => ref.tell('note', { i: 4 })).to.throw(MailboxFullError);
      open();
      expect(await Promise.all([first, ...queued])).to.deep.equal([0, 1, 2]);
      expect(handled).to.deep.equal([0, 1, 2]);
      await sys.shutdown();
    });

    it('drop-oldest: the oldest queued message is dropped and its asker told', async () => {
      let open!: () => void;
      const gate = new Promise<void>((r) => { open = r; });
      const handled: number[] = [];
      const sys = system();
      const ref = sys.spawn('/b', blocker('drop-oldest', handled, gate));
      const first = ref.ask('hold', { i: 0 });
      await tick();
      const r1 = ref.ask('hold', { i: 1 }).catch((e: unknown) => e);
      const r2 = ref.ask('hold', { i: 2 });
      const r3 = ref.ask('hold', { i: 3 });
      expect(await r1).to.be.instanceOf(MailboxFullError);
      open();
      expect(await Promise.all([first, r2, r3])).to.deep.equal([0, 2, 3]);
      expect(handled).to.deep.equal([0, 2, 3]);
      await sys.shutdown();
    });

    it('backpressure: the sender waits for room, and waiting is bounded too', async () => {
      let open!: () => void;
      const gate = new Promise<void>((r) => { open = r; });
      const handled: number[] = [];
      const sys = system();
      const ref = sys.spawn('/b', blocker('backpressure', handled, gate));
      const first = ref.ask('hold', { i: 0 });
      await tick();
      ref.tell('note', { i: 1 });
      ref.tell('note', { i: 2 });
      let admitted = false;
      const waiting = ref.send('note', { i: 3 }).then(() => { admitted = true; });
      await tick();
      expect(admitted).to.equal(false);
      expect(() => ref.tell('note', { i: 4 })).to.throw(MailboxFullError); // maxWaiting = 1
      open();
      await first;
      await waiting;
      expect(admitted).to.equal(true);
      await ref.ask('hold', { i: 5 });
      expect(handled).to.deep.equal([0, 1, 2, 3, 5]);
      await sys.shutdown();
    });
  });

  describe('supervision', () => {
    it('restarts a failed actor with fresh state and keeps serving', async () => {
      const sys = system();
      const ref = sys.spawn('/echo', echoActor(), { supervision: { backoffMinMs: 1 } });
      await ref.ask('echo', { text: 'a' });
      expect(await ref.ask('count', {})).to.equal(1);
      const err = await ref.ask('crash', {}).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(HandlerError);
      expect(await ref.ask('count', {})).to.equal(0);
      expect(sys.stats().actorRestarts).to.equal(1);
      await sys.shutdown();
    });

    it('backs off exponentially and escalates past the restart budget', async () => {
      const clock = new SimulatedClock();
      const P = defineProtocol('parent', '1.0', { spawnChild: ask(t.object({}), t.string()) });
      const sys = system({ clock });
      let parentFailures = 0;
      const parent = sys.spawn('/parent', {
        protocol: P,
        handlers: {
          spawnChild: (_b, ctx) => {
            ctx.spawn('child', echoActor(), { supervision: { maxRestarts: 2, windowMs: 10_000, backoffMinMs: 100, backoffMaxMs: 1_000 } });
            return 'ok';
          },
        },
        restarted: () => { parentFailures++; },
      }, { supervision: { directive: 'restart', backoffMinMs: 1 } });
      await parent.ask('spawnChild', {});
      const child = sys.ref('/parent/child', EchoProtocol);
      child.tell('crashTell', {});
      await tick();
      expect(sys.lookup('/parent/child')?.status).to.equal('suspended');
      clock.advance(99);
      await tick();
      expect(sys.lookup('/parent/child')?.status).to.equal('suspended'); // first backoff is 100 ms
      clock.advance(1);
      await tick(); await tick();
      expect(sys.lookup('/parent/child')?.status).to.equal('running');
      child.tell('crashTell', {});
      await tick();
      clock.advance(199);
      await tick();
      expect(sys.lookup('/parent/child')?.status).to.equal('suspended'); // second backoff is 200 ms
      clock.advance(1);
      await tick(); await tick();
      expect(sys.lookup('/parent/child')?.status).to.equal('running');
      child.tell('crashTell', {}); // third failure within the window: escalates to the parent
      await tick(); await tick();
      expect(sys.lookup('/parent/child')).to.equal(undefined);
      clock.advance(10);
      await tick(); await tick();
      expect(parentFailures).to.equal(1);
      expect(sys.lookup('/parent')?.status).to.equal('running');
      await sys.shutdown();
    });

    it('stop directive stops the failed child', async () => {
      const sys = system();
      const P = defineProtocol('p', '1.0', { go: ask(t.object({}), t.string()) });
      const parent = sys.spawn('/p', {
        protocol: P,
        handlers: { go: (_b, ctx) => { ctx.spawn('c', echoActor(), { supervision: { directive: 'stop' } }); return 'ok'; } },
      });
      await parent.ask('go', {});
      await sys.ref('/p/c', EchoProtocol).ask('crash', {}).catch(() => undefined);
      await tick(); await tick();
      expect(sys.lookup('/p/c')).to.equal(undefined);
      await sys.shutdown();
    });

    it('runs lifecycle hooks: started, stopping, restarted', async () => {
      const events: string[] = [];
      const sys = system();
      const ref = sys.spawn('/h', {
        ...echoActor(),
        started: () => { events.push('started'); },
        stopping: () => { events.push('stopping'); },
        restarted: () => { events.push('restarted'); },
      }, { supervision: { backoffMinMs: 1 } });
      await ref.ask('crash', {}).catch(() => undefined);
      await ref.ask('count', {});
      await sys.stop('/h');
      expect(events).to.deep.equal(['started', 'restarted', 'stopping']);
      await sys.shutdown();
    });
  });

  it('watch delivers terminated when the watched actor stops', async () => {
    const P = defineProtocol('w', '1.0', { watch: ask(t.object({ path: t.string() }), t.string()) });
    const seen: Address[] = [];
    const sys = system();
    const target = sys.spawn('/target', echoActor());
    const watcher = sys.spawn('/watcher', {
      protocol: P,
      handlers: { watch: ({ path }, ctx) => { ctx.watch({ node: 'n1', path }); return 'ok'; } },
      onTerminated: (a) => { seen.push(a); },
    });
    await watcher.ask('watch', { path: '/target' });
    await sys.stop(target.path);
    await tick();
    expect(seen).to.deep.equal([{ node: 'n1', path: '/target' }]);
    await watcher.ask('watch', { path: '/never-existed' });
    await tick();
    expect(seen.length).to.equal(2);
    await sys.shutdown();
  });

  it('fails queued asks with DeadLetterError when the actor stops', async () => {
    const sys = system();
    const ref = sys.spawn('/echo', echoActor({ slowWith: () => new Promise(() => {}) }));
    void ref.ask('slow', { ms: 1 }).catch(() => undefined);
    const queued = ref.ask('echo', { text: 'x' }).catch((e: unknown) => e);
    await tick();
    void sys.stop('/echo');
    expect(await queued).to.be.instanceOf(DeadLetterError);
    await sys.shutdown();
  });

  it('strict mode refuses what cannot travel', async () => {
    const P = defineProtocol('strict', '1.0', { put: tell(t.unknown()), get: ask(t.object({}), t.type<Date>()) });
    const sys = system({ strict: true });
    const ref = sys.spawn('/s', { protocol: P, handlers: { put: () => undefined, get: () => new Date() } });
    expect(() => ref.tell('put', new Date())).to.throw(CodecError);
    expect(() => ref.tell('put', { f: () => 1 })).to.throw(CodecError);
    const err = await ref.ask('get', {}).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(CodecError);
    await sys.shutdown();
  });

  it('refuses bad paths and duplicate spawns with a clear message', () => {
    const sys = system();
    expect(() => sys.spawn('no-slash', echoActor())).to.throw(/must look like/);
    sys.spawn('/a', echoActor());
    expect(() => sys.spawn('/a', echoActor())).to.throw(/already runs/);
    expect(() => sys.spawn('/missing/child', echoActor())).to.throw(/parent/);
    void sys.shutdown();
  });
});
