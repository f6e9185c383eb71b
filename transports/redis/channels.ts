/**
 * Channel and key names. Everything a cluster uses lives under `<prefix>:<cluster>:`, so an ACL user can
 * be confined to one cluster (`&prefix:cluster:*`, `~prefix:cluster:*`) and two clusters on one Redis
 * never share a name. The cluster name cannot contain ':', so one cluster's names never fall inside
 * another's namespace; node ids go last and may contain anything.
 */
export interface ClusterNames {
  /** The namespace of the cluster, e.g. `cloudstackd:prod:`. */
  readonly base: string;
  /** Pub/sub channel every node listens on: heartbeats, leave notices, broadcast envelopes. */
  readonly broadcast: string;
  /** Consumer group of the durable lane (one per node stream). */
  readonly group: string;
  /** Pub/sub channel of one node. */
  node(nodeId: string): string;
  /** Redis Stream holding the durable envelopes addressed to one node. */
  stream(nodeId: string): string;
}

export function clusterNames(keyPrefix: string, clusterName: string): ClusterNames {
  const base = `${keyPrefix}:${clusterName}:`;
  return {
    base,
    broadcast: `${base}broadcast`,
    group: 'durable',
    node: (nodeId) => `${base}node:${nodeId}`,
    stream: (nodeId) => `${base}stream:${nodeId}`,
  };
}
