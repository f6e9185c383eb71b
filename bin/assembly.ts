/**
 * The one way components are put together on a node: the chosen roles are started from the component
 * table in dependency order, each with its own options and the node's service directory, and stopped
 * in reverse. The lab, a management node, a single-component process and a compute host all go
 * through here.
 */
import type { ActorSystem } from '../src/actor-system.js';
import type { RunningComponent, ServiceDirectory, TimingProfile } from '../src/component.js';
import { ConfigError } from '../src/errors.js';
import type { Logger } from '../src/logger.js';
import type { Transport } from '../src/transport.js';
import { componentNamed, inStartOrder } from './components.js';

export interface AssemblyEnv {
  readonly system: ActorSystem;
  readonly services: ServiceDirectory;
  readonly transport: Transport | undefined;
  readonly log: Logger;
  readonly profile: TimingProfile;
}

export interface Assembly {
  /** Components running, in start order. */
  readonly names: readonly string[];
  /** What a running component hands out (a database, the agents...), for embedders and tests. */
  handle<H>(name: string): H | undefined;
  /** Services the running components need that no live member serves yet. */
  missingServices(): string[];
  /** Stops every component, last started first. */
  stop(): Promise<void>;
}

/** The services the chosen roles need that none of them provides. */
export function externalNeeds(roles: readonly string[]): string[] {
  const provided = new Set(roles.flatMap((r) => componentNamed(r)?.provides.map((p) => p.name) ?? []));
  return [...new Set(roles.flatMap((r) => componentNamed(r)?.needs ?? []))].filter((n) => !provided.has(n));
}

/**
 * Why these roles cannot run on a node alone (no transport to reach other nodes), or undefined.
 */
export function standaloneProblem(roles: readonly string[]): string | undefined {
  const missing = externalNeeds(roles);
  if (missing.length === 0) return undefined;
  return `--role=${roles.join(',')} needs the ${missing.join(', ')} service${missing.length > 1 ? 's' : ''} of other nodes: ` +
    'run it with --transport ws or redis (and --join or --redis-url) beside nodes that provide them, or add those roles';
}

/**
 * Starts `roles` (any subset, in table order). `optionsOf` gives each component its options. If one
 * fails, those already started are stopped again and the error (naming the component) is thrown.
 */
export async function startAssembly(env: AssemblyEnv, roles: readonly string[], optionsOf: (name: string) => unknown): Promise<Assembly> {
  const started: { name: string; running: RunningComponent }[] = [];
  const stopAll = async (): Promise<void> => {
    for (const s of started.splice(0).reverse()) {
      await s.running.stop().catch((err: unknown) => env.log.warn('component stop failed', { component: s.name, error: String(err) }));
    }
  };
  for (const name of inStartOrder(roles)) {
    const component = componentNamed(name);
    if (component === undefined) throw new ConfigError(`unknown component ${name}`);
    try {
      const running = await component.start({
        system: env.system, services: env.services, transport: env.transport, clock: env.system.clock,
        log: env.log.child({ component: name }), profile: env.profile, options: optionsOf(name) ?? {},
      });
      started.push({ name, running });
    } catch (err) {
      await stopAll();
      // A ConfigError already says what is wrong and what to do; anything else gets the component's name.
      if (err instanceof ConfigError) throw err;
      throw new ConfigError(`cannot start the ${name} component: ${(err as Error).message}`, { cause: err });
    }
  }
  const names = started.map((s) => s.name);
  const needs = [...new Set(names.flatMap((n) => componentNamed(n)?.needs ?? []))];
  let stopping: Promise<void> | undefined;
  return {
    names,
    handle: <H>(name: string) => started.find((s) => s.name === name)?.running.handle as H | undefined,
    missingServices: () => needs.filter((n) => !env.services.has(n)),
    stop: () => (stopping ??= stopAll()),
  };
}

/**
 * Resolves once every service the assembly needs (and `alsoWant`) is served by some live member;
 * calls `waiting` with what is still missing every `reportEveryMs`. Rejects after `timeoutMs`.
 */
export async function waitForServices(services: ServiceDirectory, wanted: readonly string[], o: {
  timeoutMs: number; pollMs?: number; reportEveryMs?: number; waiting?: (missing: string[]) => void;
}): Promise<void> {
  const poll = o.pollMs ?? 5;
  const started = Date.now();
  let reported = started;
  for (;;) {
    const missing = wanted.filter((n) => !services.has(n));
    if (missing.length === 0) return;
    const now = Date.now();
    if (now - started >= o.timeoutMs) {
      throw new ConfigError(`still waiting for the ${missing.join(', ')} service(s) after ${o.timeoutMs} ms: start the nodes that ` +
        'provide them, or check that this node has joined their cluster');
    }
    if (o.waiting !== undefined && now - reported >= (o.reportEveryMs ?? 5_000)) {
      reported = now;
      o.waiting(missing);
    }
    await new Promise((r) => setTimeout(r, poll));
  }
}
