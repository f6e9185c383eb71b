import { expect } from 'chai';
import { ConflictError } from '../../../src/errors.js';
import { JobAbandoned, JobContext, emptyJournal, loadJournal, type JournalData, type UndoAction } from '../../../actors/orchestrator/journal.js';

/** A journal persisted as JSON, as the data service stores it, and a log of what ran. */
function harness(initial: JournalData = emptyJournal()) {
  let saved = JSON.stringify(initial);
  let alive = true;
  const ran: string[] = [];
  const undone: string[] = [];
  const ctx = (): JobContext => new JobContext('job-1', loadJournal(JSON.parse(saved)), async (j) => { saved = JSON.stringify(j); }, () => alive);
  const exec = async (a: UndoAction): Promise<void> => { undone.push(a.args['what']!); };
  const undo = (what: string): UndoAction => ({ op: 'releaseHost', args: { what } });
  return { ctx, exec, undo, ran, undone, saved: () => JSON.parse(saved) as JournalData, kill: () => { alive = false; } };
}

describe('orchestrator journal', () => {
  it('runs each step once: a resumed job gets the recorded results and does only what is left', async () => {
    const h = harness();
    const a = h.ctx();
    expect(await a.step('one', async () => { h.ran.push('one'); return 1; })).to.equal(1);
    expect(await a.step('two', async () => { h.ran.push('two'); return { host: 'h2' }; })).to.deep.equal({ host: 'h2' });
    const b = h.ctx(); // a new incarnation reads the saved journal
    expect(await b.step('one', async () => { h.ran.push('again'); return 9; })).to.equal(1);
    expect(await b.step('two', async () => { h.ran.push('again'); return 9; })).to.deep.equal({ host: 'h2' });
    expect(await b.step('three', async () => { h.ran.push('three'); return 3; })).to.equal(3);
    expect(h.ran).to.deep.equal(['one', 'two', 'three']);
  });

  it('rolls back newest first, forgets the undone steps, and keeps what came before the mark', async () => {
    const h = harness();
    const c = h.ctx();
    await c.step('a', async () => 'a', () => h.undo('a'));
    const mark = c.mark();
    await c.step('b', async () => 'b', () => h.undo('b'));
    await c.step('c', async () => 'c');
    await c.step('d', async () => 'd', () => h.undo('d'));
    await c.rollback(mark, h.exec);
    expect(h.undone).to.deep.equal(['d', 'b']);
    expect(Object.keys(h.saved().steps)).to.deep.equal(['a']);
    expect(h.saved().undo.map((u) => u.step)).to.deep.equal(['a']);
    // The forgotten steps run again if the flow comes back to them.
    expect(await h.ctx().step('b', async () => 'b2')).to.equal('b2');
  });

  it('records a guarded step\'s compensation before running it, so a failed step is still undone', async () => {
    const h = harness();
    const c = h.ctx();
    const err = await c.guarded('start', h.undo('stop'), async () => { throw new Error('timed out'); }).then(() => undefined, (e: Error) => e);
    expect(err?.message).to.equal('timed out');
    expect(h.saved().undo.map((u) => u.step)).to.deep.equal(['start']);
    await h.ctx().rollback({ order: 0, undo: 0 }, h.exec);
    expect(h.undone).to.deep.equal(['stop']);
  });

  it('commits: compensations registered since a mark are dropped for good', async () => {
    const h = harness();
    const c = h.ctx();
    await c.step('x', async () => 1, () => h.undo('x'));
    const m = c.mark();
    await c.step('y', async () => 1, () => h.undo('y'));
    await c.commit(m);
    await c.rollback({ order: 0, undo: 0 }, h.exec);
    expect(h.undone).to.deep.equal(['x']);
  });

  it('keys steps by job, incarnation and name, and abandons a job whose orchestrator stopped', async () => {
    const h = harness({ ...emptyJournal(), gen: 3 });
    const c = h.ctx();
    expect(c.key('a1.start')).to.equal('job-1:3:a1.start');
    h.kill();
    const err = await c.step('s', async () => 1).then(() => undefined, (e: Error) => e);
    expect(err).to.be.instanceOf(JobAbandoned);
  });

  it('abandons when the job has already finished elsewhere (the save is refused)', async () => {
    const c = new JobContext('job-2', emptyJournal(), async () => { throw new ConflictError('finished'); }, () => true);
    const err = await c.step('s', async () => 1).then(() => undefined, (e: Error) => e);
    expect(err).to.be.instanceOf(JobAbandoned);
  });

  it('reads back a missing or foreign progress value as a fresh journal', () => {
    expect(loadJournal(null)).to.deep.equal(emptyJournal());
    expect(loadJournal({ steps: 'x', gen: 'y' })).to.deep.equal(emptyJournal());
  });
});
