/**
 * A real all-in-one lab for the lifecycle tests: startLab() with every component (data, compute,
 * network, storage, orchestrator, api) plus a probe that hands the tests the lab's database (for the
 * store invariants) and the orchestrator (to kill and restart it mid-job). Nothing is faked.
 */
import { startLab, type Lab } from '../../bin/lab.js';
import { orchestratorTestConfig, type OrchestratorConfig } from '../../actors/orchestrator/config.js';
import type { StartedOrchestrator } from '../../actors/orchestrator/start.js';
import type { DataStore } from '../../actors/data/store/index.js';
import { createSeededRandom } from '../../src/random.js';
import { silentLogger } from '../../src/logger.js';
import { ComputeProtocol, computeAgentPath } from '../../actors/compute/protocol.js';
import { CsApi } from '../helpers/cs-api.js';
import { apiInvariantViolations, pendingJobs, storeInvariantViolations } from '../helpers/invariants.js';

export interface TestLab {
  readonly lab: Lab;
  /** A signed client with the admin's keys. */
  readonly api: CsApi;
  readonly store: DataStore;
  readonly orchestrator: StartedOrchestrator;
  /** Host names whose simulated hypervisor runs the VM (asked of the compute agents themselves). */
  hostsRunning(vmid: string): Promise<string[]>;
  /** Every invariant violation, through the API and in the database, plus unfinished jobs. */
  violations(): Promise<string[]>;
  stop(): Promise<void>;
}

export interface TestLabOptions {
  hosts?: number;
  orchestrator?: Partial<OrchestratorConfig>;
  /** Cloud-wide settings written before anything runs (e.g. vm.allocation.algorithm). */
  config?: Record<string, string>;
}

export async function startTestLab(o: TestLabOptions = {}): Promise<TestLab> {
  const lab = await startLab({ hosts: o.hosts ?? 4, logger: silentLogger, orchestrator: { ...orchestratorTestConfig(), ...o.orchestrator },
    random: createSeededRandom(7), ...(o.config === undefined ? {} : { settings: o.config }) });
  const { store, node, orchestrator } = lab.handles;
  const api = new CsApi({ endpoint: lab.endpoint, apiKey: lab.apiKey, secretKey: lab.secretKey, maxSockets: 32 });
  return {
    lab, api, store, orchestrator,
    async hostsRunning(vmid) {
      const names = store.hosts.list({}).items.map((h) => h.name);
      const out: string[] = [];
      for (const name of names) {
        const r = await node.system.ref(computeAgentPath(name), ComputeProtocol).ask('queryPowerStates', { vmUuids: [vmid] });
        if (r.states[vmid] === 'PowerOn') out.push(name);
      }
      return out;
    },
    async violations() {
      const jobs = pendingJobs(store.sql).map((j) => `job ${j} has not finished`);
      return [...jobs, ...storeInvariantViolations(store.sql), ...await apiInvariantViolations(api)];
    },
    async stop() {
      api.close();
      await lab.stop();
    },
  };
}
