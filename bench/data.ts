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
import { DataStore, SYSTEM, type Caller, type ListParams } from '../actors/data/store/index.js';
import { seedLab } from '../actors/data/store/seed.js';
import { createSeededRandom, shuffle, type Random } from '../src/random.js';
import { envInt, line, percentiles, progress, type BenchLine } from './lib.js';

const HOSTS = envInt('DATA_BENCH_HOSTS', 25_000);
const VMS = envInt('DATA_BENCH_VMS', 100_000);
const ACCOUNTS = envInt('DATA_BENCH_ACCOUNTS', 100);
const ZONES = 4;
const PODS_PER_ZONE = 5;
const CLUSTERS_PER_POD = 5;
/** VMs created per transaction while seeding. */
const BATCH = 2000;
/** Timed calls per list case (after WARMUP untimed ones). */
const SAMPLES = envInt('DATA_BENCH_SAMPLES', 200);
const WARMUP = 20;
const RESERVATIONS = envInt('DATA_BENCH_RESERVATIONS', 3000);
/** ShapeBlue's listVirtualMachines average at 25k hosts on CloudStack 4.20 (reference section 8). */
const CLOUDSTACK_LIST_MS = 11_800;

interface World {
  store: DataStore;
  admin: Caller;
  users: Caller[];
  zones: string[];
  vmIds: string[];
  hostIds: string[];
}

function seedHosts(store: DataStore, zones: string[]): string[] {
  const perCluster = Math.ceil(HOSTS / (ZONES * PODS_PER_ZONE * CLUSTERS_PER_POD));
  const hostIds: string[] = [];
  for (const [zi, zoneid] of zones.entries()) {
    store.transaction(() => {
      for (let p = 0; p < PODS_PER_ZONE; p++) {
        const pod = store.zones.createPod({ zoneid, name: `pod-${zi}-${p}`, gateway: `10.${100 + zi}.${p}.1`, netmask: '255.255.255.0' });
        for (let c = 0; c < CLUSTERS_PER_POD; c++) {
          const cluster = store.zones.createCluster({ zoneid, podid: pod.id, clustername: `cl-${zi}-${p}-${c}`, hypervisor: 'Simulator' });
          for (let h = 0; h < perCluster && hostIds.length < HOSTS; h++) {
            hostIds.push(store.hosts.create({ zoneid, podid: pod.id, clusterid: cluster.id, name: `h-${zi}-${p}-${c}-${h}`,
              hypervisor: 'Simulator', cpunumber: 32, cpuspeed: 2400, memory: 256 * 1024 ** 3, state: 'Up' }).id);
          }
        }
      }
    });
    progress(`data: ${hostIds.length} hosts`);
  }
  return hostIds;
}

function seedAccounts(store: DataStore, zones: string[], offering: string): { users: Caller[]; nets: string[] } {
  const users: Caller[] = [];
  const nets: string[] = [];
  store.transaction(() => {
    const domains = Array.from({ length: 10 }, (_, i) => store.domains.create(SYSTEM, { name: `dom-${i}` }).id);
    for (let a = 0; a < ACCOUNTS; a++) {
      const acct = store.accounts.create(SYSTEM, { username: `user-${a}`, password: 'bench', domainid: domains[a % domains.length]! });
      const caller = store.users.callerFor(acct.user[0]!.id);
      users.push(caller);
      nets.push(store.networks.create(caller, { name: `net-${a}`, zoneid: zones[a % zones.length]!, networkofferingid: offering,
        gateway: '10.1.0.1', netmask: '255.255.0.0' }).id);
    }
  });
  return { users, nets };
}

