/**
 * The launcher component: offers this node to the service framework. It starts and stops local
 * `cloudstackd --role=<component>` processes, which join the cluster through this node, and advertises
 * the node's labels and free capacity in its member metadata (`label:<l>` = 1, `launcher.free`,
 * `launcher.capacity`), so the framework can place services without asking every launcher first.
 *
 * No orphans: stopping the launcher stops its children (the service framework first, so it restarts
 * nothing meanwhile, and data last, which the others call while they stop); if the launcher is killed
 * outright its children see their IPC channel close and
 * stop themselves (bin/parent-watch.ts). Nothing adopts them: the framework starts replacements.
 */
import { join } from 'node:path';
import type { ComponentDescriptor } from '../../src/component.js';
import { ConfigError } from '../../src/errors.js';
import { RESTART_DEFAULTS } from '../../src/restart-backoff.js';
import { ChildTable, type Spawn } from './children.js';
import { launcherActor } from './launcher-actor.js';
import { LAUNCHER_PATH, LauncherProtocol } from './protocol.js';

export interface LauncherComponentOptions {
  /** The cloudstackd entry point children run. Required. */
  readonly cli?: string;
  /**
   * Arguments every child gets (transport, cluster name and secret, profile, log level). The launcher
   * adds `--join <this node>` on ws (children join the cluster through it) and `--listen <host>:0`.
   */
  readonly baseArgs?: readonly string[];
  /** Host children listen on (ws). Default 127.0.0.1. */
  readonly listenHost?: string;
  /** Where children's data directories and logs go. Default `./data/launched`. */
  readonly dir?: string;
  /** Labels of this node, matched by placement rules (e.g. `zone=a`, `ssd`). Default none. */
  readonly labels?: readonly string[];
  /** Most live children. Default 32: each is a Node process of 60-100 MB. */
  readonly capacity?: number;
  /** How long a child has to stop after SIGTERM before SIGKILL, ms. Default 10 s (a clean stop takes well under one). */
  readonly stopGraceMs?: number;
  /** Most exited and stopped instances remembered for reports. Default 256. */
  readonly maxRemembered?: number;
  /** Replaces child_process.spawn (tests). */
  readonly spawn?: Spawn;
}

export interface LauncherHandle {
  readonly table: ChildTable;
}

/** Roles stopped before the others when a launcher stops: those that would start replacements. */
const STOP_FIRST = ['service-framework'];
/**
 * Roles the launcher restarts itself (backoff, crash-loop limit as the framework's): the data service
 * on SQLite lives on this node, and the framework needs it to act at all (its lease, its deployment).
 */
const SUPERVISED = ['data'];
/** Roles stopped after the others: the data service, which the others call while they stop (leases released). */
const STOP_LAST = ['data'];

export const launcherComponent: ComponentDescriptor<LauncherComponentOptions, LauncherHandle> = {
  name: 'launcher',
  summary: 'starts and stops local component processes for the service framework; advertises labels and free capacity',
  provides: [LauncherProtocol],
  needs: [],
  instances: 'many',
  async start({ system, services, options, clock, log, transport }) {
    if (options.cli === undefined) throw new ConfigError('the launcher needs the cloudstackd entry point its children run (option cli)');
    const capacity = options.capacity ?? 32;
    const labels = options.labels ?? [];
    if (!(capacity >= 1)) throw new ConfigError(`launcher capacity must be at least 1, got ${capacity}`);
    const bad = labels.find((l) => !/^[A-Za-z0-9._=:/-]{1,100}$/.test(l));
    if (bad !== undefined) throw new ConfigError(`launcher label "${bad}" must be 1-100 letters, digits or . _ = : / -`);
    const address = transport?.kind === 'ws' ? transport.address()?.replace(/^ws:\/\//, '') : undefined;
    const baseArgs = [...(options.baseArgs ?? []), '--listen', `${options.listenHost ?? '127.0.0.1'}:0`,
      ...(address === undefined ? [] : ['--join', address])];
    const table = new ChildTable({ cli: options.cli, baseArgs, dir: options.dir ?? join('data', 'launched'), capacity,
      supervise: SUPERVISED, restart: RESTART_DEFAULTS,
      stopGraceMs: options.stopGraceMs ?? 10_000, maxRemembered: options.maxRemembered ?? 256, clock, log,
      ...(options.spawn === undefined ? {} : { spawn: options.spawn }) });
    let advertised = '';
    const advertise = (): void => {
      const load: Record<string, number> = { 'launcher.capacity': capacity, 'launcher.free': Math.max(0, capacity - table.live()) };
      for (const l of labels) load[`label:${l}`] = 1;
      // Every metadata update is gossiped to the whole cluster: only a change is worth one.
      const key = JSON.stringify(load);
      if (key === advertised) return;
      advertised = key;
      services.setLoad(load);
    };
    system.spawn(LAUNCHER_PATH, launcherActor({ node: system.nodeId, labels, capacity, table, changed: advertise }));
    advertise();
    // Exits change free capacity too; a slow refresh is enough (placement asks the launcher anyway).
    const refresh = clock.setInterval(advertise, 5_000);
    services.publish(LauncherProtocol);
    return {
      handle: { table },
      async stop() {
        refresh.cancel();
        services.withdraw(LauncherProtocol);
        await table.stopAll(STOP_FIRST, STOP_LAST);
        await system.stop(LAUNCHER_PATH);
      },
    };
  },
};
