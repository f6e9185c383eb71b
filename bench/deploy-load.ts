/**
 * The deploy workload of bench/deploy.ts, shared with bench/postgres.ts so that both measure the same
 * thing: N API clients, each with its own isolated network, deploy VMs with signed requests and poll
 * queryAsyncJobResult as clients do, until the total is reached.
 */
import { CsApi } from '../test/helpers/cs-api.js';
import { progress } from './lib.js';

/** What the workload deploys with (a lab's seed ids, or read back over the API from a cluster). */
export interface DeployIds {
  zoneid: string;
  serviceofferingid: string;
  templateid: string;
  /** An isolated network offering: each client creates its own network with it. */
  networkofferingid: string;
}

export interface DeployOutcome {
  /** Submit → the poll that saw the job finished, ms, of each successful deploy. */
  latencies: number[];
  failed: number;
  seconds: number;
}

/** One client per concurrent deployer, one socket each, as separate API users would be. */
export function deployClients(endpoint: string, keys: { apiKey: string; secretKey: string }, count: number, pollMs: number): CsApi[] {
  return Array.from({ length: count }, () => new CsApi({ endpoint, apiKey: keys.apiKey, secretKey: keys.secretKey, maxSockets: 1, pollMs, jobTimeoutMs: 600_000 }));
}

/** The ids a cloud seeded by the data component offers (small offering, featured template, isolated network offering). */
export async function deployIdsOf(api: CsApi): Promise<DeployIds> {
  const offerings = await api.listAll<{ id: string; name: string }>('listServiceOfferings', 'serviceoffering');
  const netOfferings = await api.listAll<{ id: string; guestiptype: string }>('listNetworkOfferings', 'networkoffering');
  const small = offerings.find((x) => x.name.startsWith('Small'));
  const isolated = netOfferings.find((x) => x.guestiptype === 'Isolated');
  if (small === undefined || isolated === undefined) throw new Error('the cloud has no Small service offering or no Isolated network offering: is it seeded?');
  return {
    zoneid: (await api.listAll<{ id: string }>('listZones', 'zone'))[0]!.id,
    serviceofferingid: small.id,
    templateid: (await api.listAll<{ id: string }>('listTemplates', 'template', { templatefilter: 'featured' }))[0]!.id,
    networkofferingid: isolated.id,
  };
}

/** `vms` deploys spread over `clients` (each on its own network); `label` prefixes the progress lines. */
export async function deployAll(ids: DeployIds, clients: CsApi[], vms: number, label = 'deploy'): Promise<DeployOutcome> {
  // The seeded pool (2 TiB, over-provisioned 2x) holds 2,048 ROOT disks of 2 GiB; add a zone-wide pool for the rest.
  const needed = vms * 2 * 1024 ** 3;
  await clients[0]!.call('createStoragePool', { zoneid: ids.zoneid, name: 'bench-primary', url: 'nfs://192.168.56.6/export/bench',
    scope: 'zone', hypervisor: 'Simulator', capacitybytes: Math.ceil(needed / 2) });
  const networks = await Promise.all(clients.map((c, i) => c.call<{ network: { id: string } }>('createNetwork', {
    name: `bench-${i}`, displaytext: `bench ${i}`, zoneid: ids.zoneid, networkofferingid: ids.networkofferingid })));
  const latencies: number[] = [];
  let failed = 0;
  let next = 0;
  const t0 = performance.now();
  const ticker = setInterval(() => {
    const sec = (performance.now() - t0) / 1000;
    progress(`${label}: ${latencies.length + failed}/${vms} done (${failed} failed), ${(latencies.length / sec).toFixed(0)} VMs/s, ` +
      `${next - latencies.length - failed} in flight`);
  }, 1000);
  try {
    await Promise.all(clients.map(async (c, i) => {
      const params = { zoneid: ids.zoneid, serviceofferingid: ids.serviceofferingid, templateid: ids.templateid, networkids: networks[i]!.network.id };
      while (next < vms) {
        next++;
        const start = performance.now();
        const job = await c.job('deployVirtualMachine', params);
        if (job.jobstatus === 1) latencies.push(performance.now() - start);
        else failed++;
      }
    }));
  } finally {
    clearInterval(ticker);
  }
  return { latencies, failed, seconds: (performance.now() - t0) / 1000 };
}
