import { ask, defineProtocol } from '../../src/protocol.js';
import { t, type Infer } from '../../src/schema.js';
import { CallerSchema } from '../data/protocol.js';

/**
 * The fabric admin's protocol (service `fabric-admin`, actor at FABRIC_ADMIN_PATH): admitting compute
 * nodes as hosts (on discovery, or by addHost with a URL naming the node), maintenance mode as a job,
 * and host removal. Enabling and disabling zones, pods, clusters and hosts, host tags and capacity
 * are plain data-service calls the API makes itself.
 */

export const FABRIC_ADMIN_SERVICE = 'fabric-admin';
export const FABRIC_ADMIN_PATH = '/fabric-admin';

/** URL scheme of addHost for a compute node: `cloudstackd://<node-name>`. */
export const NODE_URL_SCHEME = 'cloudstackd:';

const id = () => t.string({ minLength: 1, maxLength: 255 });

export const AdmitRequestSchema = t.object({
  /** The compute node's host name (its --node-name). */
  hostName: t.string({ minLength: 1, maxLength: 128 }),
  /** Where to put it (ids); absent: what the node asked for (--zone/--pod/--cluster), else the zone's first cluster. */
  zoneid: t.optional(id()),
  podid: t.optional(id()),
  clusterid: t.optional(id()),
  /** Comma-separated host tags for a new host. */
  hosttags: t.optional(t.string({ maxLength: 4096 })),
});
export type AdmitRequest = Infer<typeof AdmitRequestSchema>;

export const JobReplySchema = t.object({ jobid: t.string() });

export const FabricAdminProtocol = defineProtocol(FABRIC_ADMIN_SERVICE, '1.0', {
  /**
   * Admits a discovered compute node as a host (a host of that name is reused). Reply: the host as
   * listHosts shows it. NoInstanceError when no live node serves that host name.
   */
  admit: ask(AdmitRequestSchema, t.type<Record<string, unknown>>()),
  /**
   * prepareHostForMaintenance: PrepareForMaintenance at once, then a job migrates the running VMs
   * away and ends with the host in Maintenance (ErrorInMaintenance when some VM could not move).
   */
  prepareMaintenance: ask(t.object({ hostid: id(), caller: CallerSchema }), JobReplySchema),
  /** cancelHostMaintenance: back to Enabled, as a (short) job. */
  cancelMaintenance: ask(t.object({ hostid: id(), caller: CallerSchema }), JobReplySchema),
  /**
   * deleteHost: a host without running VMs is removed; with `forced`, a host that still has some is
   * fenced and its VMs go through HA first. ResourceInUseError otherwise.
   */
  deleteHost: ask(t.object({ hostid: id(), forced: t.boolean() }), t.object({ success: t.boolean() })),
  /** Host names of the compute agents discovered and whether each is admitted. */
  discovered: ask(t.object({}), t.object({ hosts: t.array(t.object({ hostName: t.string(), admitted: t.boolean() })) })),
});

export type FabricAdminProtocolType = typeof FabricAdminProtocol;
