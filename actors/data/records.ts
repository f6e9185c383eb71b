import { t, type Infer } from '../../src/schema.js';

/**
 * The data service's records as they travel between components: plain data shapes with CloudStack's
 * field names, declared here (not taken from the store's return types) so that other components'
 * protocols validate them at the transport boundary and depend on this contract only. The store's
 * repositories are held to these shapes at compile time (records-check.ts): a repository whose return
 * type drifts from its record does not compile, instead of changing the wire silently.
 */

const uuid = (): ReturnType<typeof t.string> => t.string({ minLength: 1, maxLength: 255 });
/** A name, address, URI or other short text field. */
const text = (): ReturnType<typeof t.string> => t.string({ maxLength: 4096 });
const opt = t.optional;
/** Most tags one record carries on the wire (CloudStack has no limit; a thousand is far past any real use). */
const MAX_TAGS = 1_000;

export const NETWORK_STATES = ['Allocated', 'Setup', 'Implementing', 'Implemented', 'Shutdown', 'Destroy'] as const;
export const IP_STATES = ['Free', 'Allocating', 'Allocated', 'Releasing', 'Reserved'] as const;
export const VOLUME_STATES = ['Allocated', 'Creating', 'Ready', 'Migrating', 'Snapshotting', 'RevertSnapshotting',
  'Resizing', 'Expunging', 'Expunged', 'Destroy', 'Destroying', 'UploadOp', 'Copying', 'Uploaded', 'NotUploaded',
  'UploadInProgress', 'UploadError', 'UploadAbandoned', 'Attaching'] as const;
export const SNAPSHOT_STATES = ['Allocated', 'Creating', 'CreatedOnPrimary', 'BackingUp', 'BackedUp', 'Copying',
  'Destroying', 'Destroyed', 'Error'] as const;

/** A resource's tag (listTags' `tag` object). */
export const ResourceTagSchema = t.object({
  key: text(), value: text(), resourcetype: text(), resourceid: uuid(),
  account: opt(text()), domainid: opt(uuid()), domain: opt(text()), customer: opt(text()),
});
export type ResourceTag = Infer<typeof ResourceTagSchema>;
const tags = () => t.array(ResourceTagSchema, { maxItems: MAX_TAGS });

/** A network service and its providers (a network offering's or network's `service[]` entry). */
export const NetworkServiceSchema = t.object({ name: text(), provider: t.array(t.object({ name: text() }), { maxItems: 64 }) });

/** listNetworks' `network` object. */
export const NetworkSchema = t.object({
  id: uuid(), name: text(), displaytext: opt(text()), broadcastdomaintype: text(), traffictype: text(),
  gateway: opt(text()), netmask: opt(text()), cidr: opt(text()), zoneid: uuid(), zonename: text(),
  networkofferingid: uuid(), networkofferingname: text(), networkofferingdisplaytext: opt(text()), networkofferingavailability: text(),
  issystem: t.boolean(), state: t.literal(...NETWORK_STATES), related: text(), broadcasturi: opt(text()),
  dns1: opt(text()), dns2: opt(text()), type: t.literal('Isolated', 'Shared', 'L2'), vlan: opt(text()),
  acltype: t.literal('Account', 'Domain'), subdomainaccess: opt(t.boolean()),
  account: text(), domainid: uuid(), domain: text(), domainpath: text(),
  service: t.array(NetworkServiceSchema, { maxItems: 64 }), networkdomain: opt(text()),
  restartrequired: t.boolean(), specifyipranges: t.boolean(), canusefordeploy: t.boolean(), ispersistent: t.boolean(),
  created: text(), tags: tags(),
});
export type Network = Infer<typeof NetworkSchema>;

/** A VM's `nic[]` entry / listNics' `nic` object. `deviceid` is a string, as CloudStack sends it. */
export const NicSchema = t.object({
  id: uuid(), networkid: uuid(), networkname: text(), netmask: opt(text()), gateway: opt(text()), ipaddress: opt(text()),
  macaddress: opt(text()), isolationuri: opt(text()), broadcasturi: opt(text()), traffictype: text(), type: text(),
  isdefault: t.boolean(), deviceid: text(), ip6address: opt(text()), virtualmachineid: uuid(), state: text(),
});
export type Nic = Infer<typeof NicSchema>;

/** listPublicIpAddresses' `publicipaddress` (associateIpAddress' `ipaddress`) object. */
export const PublicIpAddressSchema = t.object({
  id: uuid(), ipaddress: text(), allocated: opt(text()), zoneid: uuid(), zonename: text(),
  issourcenat: t.boolean(), isstaticnat: t.boolean(), issystem: t.boolean(),
  account: opt(text()), domainid: opt(uuid()), domain: opt(text()), forvirtualnetwork: t.boolean(), vlanid: uuid(), vlanname: text(),
  virtualmachineid: opt(uuid()), virtualmachinename: opt(text()), virtualmachinedisplayname: opt(text()), vmipaddress: opt(text()),
  associatednetworkid: opt(uuid()), associatednetworkname: opt(text()), state: t.literal(...IP_STATES), purpose: opt(text()),
  tags: tags(),
});
export type PublicIpAddress = Infer<typeof PublicIpAddressSchema>;

