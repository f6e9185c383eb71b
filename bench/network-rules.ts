/**
 * The cost of creating a network rule (its insert and CloudStack's conflict check over the rules
 * already on the address, in one transaction, as the data service runs a createFirewallRule's create
 * phase): on an address that holds 250-500 rules against an empty address (the baseline), interleaved rule
 * by rule in one in-memory store so that the difference is the conflict check over the existing rules.
 * Runnable alone: `npx tsx bench/network-rules.ts`. Size: RULES_BENCH_RULES (rules on the busy address).
 */
import { pathToFileURL } from 'node:url';
import { DataStore } from '../actors/data/store/index.js';
import { seedLab } from '../actors/data/store/seed.js';
import { envInt, line, percentiles, progress, type Emit } from './lib.js';

const RULES = envInt('RULES_BENCH_RULES', 500);

export async function runNetworkRulesBench(emit: Emit): Promise<void> {
  const store = DataStore.open({ memory: true });
  try {
    const seed = seedLab(store, { hosts: 1 });
    const caller = store.users.callerFor(seed.adminUserId);
    const net = store.networks.create(caller, { name: 'bench', zoneid: seed.zoneid, networkofferingid: seed.networkofferingid });
    const ip = (): string => store.addresses.allocatePublicIp(caller, { zoneid: seed.zoneid, networkid: net.id }).id;
    const busyIp = ip();
    const emptyIp = ip();
    const busy: number[] = [];
    const empty: number[] = [];
    const create = (ipid: string, port: number): { ms: number; id: string } => {
      const t = performance.now();
      const r = store.networkRules.create(caller, { purpose: 'Firewall', protocol: 'tcp', ipaddressid: ipid, startport: port, cidrlist: ['10.0.0.0/8'] });
      return { ms: performance.now() - t, id: r.id };
    };
    for (let i = 0; i < RULES; i++) {
      busy.push(create(busyIp, 1 + i).ms);
      // The baseline address stays empty: its rule is discarded (not measured) after each create.
      const e = create(emptyIp, 1);
      empty.push(e.ms);
      store.networkRules.discard(e.id);
    }
    // Only the later half: the busy address then holds RULES/2..RULES rules.
    const late = (a: number[]): number[] => a.slice(Math.floor(a.length / 2));
    const b = percentiles(late(busy));
    const e = percentiles(late(empty));
    progress(`network rules: busy address p50 ${b.p50.toFixed(3)} ms, empty address p50 ${e.p50.toFixed(3)} ms`);
    emit(line(`rules.create_on_address_with_${RULES / 2}-${RULES}_rules_p50`, b.p50 * 1000, 'us', 'rules.create_on_empty_address_p50', e.p50 * 1000));
  } finally {
    store.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runNetworkRulesBench((l) => console.log(JSON.stringify(l)));
}
