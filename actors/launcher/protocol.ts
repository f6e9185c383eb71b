import { ask, defineProtocol } from '../../src/protocol.js';
import { t, type Infer } from '../../src/schema.js';

/**
 * The launcher: one per node that offers itself to the service framework. It starts and stops local
 * `cloudstackd --role=<component>` child processes and reports them. The framework (or `up`) decides
 * what runs where; a launcher only does what it is told and says what it sees.
 */

/** Where a launched process is: starting (no ready line yet), running, exited (on its own), stopped (told to). */
export const INSTANCE_STATES = ['starting', 'running', 'exited', 'stopped'] as const;
export type InstanceState = (typeof INSTANCE_STATES)[number];

export const InstanceInfoSchema = t.object({
  /** The instance id, also the child's --node-name (e.g. `api-2`). */
  instance: t.string({ maxLength: 128 }),
  role: t.string({ maxLength: 256 }),
  pid: t.number(),
  state: t.string({ maxLength: 16 }),
  /** Times this instance was started again after it exited. */
  restarts: t.number(),
  /** When the current (or last) process started, ms since the epoch. */
  startedAt: t.number(),
  exitedAt: t.optional(t.number()),
  exitCode: t.optional(t.number()),
  /** The API endpoint the child printed (api instances). */
  endpoint: t.optional(t.string({ maxLength: 512 })),
  /** The Prometheus endpoint the child printed (with metrics on). */
  metrics: t.optional(t.string({ maxLength: 512 })),
  /** The credentials file the child printed (data instances). */
  credentials: t.optional(t.string({ maxLength: 4096 })),
  /** The last line the child wrote to stderr before it exited (why it failed). */
  lastError: t.optional(t.string({ maxLength: 1024 })),
});
export type InstanceInfo = Infer<typeof InstanceInfoSchema>;

export const LauncherReportSchema = t.object({
  node: t.string({ maxLength: 128 }),
  labels: t.array(t.string({ maxLength: 128 }), { maxItems: 64 }),
  /** Most live children this launcher runs. */
  capacity: t.number(),
  /** capacity minus the live children. */
  free: t.number(),
  instances: t.array(InstanceInfoSchema, { maxItems: 4096 }),
});
export type LauncherReport = Infer<typeof LauncherReportSchema>;

export const LauncherProtocol = defineProtocol('launcher', '1.0', {
  /**
   * Starts `instance` as `cloudstackd --role=<role> <args>`, or again when it exited or was stopped.
   * An instance already starting or running is left alone and reported (no duplicate process).
   */
  launch: ask(t.object({ instance: t.string({ maxLength: 128, pattern: /^[A-Za-z0-9._-]+$/ }), role: t.string({ maxLength: 256 }),
    args: t.array(t.string({ maxLength: 1024 }), { maxItems: 64 }) }), InstanceInfoSchema),
  /** Stops an instance (SIGTERM, then SIGKILL after the grace time) and forgets it. False when unknown. */
  stop: ask(t.object({ instance: t.string({ maxLength: 128 }) }), t.boolean()),
  /** Every instance this launcher knows, with the node's labels and free capacity. */
  list: ask(t.object({}), LauncherReportSchema),
});

export const LAUNCHER_PATH = '/launcher';
