/**
 * A lab with an isolated network, a running VM and an associated public address for the client
 * command tests, and helpers over the signed test client (CsApi).
 */
import { expect } from 'chai';
import type { Lab } from '../../../../bin/lab.js';
import { CsApi, CsApiError, type Json } from '../../../helpers/cs-api.js';
import { LabClient, testLab, userAccount } from './lab-client.js';
import type { ElementSnapshot } from '../../../../actors/network/element.js';
import { NETWORK_PATH, NetworkProtocol } from '../../../../actors/network/protocol.js';

export interface Tenant {
  api: CsApi;
  accountId: string;
  name: string;
  networkId: string;
  vmId: string;
  vmIp: string;
}

export interface ClientLab {
  lab: Lab;
  admin: CsApi;
  client: LabClient;
  /** What the network element was told for a network (the simulator's record), asked of the network component. */
  elementState(networkid: string): Promise<ElementSnapshot>;
}

/** The default lab; the network component is asked directly through the lab's node. */
export async function startClientLab(): Promise<ClientLab> {
  const lab = await testLab({ hosts: 3 });
  const { node } = lab.handles;
  return { lab, admin: new CsApi({ endpoint: lab.endpoint, apiKey: lab.apiKey, secretKey: lab.secretKey, pollMs: 5 }), client: new LabClient(lab),
    elementState: (networkid) => node.system.ref(NETWORK_PATH, NetworkProtocol).ask('elementState', { networkid }) };
}

/** A user account with its own network and one running VM. */
export async function tenant(lab: Lab, client: LabClient): Promise<Tenant> {
  const u = await userAccount(client);
  const api = new CsApi({ endpoint: lab.endpoint, apiKey: u.client.keys.apiKey, secretKey: u.client.keys.secretKey, pollMs: 5 });
  const net = (await api.call('createNetwork', { name: `net-${u.name}`, displaytext: 'net', zoneid: lab.seed.zoneid,
    networkofferingid: lab.seed.networkofferingid }))['network'] as Json;
  const vm = await deploy(lab, api, String(net['id']), `vm-${u.name}`);
  const nic = (vm['nic'] as Json[])[0]!;
  return { api, accountId: u.accountId, name: u.name, networkId: String(net['id']), vmId: String(vm['id']), vmIp: String(nic['ipaddress']) };
}

export async function deploy(lab: Lab, api: CsApi, networkId: string, name: string, extra: Record<string, string> = {}): Promise<Json> {
  const job = await api.job('deployVirtualMachine', { zoneid: lab.seed.zoneid, serviceofferingid: lab.seed.serviceofferings.small,
    templateid: lab.seed.templateid, networkids: networkId, name, ...extra });
  expect(job.jobstatus, JSON.stringify(job.jobresult)).to.equal(1);
  return job.jobresult['virtualmachine'] as Json;
}

export async function publicIp(api: CsApi, networkId: string): Promise<string> {
  const job = await api.job('associateIpAddress', { networkid: networkId });
  expect(job.jobstatus, JSON.stringify(job.jobresult)).to.equal(1);
  return job.id!;
}

/** Runs a job and expects it to succeed; returns its result object. */
export async function ok(api: CsApi, command: string, params: Record<string, string | number | boolean>): Promise<Json & { id?: string }> {
  const job = await api.job(command, params);
  expect(job.jobstatus, `${command}: ${JSON.stringify(job.jobresult)}`).to.equal(1);
  return job.id === undefined ? job.jobresult : { ...job.jobresult, id: job.id };
}

/** Expects a synchronous failure with `code` (or a failed job with that code); returns the text. */
export async function fails(code: number, api: CsApi, command: string, params: Record<string, string | number | boolean>): Promise<string> {
  try {
    const r = await api.call(command, params);
    if (typeof r['jobid'] !== 'string') throw new Error(`${command} succeeded: ${JSON.stringify(r)}`);
    const job = await api.waitJob(String(r['jobid']));
    expect(job.jobstatus, `${command} job: ${JSON.stringify(job.jobresult)}`).to.equal(2);
    expect(job.jobresult['errorcode'], JSON.stringify(job.jobresult)).to.equal(code);
    return String(job.jobresult['errortext']);
  } catch (err) {
    if (!(err instanceof CsApiError)) throw err;
    expect(err.code, err.message).to.equal(code);
    return err.message;
  }
}

export async function list(api: CsApi, command: string, key: string, params: Record<string, string | number | boolean> = {}): Promise<Json[]> {
  return ((await api.call(command, params))[key] ?? []) as Json[];
}
