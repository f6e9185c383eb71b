import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { Command, InvalidArgumentError, Option } from 'commander';
import { LOG_LEVELS, type LogLevel } from '../src/logger.js';
import { standaloneProblem } from './assembly.js';
import { KVM_DEFAULTS } from '../actors/compute/kvm/kvm-config.js';
import { checkDatabaseUrl } from '../actors/data/store/sql/postgres-url.js';
import { ConfigError } from '../src/errors.js';
import { COMPONENT_NAMES, ROLE_SETS } from './components.js';

/** Everything the command line decides, validated once. */
export interface CliConfig {
  roles: string[];
  transport: 'inproc' | 'ws' | 'redis';
  listen: { host: string; port: number };
  join: { host: string; port: number }[];
  redisUrl: string | undefined;
  clusterName: string;
  clusterSecretFile: string | undefined;
  nodeName: string;
  bind: string;
  port: number;
  dataDir: string;
  /** PostgreSQL URL (from --database-url or --database-url-file); undefined: SQLite under dataDir. */
  databaseUrl: string | undefined;
  /** PostgreSQL connections of a data instance (--database-pool-size). */
  databasePoolSize?: number;
  /**
   * data on PostgreSQL: how long a statement keeps retrying while the server is unreachable before the
   * call fails (ResourceUnavailableError), ms; undefined: the store's default (30 s).
   */
  databaseUnavailableRetryMs: number | undefined;
  hosts: number;
  logLevel: LogLevel;
  strict: boolean;
  hypervisor: 'simulator' | 'kvm';
  /** --hypervisor kvm: the libvirt driver's settings (its limits keep KVM_DEFAULTS unless given). */
  kvm?: { uri: string; acceleration: 'kvm' | 'tcg'; storageDir: string | undefined; underlay: string | undefined; netns: string | undefined;
    maxGuests: number; stopTimeoutMs: number };
  cpuCores: number;
  cpuSpeed: number;
  memory: number;
  zone: string | undefined;
  pod: string | undefined;
  cluster: string | undefined;
  joinTimeoutMs: number;
  heartbeatProfile: 'default' | 'test';
  labels: string[];
  launcherCapacity: number;
  /** Serve Prometheus metrics on this port (0: a free one); undefined: off. */
  metricsPort: number | undefined;
  metricsHost: string;
  logFormat: 'text' | 'json';
  /** service-framework: exits within restartWindowMs after which a crashing instance is not restarted. */
  restartMaxFailures: number | undefined;
  restartWindowMs: number | undefined;
}

export { ROLE_SETS };

function int(name: string, min: number, max: number) {
  return (v: string): number => {
    if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`${name} must be a whole number`);
    const n = Number(v);
    if (n < min || n > max) throw new InvalidArgumentError(`${name} must be between ${min} and ${max}`);
    return n;
  };
}

