import type { InprocTransport } from './inproc-transport.js';

/**
 * The shared medium of in-process nodes: who is attached, so that nodes can reach each other and see
 * each other come and go. Create one hub per simulated cluster.
 */
export class InprocHub {
  private readonly nodes = new Map<string, InprocTransport>();

  attach(t: InprocTransport): void {
    if (this.nodes.has(t.nodeId)) throw new Error(`node ${t.nodeId} is already attached to this hub`);
    const existing = [...this.nodes.values()];
    this.nodes.set(t.nodeId, t);
    for (const other of existing) {
      other.peerUp(t.nodeId);
      t.peerUp(other.nodeId);
    }
  }

  detach(t: InprocTransport): void {
    if (this.nodes.get(t.nodeId) !== t) return;
    this.nodes.delete(t.nodeId);
    for (const other of this.nodes.values()) other.peerDown(t.nodeId, 'node stopped');
  }

  get(nodeId: string): InprocTransport | undefined {
    return this.nodes.get(nodeId);
  }

  ids(): string[] {
    return [...this.nodes.keys()];
  }
}
