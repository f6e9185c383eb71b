import { SYSTEM } from './scoping.js';
import type { DataStore } from './index.js';
import type { HostState } from './state-machines.js';

const GIB = 1024 ** 3;
const TIB = 1024 * GIB;

/** What the lab (issue 6 section 3) is made of. Every figure can be overridden. */
export interface SeedOptions {
  /** Simulator hosts in the cluster. Default 4 (seedManagement: 0, hosts join as compute nodes). */
  hosts?: number;
  /** Per host: cores, MHz per core, bytes of memory. Defaults follow CloudStack's simulator: 4 × 8000 MHz, 8 GiB. */
  hostCpuCores?: number;
  hostCpuSpeed?: number;
  hostMemory?: number;
  /** Status the simulator hosts start in. Default Up (the in-process simulator answers at once). */
  hostState?: HostState;
  zoneName?: string;
  /** Admin credentials. Default admin / password, as a fresh CloudStack. */
  adminUsername?: string;
  adminPassword?: string;
  /** Primary storage size in bytes. Default 2 TiB. */
  primaryStorageBytes?: number;
  /** Guest VLAN/VNI range. Default 100–999. */
  vlanStart?: number;
  vlanEnd?: number;
  /** Public range. Default 172.16.0.10–172.16.0.250 behind 172.16.0.1/24. */
  publicGateway?: string;
  publicNetmask?: string;
  publicStartIp?: string;
  publicEndIp?: string;
}

/** Ids of what was seeded, plus the admin's API keys (for credentials.json). */
export interface SeedResult {
  /** False when the database had already been seeded (everything below is then read back). */
  created: boolean;
  kind: 'lab' | 'management';
  domainid: string;
  adminAccountId: string;
  adminUserId: string;
  apiKey: string;
  secretKey: string;
  zoneid: string;
  podid: string;
  clusterid: string;
  hostids: string[];
  storagepoolid: string;
  imagestoreid: string;
  serviceofferings: { small: string; medium: string; large: string };
  /** The offering with offerha = true. */
  haServiceOfferingId: string;
  diskofferings: string[];
  networkofferingid: string;
  sharedNetworkOfferingId: string;
  ostypeids: string[];
  templateid: string;
}

/** Configuration key holding the seed record (ids only, never the secret key). */
export const SEED_KEY = 'cloudstackd.seed';

const OS_TYPES: readonly [string, string][] = [
  ['CentOS 5.5 (64-bit)', 'CentOS'], ['CentOS 7 (64-bit)', 'CentOS'], ['Ubuntu 22.04 LTS', 'Ubuntu'],
  ['Debian GNU/Linux 12 (64-bit)', 'Debian'], ['Other Linux (64-bit)', 'Other'], ['Windows Server 2022 (64-bit)', 'Windows'],
];

/**
 * The services of CloudStack's DefaultIsolatedNetworkOfferingWithSourceNatService, all from the virtual
 * router. It is the offering with availability Required: a deploy without networkids creates the
 * owner's default network from it.
 */
const ISOLATED_SERVICES = ['Dhcp', 'Dns', 'UserData', 'Firewall', 'Gateway', 'Lb', 'SourceNat', 'StaticNat', 'PortForwarding', 'Vpn']
  .map((name) => ({ name, provider: [{ name: 'VirtualRouter' }] }));

/**
 * Seeds the all-in-one lab: admin account, an enabled Advanced zone with one pod and one cluster of N
 * simulator hosts, primary and secondary storage, offerings, OS types, a ready built-in template, a
 * VLAN range and a public IP range. One transaction; on an already seeded database it changes nothing
 * and returns what is there.
 */
export function seedLab(store: DataStore, options: SeedOptions = {}): SeedResult {
  return seed(store, 'lab', options);
}

/** The same without hosts: `--role=management`, where hosts are the compute nodes that join. */
export function seedManagement(store: DataStore, options: SeedOptions = {}): SeedResult {
  return seed(store, 'management', { ...options, hosts: 0 });
}

function seed(store: DataStore, kind: 'lab' | 'management', o: SeedOptions): SeedResult {
  return store.transaction(() => {
    const previous = store.config.get(SEED_KEY);
    if (previous !== undefined && previous !== '') return readBack(store, JSON.parse(previous) as Omit<SeedResult, 'apiKey' | 'secretKey' | 'created'>);
    const result = build(store, kind, o);
    const { apiKey: _a, secretKey: _s, created: _c, ...record } = result;
    store.config.set(SEED_KEY, JSON.stringify(record));
    return result;
  });
}

function readBack(store: DataStore, record: Omit<SeedResult, 'apiKey' | 'secretKey' | 'created'>): SeedResult {
  const keys = store.users.getKeys(SYSTEM, record.adminUserId);
  return { ...record, created: false, apiKey: keys?.apikey ?? '', secretKey: keys?.secretkey ?? '' };
}

