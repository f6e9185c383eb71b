import type { ActorCell } from './actor-cell.js';
import type { Address } from './actor-types.js';
import type { Envelope } from './envelope.js';

/** The system operations the watch registry needs. */
export interface WatchHost {
  readonly nodeId: string;
  lookup(path: string): ActorCell | undefined;
  newMessageId(): string;
  sendEnvelope(env: Envelope): void;
}

export const SYS_WATCH = '$watch';
export const SYS_UNWATCH = '$unwatch';
export const SYS_TERMINATED = '$terminated';

/**
 * Who watches whom. Local targets keep their watchers on the cell; remote targets are watched by
 * asking the remote node to send `$terminated` when the actor stops, and every watch on a node fires
 * when that node is lost.
 */
export class WatchRegistry {
  /** node → path → local watchers of that remote actor. */
  private readonly remoteTargets = new Map<string, Map<string, Set<ActorCell>>>();
  /** local path → nodes that watch it. */
  private readonly remoteWatchers = new Map<string, Set<string>>();

  constructor(private readonly host: WatchHost) {}

  watch(watcher: ActorCell, target: Address): void {
    if (target.node === this.host.nodeId) {
      const cell = this.host.lookup(target.path);
      if (cell === undefined || !cell.alive) watcher.notifyTerminated(target);
      else cell.watchers.add(watcher);
      return;
    }
    let paths = this.remoteTargets.get(target.node);
    if (paths === undefined) { paths = new Map(); this.remoteTargets.set(target.node, paths); }
    let set = paths.get(target.path);
    if (set === undefined) {
      set = new Set();
      paths.set(target.path, set);
      this.sys(target.node, SYS_WATCH, target.path);
    }
    set.add(watcher);
  }

  unwatch(watcher: ActorCell, target: Address): void {
    if (target.node === this.host.nodeId) {
      this.host.lookup(target.path)?.watchers.delete(watcher);
      return;
    }
    const set = this.remoteTargets.get(target.node)?.get(target.path);
    if (set === undefined) return;
    set.delete(watcher);
    if (set.size === 0) {
      this.remoteTargets.get(target.node)?.delete(target.path);
      this.sys(target.node, SYS_UNWATCH, target.path);
    }
  }

  /** A remote node asks to be told when a local actor stops. */
  remoteWatch(node: string, path: string): void {
    const cell = this.host.lookup(path);
    if (cell === undefined || !cell.alive) { this.sys(node, SYS_TERMINATED, path); return; }
    let nodes = this.remoteWatchers.get(path);
    if (nodes === undefined) { nodes = new Set(); this.remoteWatchers.set(path, nodes); }
    nodes.add(node);
  }

  remoteUnwatch(node: string, path: string): void {
    this.remoteWatchers.get(path)?.delete(node);
  }

  /** A remote actor we watch has stopped. */
  remoteTerminated(node: string, path: string): void {
    const set = this.remoteTargets.get(node)?.get(path);
    if (set === undefined) return;
    this.remoteTargets.get(node)?.delete(path);
    for (const w of set) w.notifyTerminated({ node, path });
  }

  /** A local actor stopped: tell remote watchers. */
  localStopped(address: Address): void {
    const nodes = this.remoteWatchers.get(address.path);
    if (nodes === undefined) return;
    this.remoteWatchers.delete(address.path);
    for (const n of nodes) this.sys(n, SYS_TERMINATED, address.path);
  }

  nodeDown(node: string): void {
    const paths = this.remoteTargets.get(node);
    this.remoteTargets.delete(node);
    for (const [path, set] of paths ?? []) for (const w of set) w.notifyTerminated({ node, path });
    for (const nodes of this.remoteWatchers.values()) nodes.delete(node);
  }

  private sys(node: string, type: string, path: string): void {
    try {
      this.host.sendEnvelope({
        kind: 'sys', id: this.host.newMessageId(), toNode: node, to: '', fromNode: this.host.nodeId, from: '',
        type, body: path, lane: 0,
      });
    } catch {
      // The node is unreachable: its nodeDown will fire the watches.
    }
  }
}
