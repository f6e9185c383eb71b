import { ActorSystem, type ActorSystemOptions } from './actor-system.js';
import type { DedupOptions } from './dedup-cache.js';
import type { Envelope } from './envelope.js';
import { Remoting } from './remoting.js';
import type { Transport } from './transport.js';

export interface NodeOptions extends ActorSystemOptions {
  /** How this node reaches others. Without one the node is standalone (local actors only). */
  transport?: Transport;
  dedup?: DedupOptions;
}

type PeerListener = (nodeId: string, up: boolean, reason: string) => void;

/**
 * A node: one actor system wired to one transport. Envelopes for other nodes go to the transport;
 * envelopes from the transport go through remoting (validation, dedup) into the actors; a lost peer
 * fails the asks pending on it at once.
 */
export class Node {
  readonly system: ActorSystem;
  readonly remoting: Remoting;
  readonly transport: Transport | undefined;
  private readonly peerListeners = new Set<PeerListener>();
  private started = false;

  constructor(options: NodeOptions) {
    this.system = new ActorSystem(options);
    this.remoting = new Remoting(this.system, options.dedup);
    this.transport = options.transport;
    if (this.transport && this.transport.nodeId !== options.nodeId) {
      throw new Error(`transport speaks for node ${this.transport.nodeId}, not ${options.nodeId}`);
    }
  }

  get id(): string {
    return this.system.nodeId;
  }

  async start(): Promise<void> {
    if (this.started || this.transport === undefined) { this.started = true; return; }
    const transport = this.transport;
    this.system.setOutbound((env: Envelope) => transport.send(env.toNode, env));
    await transport.start({
      onEnvelope: (env) => this.remoting.receive(env),
      onPeerUp: (id) => { for (const l of this.peerListeners) l(id, true, 'connected'); },
      onPeerDown: (id, reason) => {
        this.system.nodeDown(id);
        for (const l of this.peerListeners) l(id, false, reason);
      },
      onUndeliverable: (env, err) => this.system.undeliverable(env, err),
    });
    this.started = true;
  }

  /** Called with every peer up/down event from the transport. Returns an unsubscribe function. */
  onPeer(listener: PeerListener): () => void {
    this.peerListeners.add(listener);
    return () => this.peerListeners.delete(listener);
  }

  async stop(): Promise<void> {
    await this.system.shutdown();
    this.system.setOutbound(undefined);
    await this.transport?.stop();
  }
}

export async function startNode(options: NodeOptions): Promise<Node> {
  const node = new Node(options);
  await node.start();
  return node;
}
