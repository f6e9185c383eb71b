import { expect } from 'chai';
import { ResourceUnavailableError } from '../../../src/errors.js';
import { KeyedSerializer } from '../../../src/keyed-serializer.js';
import { Semaphore } from '../../../actors/orchestrator/serializer.js';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('orchestrator serialisation', () => {
  it('runs one task per key at a time, in order, and different keys concurrently', async () => {
    const s = new KeyedSerializer();
    const log: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const a1 = s.run('vm-a', async () => { log.push('a1 start'); await gate; log.push('a1 end'); });
    const a2 = s.run('vm-a', async () => { log.push('a2'); });
    const b1 = s.run('vm-b', async () => { log.push('b1'); });
    await b1;
    await tick();
    expect(log).to.deep.equal(['a1 start', 'b1']);
    release();
    await Promise.all([a1, a2]);
    expect(log).to.deep.equal(['a1 start', 'b1', 'a1 end', 'a2']);
    expect(s.busyKeys).to.equal(0);
  });

  it('goes on with a key after a task of it failed', async () => {
    const s = new KeyedSerializer();
    const failed = s.run('k', async () => { throw new Error('boom'); });
    const next = s.run('k', async () => 'next');
    await failed.then(() => undefined, () => undefined);
    expect(await next).to.equal('next');
  });

  it('bounds running tasks and refuses more waiters than allowed', async () => {
    const sem = new Semaphore(2, 1);
    let running = 0;
    let peak = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const task = async (): Promise<void> => { running++; peak = Math.max(peak, running); await gate; running--; };
    const first = [sem.run(task), sem.run(task), sem.run(task)];
    await tick();
    const refused = await sem.run(task).then(() => undefined, (e: Error) => e);
    expect(refused).to.be.instanceOf(ResourceUnavailableError);
    release();
    await Promise.all(first);
    expect(peak).to.equal(2);
    expect(sem.load).to.equal(0);
  });
});
