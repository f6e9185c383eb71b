/**
 * One actor system with the real data component over an in-memory, seeded store, and a locator the
 * component under test finds it through. For the network, storage and orchestrator component tests.
 */
import { ActorSystem } from '../../src/actor-system.js';
import { StaticLocator } from '../../src/locator.js';
import { silentLogger } from '../../src/logger.js';
import { dataActor } from '../../actors/data/data-actor.js';
import { DATA_PATH, DataProtocol, dataClient, type DataApi } from '../../actors/data/protocol.js';
import { DataStore, SYSTEM } from '../../actors/data/store/index.js';
import { seedLab, type SeedOptions, type SeedResult } from '../../actors/data/store/seed.js';
import { openTestStore } from './test-store.js';

export interface DataFixture {
  readonly system: ActorSystem;
  readonly locator: StaticLocator;
  readonly store: DataStore;
  readonly seed: SeedResult;
  /** The data service through messages, as components see it. */
  readonly data: DataApi;
  /** A Stopped VM of the admin account (with a NIC on `networkid` when given), created as deploy's create phase does. */
  createVm(networkid?: string, extra?: Record<string, unknown>): Promise<string>;
  /** An isolated network of the admin account. */
  createNetwork(name?: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startDataFixture(seed: SeedOptions = {}): Promise<DataFixture> {
  const system = new ActorSystem({ nodeId: 'test', logger: silentLogger });
  const store = openTestStore();
  const s = seedLab(store, { hosts: 2, ...seed });
  system.spawn(DATA_PATH, dataActor({ store }));
  const locator = new StaticLocator(system).bind(DataProtocol.name, { node: 'test', path: DATA_PATH });
  const data = dataClient((body) => system.ref(DATA_PATH, DataProtocol).ask('call', body));
  return {
    system, locator, store, seed: s, data,
    async createVm(networkid, extra = {}) {
      const vm = await data.vmOps.create(SYSTEM, { zoneid: s.zoneid, serviceofferingid: s.serviceofferings.small, templateid: s.templateid,
        accountid: s.adminAccountId, ...(networkid === undefined ? {} : { networkids: [networkid] }), ...extra });
      return vm.id;
    },
    async createNetwork(name = 'net') {
      return (await data.networks.create(SYSTEM, { name, zoneid: s.zoneid, networkofferingid: s.networkofferingid,
        accountid: s.adminAccountId })).id;
    },
    async stop() {
      await system.shutdown();
      store.close();
    },
  };
}
