import { expect } from 'chai';
import { createSeededRandom } from '../../../src/random.js';
import { DataStore, SYSTEM } from '../../../actors/data/store/index.js';
import { exited, lines, spawnFixture, tempDir } from './fixtures.js';
import { sleep } from '../../helpers/wait.js';

const ROUNDS = 20;
/** Reproduce a run with CRASH_SEED=<n>. */
const SEED = Number(process.env.CRASH_SEED ?? 20240501);

interface Ack {
  seq: number;
  vm: string;
}

/** Starts the writer and kills it with SIGKILL at a random point; returns the acknowledged commits. */
async function crashOnce(dir: string, delayMs: number, after: 'spawn' | 'started' | 'ack'): Promise<Ack[]> {
  const child = spawnFixture('crash-writer', [dir]);
  const acks: Ack[] = [];
  let onStarted: () => void = () => {};
  let onAck: () => void = () => {};
  const started = new Promise<void>((resolve) => { onStarted = resolve; });
  const gotAck = new Promise<void>((resolve) => { onAck = resolve; });
  lines(child, (l) => {
    const [kind, seq, vm] = l.split(' ');
    if (kind === 'started') onStarted();
    if (kind === 'ack') {
      acks.push({ seq: Number(seq), vm: vm! });
      onAck();
    }
  });
  const done = exited(child);
  const drained = new Promise((resolve) => child.stdout.once('close', resolve));
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
  try {
    if (after !== 'spawn') await Promise.race([after === 'ack' ? gotAck : started, done]);
    await sleep(delayMs);
    child.kill('SIGKILL');
    const how = await done;
    // Let the readline interface drain what the child wrote before dying.
    await drained;
    if (how !== 'SIGKILL') throw new Error(`the writer exited on its own (${how}) before the kill: ${stderr}`);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  return acks;
}

/** Checks the invariants that a half-applied transaction would break. */
function checkConsistent(store: DataStore, lastAck: Ack | undefined): number {
  expect(store.integrityCheck()).to.equal('ok');
  const one = <T>(sql: string): T => store.ctx.one<T>(sql)!;
  const vms = one<{ n: number }>('SELECT count(*) AS n FROM vm_instance').n;
  if (lastAck !== undefined) {
    const vm = store.vms.get(SYSTEM, lastAck.vm);
    expect(vm.name).to.equal(`crash-${lastAck.seq}`);
    expect(vm.state).to.equal('Running');
  }
  expect(one<{ n: number }>("SELECT count(*) AS n FROM vm_instance WHERE state <> 'Running'").n).to.equal(0);
  expect(one<{ n: number }>('SELECT count(*) AS n FROM nic WHERE ip_address IS NOT NULL').n).to.equal(vms);
  expect(one<{ n: number }>("SELECT count(*) AS n FROM volume WHERE volume_type = 'ROOT'").n).to.equal(vms);
  expect(one<{ n: number }>('SELECT count(*) AS n FROM capacity_reservation').n).to.equal(vms);
  expect(one<{ n: number }>('SELECT count(*) AS n FROM async_job WHERE status = 1').n).to.equal(vms);
  expect(one<{ n: number }>('SELECT count(*) AS n FROM async_job WHERE status <> 1').n).to.equal(0);
  expect(one<{ n: number }>("SELECT count(*) AS n FROM event WHERE type = 'VM.CREATE'").n).to.equal(vms);
  expect(one<{ n: number }>("SELECT count(*) AS n FROM event WHERE type = 'VM.START'").n).to.equal(vms);
  const host = one<{ cpu: number; held: number | null }>(
    'SELECT COALESCE(SUM(cpu_allocated), 0) AS cpu, (SELECT SUM(cpu) FROM capacity_reservation) AS held FROM host');
  expect(host.cpu).to.equal(host.held ?? 0);
  expect(host.cpu).to.equal(vms * 500);
  return vms;
}

describe('data store: crash safety (SIGKILL during writes)', function () {
  this.timeout(90_000);
  let tmp: ReturnType<typeof tempDir>;
  before(() => { tmp = tempDir('csd-crash-'); });
  after(() => tmp.remove());

  it(`survives ${ROUNDS} SIGKILLs at random points with every acknowledged commit intact (seed ${SEED})`, async () => {
    const random = createSeededRandom(SEED);
    let last: Ack | undefined;
    let total = 0;
    for (let round = 0; round < ROUNDS; round++) {
      // The first round may die anywhere from process start (opening, migrating, seeding); the others
      // die while the writer commits: right after it starts, or after its first acknowledged commit.
      const after = round === 0 ? 'spawn' : round % 2 === 0 ? 'started' : 'ack';
      const acks = await crashOnce(tmp.dir, random.int(after === 'spawn' ? 1500 : 60), after);
      total += acks.length;
      if (acks.length > 0) last = acks[acks.length - 1];
      const store = DataStore.open({ dataDir: tmp.dir });
      try {
        const vms = checkConsistent(store, last);
        expect(vms).to.be.at.least(last === undefined ? 0 : last.seq + 1);
      } finally {
        store.close();
      }
    }
    expect(total).to.be.greaterThan(ROUNDS / 2);
  });
});
