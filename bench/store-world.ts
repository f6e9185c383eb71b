/**
 * The data store world of bench/data.ts (zones, pods, clusters, hosts, accounts with a network each, and
 * VMs with a NIC and a ROOT volume, seeded through the store's own commands) and its timed VM list
 * cases, shared with bench/postgres.ts: the same world, seeded into a SQLite file and copied to
 * PostgreSQL, is measured on both with the same calls.
 */
import { DataStore, SYSTEM, type Caller, type ListParams } from '../actors/data/store/index.js';
import { seedLab } from '../actors/data/store/seed.js';
import { createSeededRandom, type Random } from '../src/random.js';
import { percentiles, progress } from './lib.js';

export interface WorldSizes {
  hosts: number;
  vms: number;
  accounts: number;
}

const ZONES = 4;
const PODS_PER_ZONE = 5;
const CLUSTERS_PER_POD = 5;
/** VMs created per transaction while seeding. */
const BATCH = 2000;
/** Untimed calls before each timed case (statement caches, page cache). */
const WARMUP = 20;

/** What the cases need; every id is a uuid, so a copy of the database (same uuids) can be opened with rebind(). */
export interface World {
  store: DataStore;
  admin: Caller;
  users: Caller[];
  zones: string[];
  vmIds: string[];
  hostIds: string[];
  adminUserId: string;
  userIds: string[];
  accounts: number;
}

export interface Seeded extends World {
  seconds: { hosts: number; vms: number };
}

function seedHosts(store: DataStore, zones: string[], hosts: number): string[] {
  const perCluster = Math.ceil(hosts / (ZONES * PODS_PER_ZONE * CLUSTERS_PER_POD));
  const hostIds: string[] = [];
  for (const [zi, zoneid] of zones.entries()) {
    store.transaction(() => {
      for (let p = 0; p < PODS_PER_ZONE; p++) {
        const pod = store.zones.createPod({ zoneid, name: `pod-${zi}-${p}`, gateway: `10.${100 + zi}.${p}.1`, netmask: '255.255.255.0' });
        for (let c = 0; c < CLUSTERS_PER_POD; c++) {
          const cluster = store.zones.createCluster({ zoneid, podid: pod.id, clustername: `cl-${zi}-${p}-${c}`, hypervisor: 'Simulator' });
          for (let h = 0; h < perCluster && hostIds.length < hosts; h++) {
            hostIds.push(store.hosts.create({ zoneid, podid: pod.id, clusterid: cluster.id, name: `h-${zi}-${p}-${c}-${h}`,
              hypervisor: 'Simulator', cpunumber: 32, cpuspeed: 2400, memory: 256 * 1024 ** 3, state: 'Up' }).id);
          }
        }
      }
    });
    progress(`store world: ${hostIds.length} hosts`);
  }
  return hostIds;
}

function seedAccounts(store: DataStore, zones: string[], offering: string, accounts: number): { userIds: string[]; nets: string[] } {
  const userIds: string[] = [];
  const nets: string[] = [];
  store.transaction(() => {
    const domains = Array.from({ length: 10 }, (_, i) => store.domains.create(SYSTEM, { name: `dom-${i}` }).id);
    for (let a = 0; a < accounts; a++) {
      const acct = store.accounts.create(SYSTEM, { username: `user-${a}`, password: 'bench', domainid: domains[a % domains.length]! });
      const userId = acct.user[0]!.id;
      userIds.push(userId);
      nets.push(store.networks.create(store.users.callerFor(userId), { name: `net-${a}`, zoneid: zones[a % zones.length]!, networkofferingid: offering,
        gateway: '10.1.0.1', netmask: '255.255.0.0' }).id);
    }
  });
  return { userIds, nets };
}

