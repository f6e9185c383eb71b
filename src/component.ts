/**
 * The one shape every cloud component has, so that any component runs alone or beside any others in
 * any process, and a launcher can start any of them by name. A component says what it provides and
 * what it needs; `start(env)` gets everything from its environment (never from a global, never by
 * reaching into another component) and gives back a way to stop.
 */
import type { ActorSystem } from './actor-system.js';
import type { Clock } from './clock.js';
import type { ServiceLocator } from './locator.js';
import type { Logger } from './logger.js';
import type { Protocol } from './protocol.js';
import type { ServiceRegistry } from './registry/index.js';
import type { Transport } from './transport.js';

/** Timings a component runs with: its production defaults, or the short ones tests use. */
export type TimingProfile = 'default' | 'test';

/** A live member of the cluster as components see it (listManagementServers, status). */
export interface ClusterMember {
  readonly id: string;
  /** Components the member runs. */
  readonly roles: readonly string[];
  readonly addresses: readonly string[];
  /** When the member's process started, ms since the epoch. */
  readonly startedAt: number;
  readonly status: 'alive' | 'suspect';
  readonly local: boolean;
  /** The member's load figures (see ServiceDirectory.setLoad). */
  readonly load: Readonly<Record<string, number>>;
}

/**
 * How components publish their services and find each other's. There is one implementation, over the
 * gossip registry, used in one process (a registry of one member) as across many.
 */
export interface ServiceDirectory {
  /** Finds other services by name (and keyed instances such as one compute host's agent). */
  readonly locator: ServiceLocator;
  /** The registry under the locator: change events and instance lists (discovery of compute nodes). */
  readonly registry: ServiceRegistry;
  /** Advertises a service hosted on this node, under its protocol's name and version (plus `/instance` when keyed). */
  publish(protocol: Protocol, instance?: string): void;
  withdraw(protocol: Protocol, instance?: string): void;
  /**
   * Replaces this node's load figures in its member metadata (gossiped to every member: a launcher's
   * free capacity and labels, a component's mailbox depth and CPU). Call every few seconds at most.
   */
  setLoad(figures: Readonly<Record<string, number>>): void;
  /** True when some live member (this one included) serves the service. */
  has(service: string): boolean;
  /** The live members of the cluster, this node included. */
  members(): ClusterMember[];
  /** What the membership says of a node now ('unknown' for one never seen). */
  memberStatus(nodeId: string): MemberVerdict;
  /** Called on every membership change; returns the unsubscribe function. */
  onMemberChange(listener: (nodeId: string, status: MemberVerdict) => void): () => void;
}

export type MemberVerdict = 'alive' | 'suspect' | 'dead' | 'left' | 'unknown';

export interface ComponentEnv<O> {
  readonly system: ActorSystem;
  readonly services: ServiceDirectory;
  readonly clock: Clock;
  readonly log: Logger;
  readonly profile: TimingProfile;
  /** The node's transport (absent on a standalone node). */
  readonly transport: Transport | undefined;
  /** This component's own options. */
  readonly options: O;
}

/** A started component. `handle` is what embedders and tests may reach (a database, the agents...). */
export interface RunningComponent<H = unknown> {
  readonly handle?: H;
  stop(): Promise<void>;
}

/**
 * How many instances of a component one cloud may run: `many` (stateless, balanced by the registry),
 * `leased` (many, of which one acts at a time, holding a lease), or `one`.
 */
export type InstancePolicy = 'many' | 'leased' | 'one';

export interface ComponentDescriptor<O = unknown, H = unknown> {
  /** The role name (`--role=<name>`). */
  readonly name: string;
  /** One line on what it does (`--help`, status). */
  readonly summary: string;
  /** The services it publishes. */
  readonly provides: readonly Protocol[];
  /** Services it cannot work without: the node says it is waiting for them until some member serves them. */
  readonly needs: readonly string[];
  readonly instances: InstancePolicy;
  start(env: ComponentEnv<O>): Promise<RunningComponent<H>>;
}

/** The shape the component table holds (options and handles vary per component). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyComponent = ComponentDescriptor<any, any>;
