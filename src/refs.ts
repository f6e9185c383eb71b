import type { ActorRef, AskOptions } from './actor-types.js';
import type { ActorCell } from './actor-cell.js';
import { DeadLetterError } from './errors.js';
import type { Protocol } from './protocol.js';

/** What refs call into; implemented by ActorSystem. */
export interface RefHost {
  readonly nodeId: string;
  readonly strict: boolean;
  lookup(path: string): ActorCell | undefined;
  localAsk(cell: ActorCell, type: string, body: unknown, options: AskOptions | undefined, sender: ActorCell | undefined): Promise<unknown>;
  localTell(cell: ActorCell, type: string, body: unknown, sender: ActorCell | undefined): Promise<void> | undefined;
  remoteAsk(ref: ActorRef, type: string, body: unknown, options: AskOptions | undefined, sender: ActorCell | undefined): Promise<unknown>;
  remoteTell(ref: ActorRef, type: string, body: unknown, sender: ActorCell | undefined): void;
  deadLetter(type: string, to: string, reason: string): void;
}

/** A ref to an actor in this node: resolves its cell once and re-resolves only after it stops. */
export class LocalRef<P extends Protocol> implements ActorRef<P> {
  private cell: ActorCell | undefined;

  constructor(private readonly host: RefHost, readonly path: string, readonly protocol: P) {}

  get node(): string {
    return this.host.nodeId;
  }

  resolve(): ActorCell | undefined {
    if (this.cell === undefined || !this.cell.alive) this.cell = this.host.lookup(this.path);
    return this.cell;
  }

  tell(type: string, body: unknown): void {
    this.tellFrom(type, body, undefined);
  }

  tellFrom(type: string, body: unknown, sender: ActorCell | undefined): Promise<void> | undefined {
    const cell = this.resolve();
    if (cell === undefined) {
      this.host.deadLetter(type, this.path, 'no such actor');
      return undefined;
    }
    return this.host.localTell(cell, type, body, sender);
  }

  async send(type: string, body: unknown): Promise<void> {
    await this.tellFrom(type, body, undefined);
  }

  ask(type: string, body: unknown, options?: AskOptions): Promise<never> {
    return this.askFrom(type, body, options, undefined) as Promise<never>;
  }

  askFrom(type: string, body: unknown, options: AskOptions | undefined, sender: ActorCell | undefined): Promise<unknown> {
    const cell = this.resolve();
    if (cell === undefined) {
      this.host.deadLetter(type, this.path, 'no such actor');
      return Promise.reject(new DeadLetterError(`no actor at ${this.path} on node ${this.host.nodeId}`));
    }
    return this.host.localAsk(cell, type, body, options, sender);
  }
}

/** A ref to an actor on another node: every message becomes an envelope handed to the transport. */
export class RemoteRef<P extends Protocol> implements ActorRef<P> {
  constructor(private readonly host: RefHost, readonly node: string, readonly path: string, readonly protocol: P) {}

  tell(type: string, body: unknown): void {
    this.host.remoteTell(this as ActorRef, type, body, undefined);
  }

  async send(type: string, body: unknown): Promise<void> {
    this.host.remoteTell(this as ActorRef, type, body, undefined);
  }

  ask(type: string, body: unknown, options?: AskOptions): Promise<never> {
    return this.host.remoteAsk(this as ActorRef, type, body, options, undefined) as Promise<never>;
  }
}
