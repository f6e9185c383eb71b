/**
 * What the command line means for each component of a node: the one place where CLI flags become
 * component options. The components' own timing profiles follow --heartbeat-profile.
 */
import { join } from 'node:path';
import type { SimulatedHostConfig } from '../actors/compute/start-agents.js';
import { KVM_DEFAULTS, type KvmDriverConfig } from '../actors/compute/kvm/kvm-config.js';
import type { LauncherComponentOptions } from '../actors/launcher/component.js';
import type { PostgresOptions } from '../actors/data/store/sql/postgres-connection.js';
import type { CliConfig } from './cli-options.js';
import { labHosts } from './lab.js';

/** This process's own host (a compute node on a hypervisor host), from --node-name and the capacity flags. */
export function hostOf(config: CliConfig): SimulatedHostConfig {
  return { name: config.nodeName, zone: config.zone ?? '', pod: config.pod ?? '', cluster: config.cluster ?? '',
    cpuCores: config.cpuCores, cpuSpeedMhz: config.cpuSpeed, memoryMiB: config.memory };
}

/**
 * A node that runs compute beside the data service (`--role=all` over ws/redis) is a lab others can
 * join: its database is seeded with --hosts simulator hosts, which its own compute component runs. A
 * compute node on its own is one hypervisor host, named by --node-name.
 */
/** What a launcher's children share with it: the cluster (transport, name, secret), the profile and log level. */
export function childArgsOf(config: CliConfig): string[] {
  return ['--transport', config.transport, '--cluster-name', config.clusterName, '--heartbeat-profile', config.heartbeatProfile,
    '--log-level', config.logLevel, '--log-format', config.logFormat,
    ...(config.clusterSecretFile === undefined ? [] : ['--cluster-secret-file', config.clusterSecretFile]),
    ...(config.redisUrl === undefined ? [] : ['--redis-url', config.redisUrl]),
    // With metrics on here, every child serves them too, each on a port of its own.
    ...(config.metricsPort === undefined ? [] : ['--metrics-port', '0', '--metrics-host', config.metricsHost])];
}

/** The launcher of a node: children run this same entry point, under <data dir>/launched. */
export function launcherOptionsOf(config: CliConfig, cli: string): LauncherComponentOptions {
  return { cli, baseArgs: childArgsOf(config), listenHost: config.listen.host, dir: join(config.dataDir, 'launched'),
    labels: config.labels, capacity: config.launcherCapacity };
}

export function optionsFromCli(config: CliConfig): (name: string) => unknown {
  const withData = config.roles.includes('data');
  const labLike = withData && config.roles.includes('compute');
  const table: Record<string, unknown> = {
    data: { dataDir: config.dataDir, ...(config.databaseUrl === undefined ? {} : { postgres: postgresOf(config, config.databaseUrl), poolSize: config.databasePoolSize }),
      seed: labLike ? { kind: 'lab', hosts: config.hosts } : { kind: 'cloud' } },
    api: { host: config.bind, port: config.port },
    compute: {
      hosts: labLike ? labHosts(config.hosts) : [hostOf(config)],
      // With the monitor in this process a stall stops both alike: nothing to fence against.
      selfFence: !config.roles.includes('fabric-monitor'),
      ...(config.hypervisor === 'kvm' ? { kvm: kvmConfig(config) } : {}),
    },
    launcher: launcherOptionsOf(config, process.argv[1] ?? ''),
    'service-framework': { restart: {
      ...(config.restartMaxFailures === undefined ? {} : { maxFailures: config.restartMaxFailures }),
      ...(config.restartWindowMs === undefined ? {} : { windowMs: config.restartWindowMs }),
    } },
  };
  return (name) => table[name] ?? {};
}

/** The PostgreSQL connection of the data component from --database-url and --database-unavailable-retry. */
function postgresOf(config: CliConfig, url: string): PostgresOptions {
  return { url, ...(config.databaseUnavailableRetryMs === undefined ? {} : { unavailableRetryMs: config.databaseUnavailableRetryMs }) };
}

/** The libvirt driver's settings from --libvirt-uri, --kvm-*; console logs and DHCP state under --data-dir. */
export function kvmConfig(config: CliConfig): KvmDriverConfig {
  const k = config.kvm;
  return { ...KVM_DEFAULTS, ...(k === undefined ? {} : { uri: k.uri, acceleration: k.acceleration, maxGuests: k.maxGuests, stopTimeoutMs: k.stopTimeoutMs }),
    storageDir: k?.storageDir ?? join(config.dataDir, 'primary'), dataDir: config.dataDir,
    ...(k?.underlay === undefined ? {} : { underlay: k.underlay }), ...(k?.netns === undefined ? {} : { netns: k.netns }) };
}