/** Seeds the world into `store` (a fresh, empty one) through the store's commands, timing hosts and VMs. */
export function seedWorld(store: DataStore, sizes: WorldSizes): Seeded {
  const lab = seedLab(store, { hosts: 0 });
  // The bench gives each account ~VMS/ACCOUNTS VMs: the per-account limits are lifted (-1: unlimited).
  for (const name of ['max.account.user.vms', 'max.account.cpus', 'max.account.memory']) store.config.set(name, '-1');
  const zones = [lab.zoneid, ...Array.from({ length: ZONES - 1 }, (_, i) => store.zones.create({ name: `zone-${i + 2}`,
    networktype: 'Advanced', allocationstate: 'Enabled', guestcidraddress: '10.1.0.0/16' }).id)];
  const template = store.templates.register(SYSTEM, { name: 'bench-template', format: 'QCOW2', hypervisor: 'Simulator',
    accountid: lab.adminAccountId, ispublic: true, isready: true, size: 8 * 1024 ** 3 })[0]!.id;
  let t0 = performance.now();
  const hostIds = seedHosts(store, zones, sizes.hosts);
  const hostSeconds = (performance.now() - t0) / 1000;
  const { userIds, nets } = seedAccounts(store, zones, lab.networkofferingid, sizes.accounts);
  const users = userIds.map((id) => store.users.callerFor(id));
  t0 = performance.now();
  const vmIds: string[] = [];
  const perAccount = Math.ceil(sizes.vms / sizes.accounts);
  while (vmIds.length < sizes.vms) {
    store.transaction(() => {
      for (let i = 0; i < BATCH && vmIds.length < sizes.vms; i++) {
        const n = vmIds.length;
        const a = Math.floor(n / perAccount);
        vmIds.push(store.vmOps.create(users[a]!, { zoneid: zones[a % zones.length]!, serviceofferingid: lab.serviceofferings.small,
          templateid: template, networkids: [nets[a]!], name: `vm-a${String(a).padStart(4, '0')}-${n % perAccount}` }).id);
      }
    });
    if (vmIds.length % 10_000 === 0 || vmIds.length === sizes.vms) progress(`store world: ${vmIds.length} VMs`);
  }
  const vmSeconds = (performance.now() - t0) / 1000;
  return { store, admin: store.users.callerFor(lab.adminUserId), users, zones, vmIds, hostIds, adminUserId: lab.adminUserId, userIds,
    accounts: sizes.accounts, seconds: { hosts: hostSeconds, vms: vmSeconds } };
}

/** The same world on another store holding a copy of its database (callers are looked up again there). */
export function rebind(w: World, store: DataStore): World {
  return { ...w, store, admin: store.users.callerFor(w.adminUserId), users: w.userIds.map((id) => store.users.callerFor(id)) };
}

export type Latency = { p50: number; p90: number; p99: number };

/** Times `fn` `samples` times (after a warm-up) and returns the latency percentiles in ms. */
export function time(fn: (random: Random) => unknown, random: Random, samples: number): Latency {
  for (let i = 0; i < WARMUP; i++) fn(random);
  const out: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t = performance.now();
    fn(random);
    out.push(performance.now() - t);
  }
  return percentiles(out);
}

/**
 * The paged VM list cases (pagesize 500), by name: by account (a user's own VMs), by zone, by keyword,
 * and (with `listall`) the admin's plain listall over every VM. Each draws from a random seeded
 * with the same value, so two stores holding the same world are asked the same pages.
 */
export function listCases(w: World, o: { listall?: boolean } = {}): [string, (r: Random) => unknown][] {
  const pick = <T>(r: Random, xs: readonly T[]): T => xs[r.int(xs.length)]!;
  const pages = Math.max(1, Math.floor(w.vmIds.length / 500));
  return [
    ...(o.listall === true ? [['listall', (r: Random) => w.store.vms.list(w.admin, { listall: true, pagesize: 500, page: 1 + r.int(pages) })] as
      [string, (r: Random) => unknown]] : []),
    ['by-account', (r) => w.store.vms.list(pick(r, w.users), { pagesize: 500, page: 1 + r.int(2) })],
    ['by-zone', (r) => w.store.vms.list(w.admin, { listall: true, zoneid: pick(r, w.zones), pagesize: 500, page: 1 + r.int(10) })],
    ['by-keyword', (r) => w.store.vms.list(w.admin, { listall: true, pagesize: 500, page: 1,
      keyword: `a${String(r.int(w.accounts)).padStart(4, '0')}-1` } satisfies ListParams)],
  ];
}

/** Runs every case once (logging count and page size, so a case that matches nothing is seen), then times it. */
export function timeListCases(w: World, label: string, samples: number, o: { listall?: boolean } = {}): Map<string, Latency> {
  const out = new Map<string, Latency>();
  for (const [name, fn] of listCases(w, o)) {
    const random = createSeededRandom(5);
    const r = fn(random) as { items: unknown[]; count: number };
    progress(`${label}: list ${name}: count ${r.count}, page ${r.items.length}`);
    out.set(name, time(fn, random, samples));
  }
  return out;
}