export function parseHostPort(v: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(v.trim());
  if (!m || Number(m[2]) > 65535) throw new InvalidArgumentError(`"${v}" is not host:port`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

/** A role set name, or a comma list of component names and role set names (`management,compute`). */
function roles(v: string): string[] {
  const parts = v.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = parts.filter((p) => !COMPONENT_NAMES.includes(p) && ROLE_SETS[p] === undefined);
  if (parts.length === 0 || bad.length > 0) {
    throw new InvalidArgumentError(`unknown role ${bad.join(', ') || '(empty)'}; use all, management, compute or a comma list of ${COMPONENT_NAMES.join(', ')}`);
  }
  return [...new Set(parts.flatMap((p) => ROLE_SETS[p] ?? [p]))];
}

function oneOf<T extends string>(name: string, values: readonly T[]) {
  return (v: string): T => {
    if (!values.includes(v as T)) throw new InvalidArgumentError(`${name} must be one of ${values.join(', ')}`);
    return v as T;
  };
}

export function buildProgram(): Command {
  return new Command('cloudstackd')
    .description('An Apache CloudStack-compatible cloud control plane. With no options: the all-in-one lab on 127.0.0.1:8080.')
    .addOption(new Option('--role <role>', 'all, management, compute, or a comma list of components').default([...ROLE_SETS.all!], 'all').argParser(roles))
    .addOption(new Option('--transport <kind>', 'how nodes talk: inproc (one process), ws or redis').default('inproc').argParser(oneOf('--transport', ['inproc', 'ws', 'redis'] as const)))
    .addOption(new Option('--listen <host:port>', 'ws: address this node listens on (port 0 picks a free one)').default({ host: '127.0.0.1', port: 7070 }, '127.0.0.1:7070').argParser(parseHostPort))
    .addOption(new Option('--join <host:port,...>', 'ws: seed nodes to join').default([], 'none').argParser((v) => v.split(',').filter(Boolean).map(parseHostPort)))
    .addOption(new Option('--join-timeout <ms>', 'how long to try the seeds before giving up').default(10_000).argParser(int('--join-timeout', 100, 600_000)))
    .addOption(new Option('--redis-url <url>', 'redis: redis:// or rediss:// URL (user and password for AUTH/ACL)'))
    .addOption(new Option('--cluster-name <name>', 'nodes only join nodes of the same cluster name').default('cloudstack'))
    .addOption(new Option('--cluster-secret-file <file>', 'ws/redis: file holding the shared cluster secret (required for ws and redis)'))
    .addOption(new Option('--node-name <name>', 'this node\'s name (a compute node\'s host name in listHosts)').default(hostname(), 'the machine\'s hostname'))
    .addOption(new Option('--bind <address>', 'API: address the HTTP API listens on').default('127.0.0.1'))
    .addOption(new Option('--port <port>', 'API: HTTP port (0 picks a free one)').default(8080).argParser(int('--port', 0, 65535)))
    .addOption(new Option('--data-dir <dir>', 'where the database and credentials.json live').default('./data'))
    .addOption(new Option('--database-url <url>', 'data: PostgreSQL instead of SQLite, postgresql://user@host:port/db[?sslmode=require] (prefer --database-url-file for a password)'))
    .addOption(new Option('--database-url-file <file>', 'data: file holding the PostgreSQL URL, so that its password is not on the command line'))
    .addOption(new Option('--database-pool-size <n>', 'data on PostgreSQL: connections of this data instance').default(4).argParser(int('--database-pool-size', 1, 64)))
    .addOption(new Option('--database-unavailable-retry <ms>', 'data on PostgreSQL: how long a call waits for an unreachable server before it fails (default 30000)').argParser(int('--database-unavailable-retry', 0, 3_600_000)))
    .addOption(new Option('--hosts <n>', 'lab: number of simulated hypervisor hosts').default(4).argParser(int('--hosts', 0, 100_000)))
    .addOption(new Option('--log-level <level>', 'debug, info, warn, error or silent').default('info').argParser(oneOf('--log-level', LOG_LEVELS)))
    .addOption(new Option('--strict', 'encode every local message as if it crossed the wire (debugging)').default(false))
    .addOption(new Option('--hypervisor <kind>', 'compute: hypervisor driver').default('simulator').argParser(oneOf('--hypervisor', ['simulator', 'kvm'] as const)))
    .addOption(new Option('--libvirt-uri <uri>', 'kvm: libvirt connection URI').default(KVM_DEFAULTS.uri))
    .addOption(new Option('--kvm-acceleration <kind>', 'kvm: kvm (hardware) or tcg (software; boots where /dev/kvm is paravirtual)').default(KVM_DEFAULTS.acceleration).argParser(oneOf('--kvm-acceleration', ['kvm', 'tcg'] as const)))
    .addOption(new Option('--kvm-storage-dir <dir>', 'kvm: primary storage directory of this host').default(undefined, '<data-dir>/primary'))
    .addOption(new Option('--kvm-underlay <iface>', 'kvm: interface carrying the VXLAN of guest networks between hosts'))
    .addOption(new Option('--kvm-netns <name>', 'kvm: run bridges and dnsmasq in this network namespace (test hosts)'))
    .addOption(new Option('--kvm-max-guests <n>', 'kvm: most guests this host runs').default(KVM_DEFAULTS.maxGuests).argParser(int('--kvm-max-guests', 1, 10_000)))
    .addOption(new Option('--kvm-stop-timeout <ms>', 'kvm: ACPI shutdown wait before a stop destroys the guest').default(KVM_DEFAULTS.stopTimeoutMs).argParser(int('--kvm-stop-timeout', 0, 3_600_000)))
    .addOption(new Option('--cpu-cores <n>', 'compute: CPU cores this host offers').default(32).argParser(int('--cpu-cores', 1, 4096)))
    .addOption(new Option('--cpu-speed <mhz>', 'compute: speed of one core, MHz').default(2400).argParser(int('--cpu-speed', 100, 100_000)))
    .addOption(new Option('--memory <mib>', 'compute: memory this host offers, MiB').default(131_072).argParser(int('--memory', 128, 1 << 30)))
    .addOption(new Option('--zone <name-or-id>', 'compute: zone to join (default: the first zone)'))
    .addOption(new Option('--pod <name-or-id>', 'compute: pod to join (default: the zone\'s first pod)'))
    .addOption(new Option('--cluster <name-or-id>', 'compute: cluster to join (default: the pod\'s first cluster)'))
    .addOption(new Option('--heartbeat-profile <profile>', 'heartbeat and failure-detection timings: default or test (about 5x faster)').default('default').argParser(oneOf('--heartbeat-profile', ['default', 'test'] as const)))
    .addOption(new Option('--labels <l1,l2,...>', 'launcher: labels of this node that placement rules match (e.g. zone=a,ssd)').default([], 'none').argParser((v) => v.split(',').map((x) => x.trim()).filter(Boolean)))
    .addOption(new Option('--launcher-capacity <n>', 'launcher: most component processes it runs at once').default(32).argParser(int('--launcher-capacity', 1, 10_000)))
    .addOption(new Option('--metrics-port <port>', 'serve Prometheus metrics at /metrics on this port (0 picks a free one; off by default)').argParser(int('--metrics-port', 0, 65535)))
    .addOption(new Option('--log-format <format>', 'text, or json: one object per line with the trace id an API request started').default('text').argParser(oneOf('--log-format', ['text', 'json'] as const)))
    .addOption(new Option('--restart-max-failures <n>', 'service-framework: exits within the window after which an instance is not restarted (default 5)').argParser(int('--restart-max-failures', 1, 1000)))
    .addOption(new Option('--restart-window <ms>', 'service-framework: the window those exits are counted in, ms (default 120000)').argParser(int('--restart-window', 1000, 86_400_000)))
    .addOption(new Option('--metrics-host <address>', 'address the metrics endpoint listens on').default('127.0.0.1'))
    .allowExcessArguments(false)
    .configureHelp({ helpWidth: 140 })
    .showHelpAfterError(false);
}

interface RawOptions {
  role: string[]; transport: CliConfig['transport']; listen: CliConfig['listen']; join: CliConfig['join'];
  joinTimeout: number; redisUrl?: string; clusterName: string; clusterSecretFile?: string; nodeName: string;
  bind: string; port: number; dataDir: string; databaseUrl?: string; databaseUrlFile?: string; databasePoolSize: number; databaseUnavailableRetry?: number; hosts: number; logLevel: LogLevel; strict: boolean;
  hypervisor: 'simulator' | 'kvm'; libvirtUri: string; kvmAcceleration: 'kvm' | 'tcg'; kvmStorageDir?: string; kvmUnderlay?: string;
  kvmNetns?: string; kvmMaxGuests: number; kvmStopTimeout: number; cpuCores: number; cpuSpeed: number; memory: number; zone?: string; pod?: string;
  cluster?: string; heartbeatProfile: 'default' | 'test'; labels: string[]; launcherCapacity: number; metricsPort?: number; metricsHost: string; logFormat: 'text' | 'json'; restartMaxFailures?: number; restartWindow?: number;
}

/** Checks combinations commander cannot; returns the problem in one line, or undefined. */
export function checkCombination(c: CliConfig): string | undefined {
  if (c.transport === 'inproc') {
    const problem = standaloneProblem(c.roles);
    if (problem !== undefined) return problem;
    if (!c.roles.includes('api') && c.roles.some((r) => r !== 'echo')) {
      return `--role=${c.roles.join(',')} on the in-process transport could serve nobody (no API in the process, no other node can ` +
        'reach it): give it --transport ws or redis, or add the api role';
    }
  }
  if (c.transport !== 'inproc' && c.clusterSecretFile === undefined) {
    return `--transport ${c.transport} needs --cluster-secret-file: nodes prove they belong to the cluster with that secret`;
  }
  if (c.transport === 'redis' && c.redisUrl === undefined) return '--transport redis needs --redis-url';
  if (c.hypervisor === 'kvm' && !c.roles.includes('compute')) return '--hypervisor kvm applies to a compute node: add --role=compute';
  if (c.hypervisor === 'kvm' && c.roles.includes('data')) return '--hypervisor kvm runs one real host: start it as --role=compute and join the management node';
  if (c.databaseUrl !== undefined && !c.roles.includes('data')) return '--database-url applies to the data component: add --role=data (or all, management)';
  if (c.databaseUnavailableRetryMs !== undefined && c.databaseUrl === undefined) return '--database-unavailable-retry applies to PostgreSQL: add --database-url';
  if (c.redisUrl !== undefined && !/^rediss?:\/\//.test(c.redisUrl)) return '--redis-url must start with redis:// or rediss://';
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(c.clusterName)) return '--cluster-name must be 1-64 letters, digits, dots, dashes or underscores';
  if (!/^[A-Za-z0-9._-]{1,128}$/.test(c.nodeName)) return '--node-name must be 1-128 letters, digits, dots, dashes or underscores';
  return undefined;
}

/**
 * The PostgreSQL URL from --database-url or the first line of --database-url-file (not both). Exits
 * with a usage error through the ConfigError when the file cannot be read or the URL is malformed.
 */
function databaseUrlOf(o: RawOptions): string | undefined {
  if (o.databaseUrl !== undefined && o.databaseUrlFile !== undefined) {
    throw new ConfigError('give --database-url or --database-url-file, not both');
  }
  if (o.databaseUrl !== undefined) return checkDatabaseUrl(o.databaseUrl);
  if (o.databaseUrlFile === undefined) return undefined;
  return databaseUrlFromFile(o.databaseUrlFile, '--database-url-file');
}

/**
 * The PostgreSQL URL on the first line of `file` that is neither blank nor a # comment, checked;
 * `option` names the option in errors. Keeps a password off the command line (and out of `ps`).
 */
export function databaseUrlFromFile(file: string, option: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${option}: cannot read ${file}: ${(err as Error).message}`);
  }
  const url = text.split('\n').map((l) => l.trim()).find((l) => l !== '' && !l.startsWith('#'));
  if (url === undefined) throw new ConfigError(`${option}: ${file} holds no URL`);
  return checkDatabaseUrl(url, option);
}

export function toConfig(o: RawOptions): CliConfig {
  return {
    roles: o.role, transport: o.transport, listen: o.listen, join: o.join, joinTimeoutMs: o.joinTimeout,
    redisUrl: o.redisUrl, clusterName: o.clusterName, clusterSecretFile: o.clusterSecretFile, nodeName: o.nodeName,
    bind: o.bind, port: o.port, dataDir: o.dataDir, databaseUrl: databaseUrlOf(o), databasePoolSize: o.databasePoolSize, databaseUnavailableRetryMs: o.databaseUnavailableRetry, hosts: o.hosts, logLevel: o.logLevel, strict: o.strict,
    hypervisor: o.hypervisor, cpuCores: o.cpuCores,
    kvm: { uri: o.libvirtUri, acceleration: o.kvmAcceleration, storageDir: o.kvmStorageDir, underlay: o.kvmUnderlay, netns: o.kvmNetns,
      maxGuests: o.kvmMaxGuests, stopTimeoutMs: o.kvmStopTimeout }, cpuSpeed: o.cpuSpeed, memory: o.memory, zone: o.zone, pod: o.pod,
    cluster: o.cluster, heartbeatProfile: o.heartbeatProfile, labels: o.labels, launcherCapacity: o.launcherCapacity,
    metricsPort: o.metricsPort, metricsHost: o.metricsHost, logFormat: o.logFormat,
    restartMaxFailures: o.restartMaxFailures, restartWindowMs: o.restartWindow,
  };
}

/** Parses argv; on a bad option prints one line to stderr and exits 2. */
export function parseCli(argv: string[]): CliConfig {
  const program = buildProgram();
  program.exitOverride();
  program.configureOutput({ writeErr: () => undefined });
  try {
    program.parse(argv);
  } catch (err) {
    const e = err as { code?: string; exitCode?: number; message?: string };
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') process.exit(0);
    process.stderr.write(`cloudstackd: ${String(e.message ?? err).replace(/^error: /, '').split('\n')[0]}\n`);
    process.exit(2);
  }
  let config: CliConfig;
  try {
    config = toConfig(program.opts<RawOptions>());
  } catch (err) {
    process.stderr.write(`cloudstackd: ${(err as Error).message}\n`);
    process.exit(2);
  }
  const problem = checkCombination(config);
  if (problem !== undefined) {
    process.stderr.write(`cloudstackd: ${problem}\n`);
    process.exit(2);
  }
  return config;
}
