/**
 * Data store benchmark (issue 5 section 6): seeds 25,000 hosts and 100,000 VMs (each with a NIC and a
 * ROOT volume) through the store's own commands into a file database (WAL, synchronous=FULL), then
 * measures paged VM lists (pagesize 500) filtered by account, by zone and by keyword (p50/p99), one VM
 * by id, host capacity reservation throughput, and the seeding time.
 * Runnable alone: `npx tsx bench/data.ts`. Sizes: DATA_BENCH_HOSTS, DATA_BENCH_VMS, DATA_BENCH_ACCOUNTS.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DataStore } from '../actors/data/store/index.js';
import { createSeededRandom, shuffle } from '../src/random.js';
import { seedWorld, time, timeListCases, type Seeded, type World } from './store-world.js';
import { envInt, line, progress, type BenchLine } from './lib.js';

const HOSTS = envInt('DATA_BENCH_HOSTS', 25_000);
const VMS = envInt('DATA_BENCH_VMS', 100_000);
const ACCOUNTS = envInt('DATA_BENCH_ACCOUNTS', 100);
/** Timed calls per list case (after a warm-up). */
const SAMPLES = envInt('DATA_BENCH_SAMPLES', 200);
const RESERVATIONS = envInt('DATA_BENCH_RESERVATIONS', 3000);
/** ShapeBlue's listVirtualMachines average at 25k hosts on CloudStack 4.20 (reference section 8). */
const CLOUDSTACK_LIST_MS = 11_800;

function seed(dir: string): Seeded {
  return seedWorld(DataStore.open({ dataDir: dir }), { hosts: HOSTS, vms: VMS, accounts: ACCOUNTS });
}

function listCases(w: World, emit: (l: BenchLine) => void): void {
  const random = createSeededRandom(5);
  const pick = <T>(xs: readonly T[]): T => xs[random.int(xs.length)]!;
  for (const [name, p] of timeListCases(w, 'data', SAMPLES)) {
    emit(line(`data.list-vms.${name}.pagesize500.p50`, p.p50, 'ms', 'target: p50 <= 20 ms', 20, { ratio: 1, higherIsBetter: false }));
    emit(line(`data.list-vms.${name}.pagesize500.p99`, p.p99, 'ms', 'CloudStack 4.20 listVirtualMachines avg, 25k hosts', CLOUDSTACK_LIST_MS));
  }
  // Text filters compare case-insensitively (MySQL's collation): an exact name asked in another case,
  // and a state filter, against the raw NOCASE-indexed lookup of the same name.
  const names = w.vmIds.slice(0, 1000).map((id) => w.store.vms.get(w.admin, id).name);
  const byName = time(() => w.store.vms.list(w.admin, { listall: true, name: pick(names).toUpperCase(), pagesize: 500, page: 1 }), random, SAMPLES);
  const rawName = w.store.db.prepare('SELECT * FROM vm_instance WHERE name = ? COLLATE NOCASE AND removed IS NULL');
  const rawByName = time(() => rawName.all(pick(names).toUpperCase()), random, SAMPLES);
  emit(line('data.list-vms.by-name-any-case.p50', byName.p50, 'ms', 'raw SQLite NOCASE-indexed lookup of the name, p50', rawByName.p50));
  // The seeded VMs' own state (all alike), asked in lower case: every VM matches, a page of 500 is read.
  const state = w.store.vms.get(w.admin, w.vmIds[0]!).state.toLowerCase();
  const byState = time(() => w.store.vms.list(w.admin, { listall: true, state, pagesize: 500, page: 1 + random.int(10) }), random, SAMPLES);
  emit(line('data.list-vms.by-state-lowercase.pagesize500.p50', byState.p50, 'ms', 'target: p50 <= 20 ms', 20, { ratio: 1, higherIsBetter: false }));
  const byId = time(() => w.store.vms.get(w.admin, pick(w.vmIds)), random, SAMPLES);
  const rawStmt = w.store.db.prepare('SELECT * FROM vm_instance WHERE uuid = ?');
  const raw = time(() => rawStmt.get(pick(w.vmIds)), random, SAMPLES);
  emit(line('data.get-vm-by-id.p50', byId.p50, 'ms', 'raw SQLite row lookup by uuid, p50', raw.p50));
  emit(line('data.get-vm-by-id.p99', byId.p99, 'ms', 'raw SQLite row lookup by uuid, p99', raw.p99));
}

/**
 * Host capacity reservations for distinct VMs on random hosts, each its own IMMEDIATE transaction with
 * synchronous=FULL (as the orchestrator makes them), then their releases.
 */
function reservationCase(w: World, emit: (l: BenchLine) => void): void {
  const random = createSeededRandom(9);
  const vms = shuffle([...w.vmIds], random).slice(0, RESERVATIONS);
  const hosts = vms.map(() => w.hostIds[random.int(w.hostIds.length)]!);
  let t = performance.now();
  vms.forEach((vm, i) => w.store.allocation.reserveHost(vm, hosts[i]!));
  const reserveRate = vms.length / ((performance.now() - t) / 1000);
  t = performance.now();
  for (const vm of vms) w.store.allocation.releaseHost(vm);
  const releaseRate = vms.length / ((performance.now() - t) / 1000);
  // Baseline: the same number of bare compare-and-add UPDATEs on host rows, one transaction each.
  const stmt = w.store.db.prepare('UPDATE host SET cpu_allocated = cpu_allocated + 1 WHERE uuid = ? AND cpu_allocated + 1 <= cpu_cores * cpu_speed');
  const undo = w.store.db.prepare('UPDATE host SET cpu_allocated = cpu_allocated - 1 WHERE uuid = ?');
  const tx = w.store.db.transaction((h: string) => stmt.run(h)).immediate;
  t = performance.now();
  for (const host of hosts) tx(host);
  const rawRate = hosts.length / ((performance.now() - t) / 1000);
  w.store.db.transaction(() => { for (const host of hosts) undo.run(host); })();
  emit(line('data.capacity-reservation.reserve.throughput', reserveRate, 'ops/s', 'bare SQLite CAS UPDATE, one txn each (FULL sync)', rawRate));
  emit(line('data.capacity-reservation.release.throughput', releaseRate, 'ops/s', 'bare SQLite CAS UPDATE, one txn each (FULL sync)', rawRate));
}

export async function runDataBench(emit: (line: BenchLine) => void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'csd-data-bench-'));
  try {
    progress(`data: seeding ${HOSTS} hosts, ${ACCOUNTS} accounts and ${VMS} VMs into ${dir}`);
    const w = seed(dir);
    emit(line('data.seed.hosts', w.seconds.hosts, 's', `${HOSTS} hosts through the store (no published baseline)`, NaN));
    emit(line('data.seed.vms', w.seconds.vms, 's', `${VMS} VMs + NICs + volumes + events (no published baseline)`, NaN));
    emit(line('data.seed.vms.rate', VMS / w.seconds.vms, 'VM/s', 'issue 7 deploy target 200 VM/s', 200, { ratio: 1, higherIsBetter: true }));
    w.store.db.pragma('optimize');
    listCases(w, emit);
    reservationCase(w, emit);
    w.store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runDataBench((l) => console.log(JSON.stringify(l)));
}
