/**
 * What the command line means for each component of a node: the one place where CLI flags become
 * component options. The components' own timing profiles follow --heartbeat-profile.
 */
import type { SimulatedHostConfig } from '../actors/compute/start-agents.js';
import { join } from 'node:path';
import { KVM_DEFAULTS, type KvmDriverConfig } from '../actors/compute/kvm/kvm-config.js';
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
export function optionsFromCli(config: CliConfig): (name: string) => unknown {
  const withData = config.roles.includes('data');
  const labLike = withData && config.roles.includes('compute');
  const table: Record<string, unknown> = {
    data: { dataDir: config.dataDir, seed: labLike ? { kind: 'lab', hosts: config.hosts } : { kind: 'cloud' } },
    api: { host: config.bind, port: config.port },
    compute: {
      hosts: labLike ? labHosts(config.hosts) : [hostOf(config)],
      // With the monitor in this process a stall stops both alike: nothing to fence against.
      selfFence: !config.roles.includes('fabric-monitor'),
      ...(config.hypervisor === 'kvm' ? { kvm: kvmConfig(config) } : {}),
    },
  };
  return (name) => table[name] ?? {};
}

/** The libvirt driver's settings from --libvirt-uri, --kvm-*; console logs and DHCP state under --data-dir. */
export function kvmConfig(config: CliConfig): KvmDriverConfig {
  const k = config.kvm;
  return { ...KVM_DEFAULTS, ...(k === undefined ? {} : { uri: k.uri, acceleration: k.acceleration, maxGuests: k.maxGuests, stopTimeoutMs: k.stopTimeoutMs }),
    storageDir: k?.storageDir ?? join(config.dataDir, 'primary'), dataDir: config.dataDir,
    ...(k?.underlay === undefined ? {} : { underlay: k.underlay }), ...(k?.netns === undefined ? {} : { netns: k.netns }) };
}
