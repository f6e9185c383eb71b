import type { Node } from '../node.js';
import { CONTROL_LANE } from '../envelope.js';
import { createMembership, type Membership } from '../gossip/membership.js';
import type { GossipConfig } from '../gossip/config.js';
import type { GossipEnvelope, ServiceInfo } from '../gossip/messages.js';
import type { PeerRef } from '../gossip/sender.js';
import { createServiceRegistry, type ServiceRegistry } from '../registry/index.js';
import type { KeyPage } from '../registry/keyed.js';
import { KEYED_SERVICES_PATH, KeyTable, KeyedServicesProtocol, keyedServicesActor } from './keyed-services.js';
import { StoppedError } from '../errors.js';
import type { Random } from '../random.js';
import { createRandom } from '../random.js';

/** The system message type gossip travels under, on the control lane of the node's transport. */
export const GOSSIP_MESSAGE = '$gossip';
/** A seed "address" that names a node id directly (used where the transport discovers peers itself). */
export const NODE_SEED_PREFIX = 'node:';

export interface GossipNodeOptions {
  roles: string[];
  /** Overrides over the gossip defaults (src/gossip/config.ts); the cluster name is set from `cluster`. */
  config?: Partial<GossipConfig>;
  cluster: string;
  random?: Random;
  /** Process start time in ms: must grow across restarts so a restart supersedes the old incarnation. */
  epoch?: number;
  /** Deadline of one request for another node's keys of a keyed service, ms. Default 5,000. */
  keyFetchTimeoutMs?: number;
  /** Pause before such a request that failed is made again, ms. Default 1,000. */
  keyFetchRetryMs?: number;
}

/**
 * Runs the membership protocol of one node over that node's transport: gossip messages are system
 * envelopes on the control lane (which data traffic cannot starve), a lost connection is early
 * evidence for the failure detector, and peers a transport discovers on its own (Redis heartbeats on
 * the broadcast channel) are joined without seeds. The registry built on it answers "who serves X".
 */
export class GossipNode {
  readonly membership: Membership;
  readonly registry: ServiceRegistry;
  private readonly services = new Map<string, ServiceInfo>();
  private readonly keys = new KeyTable();
  private readonly keyVersions = new Map<string, string>();
  private readonly dirtyKeys = new Set<string>();
  private keysServed = false;
  private readonly unsubscribe: (() => void)[] = [];

  constructor(private readonly node: Node, private readonly options: GossipNodeOptions) {
    const transport = node.transport;
    const address = transport?.address();
    this.membership = createMembership({
      self: { id: node.id, epoch: options.epoch ?? node.system.clock.now(), meta: { roles: options.roles, addresses: address ? [address] : [], services: [], load: {} } },
      config: { ...options.config, cluster: options.cluster },
      clock: node.system.clock,
      random: options.random ?? createRandom(),
      send: (to, env) => this.send(to, env),
    });
    this.registry = createServiceRegistry(this.membership, {
      keyed: { fetch: (n, service, after) => this.fetchKeys(n, service, after), clock: node.system.clock, retryMs: options.keyFetchRetryMs ?? 1_000 },
      onWarning: (message) => node.system.log.warn(`registry: ${message}`),
    });
    // Every member gossip finds is made reachable on the data lane too: a service the registry names
    // must be askable even when no connection to its node was ever made (ws learns addresses, not peers).
    this.unsubscribe.push(this.membership.onChange((e) => {
      const address = e.member.meta.addresses[0];
      if (e.member.id === node.id || address === undefined || transport?.learnAddress === undefined) return;
      if (e.member.status !== 'alive' && e.member.status !== 'suspect') return;
      try { transport.learnAddress(e.member.id, address); } catch { /* an address this transport cannot use */ }
    }));
    node.remoting.onSystem(GOSSIP_MESSAGE, (env) => this.membership.handle(env.fromNode, env.body));
    this.unsubscribe.push(node.onPeer((id, up) => {
      if (!up) this.membership.peerConnectionLost(id);
      else if (this.membership.member(id) === undefined) void this.membership.join([NODE_SEED_PREFIX + id]).catch(() => undefined);
    }));
  }

  /** Starts the protocol and contacts the seeds (ws addresses or `node:<id>`). */
  async join(seeds: readonly string[]): Promise<number> {
    this.membership.start();
    // Peers the transport already knows are contacted too, but need not answer: they may belong to
    // another cluster sharing the medium, and their messages are dropped by the cluster label.
    for (const id of this.node.transport?.peers() ?? []) {
      if (this.membership.member(id) === undefined) void this.membership.join([NODE_SEED_PREFIX + id]).catch(() => undefined);
    }
    return this.membership.join(seeds);
  }