/** listVolumes' `volume` object (size in bytes). */
export const VolumeSchema = t.object({
  id: uuid(), name: text(), zoneid: uuid(), zonename: text(), type: t.literal('ROOT', 'DATADISK', 'SWAP', 'ISO', 'UNKNOWN'),
  deviceid: opt(t.number({ int: true, min: 0 })), virtualmachineid: opt(uuid()), vmname: opt(text()), vmdisplayname: opt(text()),
  vmstate: opt(text()), provisioningtype: text(), size: t.number({ min: 0 }), miniops: opt(t.number()), maxiops: opt(t.number()),
  created: text(), state: t.literal(...VOLUME_STATES), account: text(), domainid: uuid(), domain: text(), domainpath: text(),
  storagetype: text(), hypervisor: opt(text()), diskofferingid: opt(uuid()), diskofferingname: opt(text()),
  storage: opt(text()), storageid: opt(uuid()), snapshotid: opt(uuid()), templateid: opt(uuid()), attached: opt(text()),
  destroyed: t.boolean(), isextractable: t.boolean(), path: opt(text()), format: opt(text()), tags: tags(),
});
export type Volume = Infer<typeof VolumeSchema>;

/** listSnapshots' `snapshot` object. */
export const SnapshotSchema = t.object({
  id: uuid(), name: text(), volumeid: uuid(), volumename: text(), volumetype: text(), snapshottype: text(),
  intervaltype: opt(text()), state: t.literal(...SNAPSHOT_STATES), created: text(),
  account: text(), domainid: uuid(), domain: text(), domainpath: text(), zoneid: uuid(),
  physicalsize: opt(t.number({ min: 0 })), virtualsize: opt(t.number({ min: 0 })), tags: tags(),
});
export type Snapshot = Infer<typeof SnapshotSchema>;

/** What an auto-scaled component is scaled on (see actors/service-framework/autoscale.ts). */
export const ScalingPolicySchema = t.object({
  /** The load figure its instances advertise: `cpu` (percent of one core), `mailbox` (queued messages), `asks` (in flight). */
  metric: t.string({ maxLength: 64 }),
  /** The figure per instance the scaler aims at. */
  target: t.number(),
  /** Relative band around the target inside which nothing changes. Default 0.1. */
  tolerance: opt(t.number({ min: 0 })),
  /** Most instances one scale-up adds. Default 2. */
  maxStep: opt(t.number({ int: true, min: 1 })),
  /** How long the load must stay low before a scale-down, ms. Default 300,000. */
  stabilizationMs: opt(t.number({ min: 0 })),
  /** Least time between two changes, ms. Default 60,000. */
  cooldownMs: opt(t.number({ min: 0 })),
});
export type ScalingPolicy = Infer<typeof ScalingPolicySchema>;

const words = () => t.array(t.string({ maxLength: 4096 }), { maxItems: 256 });

/** A component's desired deployment (the service framework's record). */
export const ComponentServiceSchema = t.object({
  name: t.string({ maxLength: 64 }), min: t.number({ int: true, min: 0 }), max: t.number({ int: true, min: 0 }),
  /** Instances wanted now (min..max): set by hand or by the scaler. */
  desired: t.number({ int: true, min: 0 }),
  /** A fixed count (singletons, data on SQLite): never scaled, min = max = desired. */
  fixed: t.boolean(),
  /** Labels a launcher's node must have. */
  labels: words(),
  /** Spread instances over nodes (fewest of this component first). */
  spread: t.boolean(),
  /** Extra arguments every instance gets. */
  args: words(),
  policy: opt(ScalingPolicySchema),
  /** Enabled, or Alert when it stopped restarting a crash-looping instance (`reason` says why). */
  state: t.literal('Enabled', 'Alert'),
  reason: opt(text()),
  updated: text(),
});
export type ComponentService = Infer<typeof ComponentServiceSchema>;

/** A component's deployment as it is defined or changed (absent fields keep their value or default). */
export const DefineComponentServiceSchema = t.object({
  name: t.string({ maxLength: 64 }), min: t.number({ int: true, min: 0 }), max: t.number({ int: true, min: 0 }),
  desired: opt(t.number({ int: true, min: 0 })), fixed: opt(t.boolean()), labels: opt(words()), spread: opt(t.boolean()),
  args: opt(words()), policy: opt(t.nullable(ScalingPolicySchema)),
});
export type DefineComponentService = Infer<typeof DefineComponentServiceSchema>;