function seed(dir: string): World & { seconds: { hosts: number; vms: number } } {
  const store = DataStore.open({ dataDir: dir });
  const lab = seedLab(store, { hosts: 0 });
  // The bench gives each account ~VMS/ACCOUNTS VMs: the per-account limits are lifted (-1: unlimited).
  for (const name of ['max.account.user.vms', 'max.account.cpus', 'max.account.memory']) store.config.set(name, '-1');
  const admin = store.users.callerFor(lab.adminUserId);
  const zones = [lab.zoneid, ...Array.from({ length: ZONES - 1 }, (_, i) => store.zones.create({ name: `zone-${i + 2}`,
    networktype: 'Advanced', allocationstate: 'Enabled', guestcidraddress: '10.1.0.0/16' }).id)];
  const template = store.templates.register(SYSTEM, { name: 'bench-template', format: 'QCOW2', hypervisor: 'Simulator',
    accountid: lab.adminAccountId, ispublic: true, isready: true, size: 8 * 1024 ** 3 })[0]!.id;
  let t0 = performance.now();
  const hostIds = seedHosts(store, zones);
  const hostSeconds = (performance.now() - t0) / 1000;
  const { users, nets } = seedAccounts(store, zones, lab.networkofferingid);
  t0 = performance.now();
  const vmIds: string[] = [];
  const perAccount = Math.ceil(VMS / ACCOUNTS);
  while (vmIds.length < VMS) {
    store.transaction(() => {
      for (let i = 0; i < BATCH && vmIds.length < VMS; i++) {
        const n = vmIds.length;
        const a = Math.floor(n / perAccount);
        vmIds.push(store.vmOps.create(users[a]!, { zoneid: zones[a % zones.length]!, serviceofferingid: lab.serviceofferings.small,
          templateid: template, networkids: [nets[a]!], name: `vm-a${String(a).padStart(4, '0')}-${n % perAccount}` }).id);
      }
    });
    if (vmIds.length % 10_000 === 0 || vmIds.length === VMS) progress(`data: ${vmIds.length} VMs`);
  }
  const vmSeconds = (performance.now() - t0) / 1000;
  return { store, admin, users, zones, vmIds, hostIds, seconds: { hosts: hostSeconds, vms: vmSeconds } };
}

/** Times `fn` SAMPLES times (after a warm-up) and returns the latency percentiles in ms. */
function time(fn: (random: Random) => unknown, random: Random): { p50: number; p99: number } {
  for (let i = 0; i < WARMUP; i++) fn(random);
  const samples: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const t = performance.now();
    fn(random);
    samples.push(performance.now() - t);
  }
  return percentiles(samples);
}

function listCases(w: World, emit: (l: BenchLine) => void): void {
  const random = createSeededRandom(5);
  const pick = <T>(xs: readonly T[]): T => xs[random.int(xs.length)]!;
  const cases: [string, (r: Random) => unknown][] = [
    ['by-account', () => w.store.vms.list(pick(w.users), { pagesize: 500, page: 1 + random.int(2) })],
    ['by-zone', () => w.store.vms.list(w.admin, { listall: true, zoneid: pick(w.zones), pagesize: 500, page: 1 + random.int(10) })],
    ['by-keyword', () => w.store.vms.list(w.admin, { listall: true, pagesize: 500, page: 1,
      keyword: `a${String(random.int(ACCOUNTS)).padStart(4, '0')}-1` } satisfies ListParams)],
  ];
  for (const [name, fn] of cases) {
    const items = (fn(random) as { items: unknown[]; count: number });
    progress(`data: list ${name}: count ${items.count}, page ${items.items.length}`);
    const p = time(fn, random);
    emit(line(`data.list-vms.${name}.pagesize500.p50`, p.p50, 'ms', 'target: p50 <= 20 ms', 20, { ratio: 1, higherIsBetter: false }));
    emit(line(`data.list-vms.${name}.pagesize500.p99`, p.p99, 'ms', 'CloudStack 4.20 listVirtualMachines avg, 25k hosts', CLOUDSTACK_LIST_MS));
  }
  // Text filters compare case-insensitively (MySQL's collation): an exact name asked in another case,
  // and a state filter, against the raw NOCASE-indexed lookup of the same name.
  const names = w.vmIds.slice(0, 1000).map((id) => w.store.vms.get(w.admin, id).name);
  const byName = time(() => w.store.vms.list(w.admin, { listall: true, name: pick(names).toUpperCase(), pagesize: 500, page: 1 }), random);
  const rawName = w.store.db.prepare('SELECT * FROM vm_instance WHERE name = ? COLLATE NOCASE AND removed IS NULL');
  const rawByName = time(() => rawName.all(pick(names).toUpperCase()), random);
  emit(line('data.list-vms.by-name-any-case.p50', byName.p50, 'ms', 'raw SQLite NOCASE-indexed lookup of the name, p50', rawByName.p50));
  // The seeded VMs' own state (all alike), asked in lower case: every VM matches, a page of 500 is read.
  const state = w.store.vms.get(w.admin, w.vmIds[0]!).state.toLowerCase();
  const byState = time(() => w.store.vms.list(w.admin, { listall: true, state, pagesize: 500, page: 1 + random.int(10) }), random);
  emit(line('data.list-vms.by-state-lowercase.pagesize500.p50', byState.p50, 'ms', 'target: p50 <= 20 ms', 20, { ratio: 1, higherIsBetter: false }));
  const byId = time(() => w.store.vms.get(w.admin, pick(w.vmIds)), random);
  const rawStmt = w.store.db.prepare('SELECT * FROM vm_instance WHERE uuid = ?');
  const raw = time(() => rawStmt.get(pick(w.vmIds)), random);
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