  /** Advertises a service hosted on this node (name like "data" or "compute/host-7"). */
  advertise(name: string, version: string): void {
    this.services.set(name, { name, version });
    this.membership.updateMetadata({ services: [...this.services.values()] });
  }

  withdraw(name: string): void {
    if (this.services.delete(name)) this.membership.updateMetadata({ services: [...this.services.values()] });
  }

  /**
   * Advertises instance `service/<key>` (a compute node's host). Every key of a service shares one
   * metadata entry of constant size, `{ name: service, version, keys: <revision> }`: other nodes read
   * the keys from this node when they follow the service (registry.followKeys). Keys added or removed
   * in the same turn of the event loop are published as one revision.
   */
  advertiseKey(service: string, version: string, key: string): void {
    this.serveKeys();
    this.keys.add(service, key);
    this.keyVersions.set(service, version);
    this.keysChanged(service);
  }

  withdrawKey(service: string, key: string): void {
    if (this.keys.remove(service, key)) this.keysChanged(service);
  }

  /** Replaces every key of `service` at once. */
  advertiseKeys(service: string, version: string, keys: Iterable<string>): void {
    this.serveKeys();
    this.keys.set(service, keys);
    this.keyVersions.set(service, version);
    this.keysChanged(service);
  }

  private serveKeys(): void {
    if (this.keysServed) return;
    this.node.system.spawn(KEYED_SERVICES_PATH, keyedServicesActor(this.keys));
    this.keysServed = true;
  }

  private keysChanged(service: string): void {
    this.dirtyKeys.add(service);
    if (this.dirtyKeys.size === 1) queueMicrotask(() => this.publishKeys());
  }

  /** Publishes the key sets changed this turn: one metadata update, one new revision each. */
  private publishKeys(): void {
    for (const service of this.dirtyKeys) {
      const rev = this.keys.commit(service);
      if (rev === undefined) this.services.delete(service);
      else this.services.set(service, { name: service, version: this.keyVersions.get(service)!, keys: rev });
    }
    this.dirtyKeys.clear();
    try {
      this.membership.updateMetadata({ services: [...this.services.values()] });
    } catch (err) {
      // Stopped meanwhile (a node shutting down withdraws its keys): nothing left to tell anyone.
      if (!(err instanceof StoppedError)) throw err;
    }
  }

  async leave(): Promise<void> {
    for (const u of this.unsubscribe.splice(0)) u();
    await this.membership.leave();
    this.registry.close();
  }

  stop(): void {
    for (const u of this.unsubscribe.splice(0)) u();
    this.membership.stop();
    this.registry.close();
  }

  /** One page of `node`'s keys of `service` (its own are read without a message). */
  private async fetchKeys(node: string, service: string, after: string | undefined): Promise<KeyPage> {
    if (node === this.node.id) return this.keys.page(service, after);
    const ref = this.node.system.ref({ node, path: KEYED_SERVICES_PATH }, KeyedServicesProtocol);
    return ref.ask('keys', after === undefined ? { service } : { service, after }, { timeoutMs: this.options.keyFetchTimeoutMs ?? 5_000 });
  }

  private send(to: PeerRef, env: GossipEnvelope): void {
    const transport = this.node.transport;
    if (transport === undefined) return;
    if (to.node !== null) {
      const address = to.addresses[0];
      if (address !== undefined && !transport.peers().includes(to.node)) transport.learnAddress?.(to.node, address);
      this.deliver(to.node, env);
      return;
    }
    for (const address of to.addresses) {
      if (address.startsWith(NODE_SEED_PREFIX)) { this.deliver(address.slice(NODE_SEED_PREFIX.length), env); continue; }
      if (!transport.dial) continue;
      transport.dial(address).then((id) => { try { this.deliver(id, env); } catch { /* counted by the detector */ } }, () => undefined);
    }
  }

  private deliver(nodeId: string, env: GossipEnvelope): void {
    if (nodeId === this.node.id) return;
    // A send to an unreachable node throws: the failure detector, not this call, decides what that means.
    this.node.system.sendEnvelope({
      kind: 'sys', id: this.node.system.newMessageId(), toNode: nodeId, to: '', fromNode: this.node.id, from: '',
      type: GOSSIP_MESSAGE, body: env, lane: CONTROL_LANE,
    });
  }
}
