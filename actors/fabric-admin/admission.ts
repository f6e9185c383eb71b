import { InvalidParameterError } from '../../src/errors.js';
import type { AskKeys, ReplyOf, RequestOf } from '../../src/protocol.js';
import type { ComputeProtocolType, HostInfo } from '../compute/protocol.js';
import type { DataApi } from '../data/protocol.js';
import type { AdmitRequest } from './protocol.js';

const MIB = 1024 * 1024;

export type Host = Awaited<ReturnType<DataApi['hosts']['get']>>;
type Zone = Awaited<ReturnType<DataApi['zones']['get']>>;
type Pod = Awaited<ReturnType<DataApi['zones']['getPod']>>;
type Cluster = Awaited<ReturnType<DataApi['zones']['getCluster']>>;

export interface AdmissionDeps {
  readonly data: DataApi;
  compute<K extends AskKeys<ComputeProtocolType>>(hostName: string, type: K, body: RequestOf<ComputeProtocolType, K>): Promise<ReplyOf<ComputeProtocolType, K>>;
}

export interface Placement {
  zone: Zone;
  pod: Pod;
  cluster: Cluster;
}

function matches(x: { id: string; name: string }, hint: string): boolean {
  return x.id === hint || x.name === hint;
}

/**
 * Where a compute node goes: the ids an admin gave (addHost), else the names or ids the node was
 * started with (--zone/--pod/--cluster), else the first zone, its first pod and that pod's first
 * cluster of the node's hypervisor. A hint that names nothing is refused: a host must not land in the
 * wrong cluster because of a typo.
 */
export async function resolvePlacement(data: DataApi, hints: { zone?: string; pod?: string; cluster?: string }, hypervisor: string): Promise<Placement> {
  // Zones, pods and clusters are read whole (a few per cloud; bounded by maxAllRows): the first one is the default.
  const zones = await data.zones.all('system', {});
  const zone = hints.zone === undefined ? zones[0] : zones.find((z) => matches(z, hints.zone!));
  if (zone === undefined) {
    throw new InvalidParameterError(hints.zone === undefined ? 'there is no zone to admit the host into; create one first'
      : `zone "${hints.zone}" does not exist (give the name or id of one of: ${zones.map((z) => z.name).join(', ')})`);
  }
  const pods = await data.zones.allPods({ zoneid: zone.id });
  const pod = hints.pod === undefined ? pods[0] : pods.find((p) => matches(p, hints.pod!));
  if (pod === undefined) {
    throw new InvalidParameterError(hints.pod === undefined ? `zone ${zone.name} has no pod to admit the host into`
      : `pod "${hints.pod}" does not exist in zone ${zone.name}`);
  }
  const clusters = await data.zones.allClusters({ podid: pod.id });
  const cluster = hints.cluster === undefined ? clusters.find((c) => c.hypervisortype === hypervisor)
    : clusters.find((c) => matches(c, hints.cluster!));
  if (cluster === undefined) {
    throw new InvalidParameterError(hints.cluster === undefined ? `pod ${pod.name} has no ${hypervisor} cluster to admit the host into`
      : `cluster "${hints.cluster}" does not exist in pod ${pod.name}`);
  }
  if (cluster.hypervisortype !== hypervisor) {
    throw new InvalidParameterError(`Can't add host whose hypervisor is: ${hypervisor} into cluster of hypervisor type ${cluster.hypervisortype}`);
  }
  return { zone, pod, cluster };
}

/** The node's own hints (empty strings mean "none given"). */
function nodeHints(info: HostInfo): { zone?: string; pod?: string; cluster?: string } {
  const h: { zone?: string; pod?: string; cluster?: string } = {};
  if (info.zone !== '') h.zone = info.zone;
  if (info.pod !== '') h.pod = info.pod;
  if (info.cluster !== '') h.cluster = info.cluster;
  return h;
}

function requestHints(r: AdmitRequest): { zone?: string; pod?: string; cluster?: string } | undefined {
  if (r.zoneid === undefined && r.podid === undefined && r.clusterid === undefined) return undefined;
  const h: { zone?: string; pod?: string; cluster?: string } = {};
  if (r.zoneid !== undefined) h.zone = r.zoneid;
  if (r.podid !== undefined) h.pod = r.podid;
  if (r.clusterid !== undefined) h.cluster = r.clusterid;
  return h;
}

/**
 * Admits the compute node that serves `r.hostName`: asks its agent what it offers, creates the host
 * row (Connecting: the fabric monitor makes it Up on its first heartbeat) or reuses the live row of
 * that name (a restarted node, or a restarted management node), and tells the agent the identifiers
 * it was admitted under, which its heartbeats then carry.
 */
export async function admit(d: AdmissionDeps, r: AdmitRequest, version: string): Promise<{ host: Host; created: boolean }> {
  const info = await d.compute(r.hostName, 'getHostInfo', {});
  // One page of one row: host names of live routing hosts are looked up by name (the first is reused).
  const existing = (await d.data.hosts.list({ name: r.hostName, type: 'Routing', page: 1, pagesize: 1 })).items[0];
  let host: Host;
  let created = false;
  if (existing !== undefined) {
    host = existing;
    const memory = info.memoryMiB * MIB;
    if (host.cpunumber !== info.cpuCores || host.cpuspeed !== info.cpuSpeedMhz || host.memorytotal !== memory) {
      host = await d.data.hosts.update(host.id, { cpunumber: info.cpuCores, cpuspeed: info.cpuSpeedMhz, memory });
    }
  } else {
    const p = await resolvePlacement(d.data, requestHints(r) ?? nodeHints(info), info.hypervisor);
    const input: Parameters<DataApi['hosts']['create']>[0] = {
      zoneid: p.zone.id, podid: p.pod.id, clusterid: p.cluster.id, name: r.hostName, url: `cloudstackd://${r.hostName}`,
      hypervisor: info.hypervisor, hypervisorversion: info.hypervisorVersion, version,
      cpunumber: info.cpuCores, cpuspeed: info.cpuSpeedMhz, memory: info.memoryMiB * MIB, state: 'Connecting',
    };
    if (r.hosttags !== undefined) input.hosttags = r.hosttags;
    host = await d.data.hosts.create(input);
    created = true;
  }
  const placement: RequestOf<ComputeProtocolType, 'setPlacement'> = { hostUuid: host.id, zone: host.zoneid };
  if (host.podid !== undefined) placement.pod = host.podid;
  if (host.clusterid !== undefined) placement.cluster = host.clusterid;
  await d.compute(r.hostName, 'setPlacement', placement);
  return { host, created };
}