function build(store: DataStore, kind: 'lab' | 'management', o: SeedOptions): SeedResult {
  const root = store.domains.root();
  const admin = store.accounts.create(SYSTEM, { username: o.adminUsername ?? 'admin', password: o.adminPassword ?? 'password',
    accounttype: 1, domainid: root.id, firstname: 'Admin', lastname: 'User' });
  const adminUser = admin.user[0]!;
  const keys = store.users.registerKeys(SYSTEM, adminUser.id);
  const zone = store.zones.create({ name: o.zoneName ?? 'lab-zone', networktype: 'Advanced', dns1: '8.8.8.8',
    internaldns1: '10.0.0.2', guestcidraddress: '10.1.1.0/24', allocationstate: 'Enabled', localstorageenabled: false });
  const pod = store.zones.createPod({ zoneid: zone.id, name: 'pod-1', gateway: '192.168.56.1', netmask: '255.255.255.0',
    startip: '192.168.56.10', endip: '192.168.56.250' });
  const cluster = store.zones.createCluster({ zoneid: zone.id, podid: pod.id, clustername: 'cluster-1', hypervisor: 'Simulator' });
  const hostids: string[] = [];
  for (let i = 0; i < (o.hosts ?? 4); i++) {
    hostids.push(store.hosts.create({ zoneid: zone.id, podid: pod.id, clusterid: cluster.id, name: `sim-host-${i + 1}`,
      url: `http://sim/c0/h${i}`, hypervisor: 'Simulator', ipaddress: `192.168.56.${11 + i}`,
      cpunumber: o.hostCpuCores ?? 4, cpuspeed: o.hostCpuSpeed ?? 8000, memory: o.hostMemory ?? 8 * GIB,
      state: o.hostState ?? 'Up', resourcestate: 'Enabled', version: '4.20.0' }).id);
  }
  const pool = store.storage.createPool({ zoneid: zone.id, podid: pod.id, clusterid: cluster.id, name: 'primary-1',
    url: 'nfs://192.168.56.5/export/primary', scope: 'CLUSTER', hypervisor: 'Simulator',
    capacitybytes: o.primaryStorageBytes ?? 2 * TIB });
  const image = store.storage.createImageStore({ name: 'secondary-1', url: 'nfs://192.168.56.5/export/secondary', zoneid: zone.id });
  const offerings = seedOfferings(store);
  const ostypeids = OS_TYPES.map(([d, c]) => store.templates.createOsType(d, c).id);
  const systemAccount = store.accounts.findByName(root.id, 'system')!;
  const template = store.templates.register(SYSTEM, { name: 'CentOS 5.5(64-bit) no GUI (Simulator)',
    displaytext: 'CentOS 5.5(64-bit) no GUI (Simulator)', format: 'VHD', hypervisor: 'Simulator', ostypeid: ostypeids[0]!,
    url: 'http://download.cloudstack.org/templates/builtin/centos56-x86_64.vhd.bz2', accountid: systemAccount.id,
    ispublic: true, isfeatured: true, isextractable: true, passwordenabled: false, templatetype: 'BUILTIN',
    size: 2 * GIB, isready: true, zoneids: [zone.id] })[0]!;
  store.addresses.addVnetRange(zone.id, o.vlanStart ?? 100, o.vlanEnd ?? 999);
  store.ipAddresses.createRange({ zoneid: zone.id, vlan: 'untagged', gateway: o.publicGateway ?? '172.16.0.1',
    netmask: o.publicNetmask ?? '255.255.255.0', startip: o.publicStartIp ?? '172.16.0.10',
    endip: o.publicEndIp ?? '172.16.0.250', forvirtualnetwork: true });
  return { created: true, kind, domainid: root.id, adminAccountId: admin.id, adminUserId: adminUser.id,
    apiKey: keys.apikey, secretKey: keys.secretkey, zoneid: zone.id, podid: pod.id, clusterid: cluster.id, hostids,
    storagepoolid: pool.id, imagestoreid: image.id, ...offerings, ostypeids, templateid: template.id };
}

function seedOfferings(store: DataStore): Pick<SeedResult, 'serviceofferings' | 'haServiceOfferingId' | 'diskofferings' |
  'networkofferingid' | 'sharedNetworkOfferingId'> {
  const small = store.offerings.createService({ name: 'Small Instance', displaytext: 'Small Instance, 1 vCPU 500 MHz, 512 MiB',
    cpunumber: 1, cpuspeed: 500, memory: 512 });
  const medium = store.offerings.createService({ name: 'Medium Instance', displaytext: 'Medium Instance, 1 vCPU 1 GHz, 1 GiB',
    cpunumber: 1, cpuspeed: 1000, memory: 1024 });
  const large = store.offerings.createService({ name: 'Large Instance HA', displaytext: 'Large Instance, 2 vCPU 2 GHz, 4 GiB, HA',
    cpunumber: 2, cpuspeed: 2000, memory: 4096, offerha: true });
  const disks = [['Small', 5], ['Medium', 20], ['Large', 100]] as const;
  const diskofferings = disks.map(([n, s]) => store.offerings.createDisk({ name: n, displaytext: `${n} Disk, ${s} GB`, disksize: s }).id);
  diskofferings.push(store.offerings.createDisk({ name: 'Custom', displaytext: 'Custom Disk', customized: true }).id);
  const isolated = store.offerings.createNetwork({ name: 'DefaultIsolatedNetworkOfferingWithSourceNatService',
    displaytext: 'Offering for Isolated networks with Source Nat service enabled', guestiptype: 'Isolated', isdefault: true,
    availability: 'Required', service: ISOLATED_SERVICES, egressdefaultpolicy: true });
  const shared = store.offerings.createNetwork({ name: 'DefaultSharedNetworkOffering',
    displaytext: 'Offering for Shared networks', guestiptype: 'Shared', isdefault: true, specifyvlan: true,
    specifyipranges: true, service: ['Dhcp', 'Dns', 'UserData'].map((name) => ({ name, provider: [{ name: 'VirtualRouter' }] })) });
  return { serviceofferings: { small: small.id, medium: medium.id, large: large.id }, haServiceOfferingId: large.id,
    diskofferings, networkofferingid: isolated.id, sharedNetworkOfferingId: shared.id };
}
