/**
 * The cost of choosing the default network in deploy's create phase (issue 16): VMs created through the
 * store's own command (one transaction each, as the data service runs a deploy's create phase) with
 * `networkids` naming the account's network (the baseline), and without — each account's first VM
 * creating its `<account>-network`, the others finding it. The two are interleaved VM by VM in one
 * in-memory store, so the difference is the selection (and, for first VMs, the network's creation).
 * Runnable alone: `npx tsx bench/default-network.ts`. Sizes: DEFAULT_NET_BENCH_ACCOUNTS, DEFAULT_NET_BENCH_VMS
 * (per account).
 */
import { pathToFileURL } from 'node:url';
import { DataStore, SYSTEM, type Caller } from '../actors/data/store/index.js';
import { seedLab, type SeedResult } from '../actors/data/store/seed.js';
import { envInt, line, percentiles, progress, type Emit } from './lib.js';

const ACCOUNTS = envInt('DEFAULT_NET_BENCH_ACCOUNTS', 200);
/** VMs per account (the first, then alternately each way); at most a plain account's user VM limit (max.account.user.vms, 20). */
const VMS_PER_ACCOUNT = envInt('DEFAULT_NET_BENCH_VMS', 20);

interface Samples {
  /** Each account's first VM (the default path creates `<account>-network` there). */
  first: number[];
  /** The later ones (the default path finds the network). */
  later: number[];
}

function users(store: DataStore, seed: SeedResult, prefix: string): Caller[] {
  return Array.from({ length: ACCOUNTS }, (_v, i) => {
    const a = store.accounts.create(SYSTEM, { username: `${prefix}${i}`, password: 'pw', accounttype: 0, domainid: seed.domainid });
    return store.users.callerFor(a.user[0]!.id);
  });
}

function createOne(store: DataStore, seed: SeedResult, caller: Caller, name: string, networkids: string[] | undefined): number {
  const t = performance.now();
  store.vmOps.create(caller, { zoneid: seed.zoneid, serviceofferingid: seed.serviceofferings.small, templateid: seed.templateid,
    name, ...(networkids === undefined ? {} : { networkids }) });
  return performance.now() - t;
}

/**
 * First VMs: fresh accounts without networkids (each creates its network) against fresh accounts that
 * name a network made beforehand. Later VMs: on the same accounts, alternately without networkids and
 * naming the very network the default path finds, so the one difference is the selection.
 */
function compare(store: DataStore, seed: SeedResult): { named: Samples; dflt: Samples } {
  const named: Samples = { first: [], later: [] };
  const dflt: Samples = { first: [], later: [] };
  const fresh = users(store, seed, 'default');
  const others = users(store, seed, 'named');
  const otherNets = others.map((c, i) => store.networks.create(c, { name: `named-${i}`, zoneid: seed.zoneid,
    networkofferingid: seed.networkofferingid }).id);
  const own: string[] = [];
  for (let i = 0; i < ACCOUNTS; i++) {
    named.first.push(createOne(store, seed, others[i]!, `named-${i}-0`, [otherNets[i]!]));
    dflt.first.push(createOne(store, seed, fresh[i]!, `default-${i}-0`, undefined));
    own.push(store.networks.list(fresh[i]!, {}).items[0]!.id);
  }
  for (let r = 1; r < VMS_PER_ACCOUNT; r++) {
    fresh.forEach((caller, i) => {
      const byName = (r + i) % 2 === 0;
      (byName ? named : dflt).later.push(createOne(store, seed, caller, `default-${i}-${r}`, byName ? [own[i]!] : undefined));
    });
  }
  return { named, dflt };
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

export async function runDefaultNetworkBench(emit: Emit): Promise<void> {
  const store = DataStore.open({ memory: true });
  try {
    const seed = seedLab(store, { hosts: 2 });
    progress(`default-network: ${ACCOUNTS} accounts x ${VMS_PER_ACCOUNT} VMs, interleaved`);
    const { named, dflt } = compare(store, seed);
    const tag = `${ACCOUNTS} accounts x ${VMS_PER_ACCOUNT} VMs, in-memory store`;
    emit(line('default-network.create-vm.later.mean', mean(dflt.later), 'ms', `create with networkids (${tag})`, mean(named.later)));
    emit(line('default-network.create-vm.later.p50', percentiles(dflt.later).p50, 'ms', 'create with networkids, p50', percentiles(named.later).p50));
    emit(line('default-network.create-vm.later.p99', percentiles(dflt.later).p99, 'ms', 'create with networkids, p99', percentiles(named.later).p99));
    emit(line('default-network.create-vm.first.p50', percentiles(dflt.first).p50, 'ms',
      "an account's first create with networkids, p50 (default path: creates the network)", percentiles(named.first).p50));
  } finally {
    store.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runDefaultNetworkBench((l) => console.log(JSON.stringify(l)));
}
