import { ActorSystem } from '../../../src/actor-system.js';
import { SimulatedClock } from '../../../src/clock.js';
import { silentLogger } from '../../../src/logger.js';
import { createSeededRandom } from '../../../src/random.js';
import type { MockConfig, VmSpec } from '../../../actors/compute/protocol.js';
import { SimulatorDriver, type SimulatorDriverOptions } from '../../../actors/compute/simulator-driver.js';
import type { SimulatedHostConfig } from '../../../actors/compute/start-agents.js';

/** Lets promise chains and setImmediate callbacks run (simulated time does not move). */
export async function flush(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}

/** Advances simulated time in steps, letting async work run before and after each. */
export async function advance(clock: SimulatedClock, ms: number, stepMs = ms): Promise<void> {
  await flush();
  for (let done = 0; done < ms; done += stepMs) {
    clock.advance(Math.min(stepMs, ms - done));
    await flush();
  }
}

export function vmSpec(n: number, over: Partial<VmSpec> = {}): VmSpec {
  const hex = n.toString(16).padStart(2, '0').slice(-2);
  return {
    uuid: `vm-${n}`, name: `i-2-${n}-VM`, cpuCores: 1, cpuSpeedMhz: 500, memoryMiB: 512,
    nics: [{ deviceId: 0, mac: `02:00:00:00:00:${hex}`, ip: `10.1.1.${n % 250 + 2}`, isDefault: true, broadcastUri: 'vlan://100' }],
    volumes: [{ uuid: `vol-${n}`, deviceId: 0, type: 'ROOT', sizeBytes: 2 * 1024 ** 3, isNew: true }],
    ...over,
  };
}

export function hostConfig(i: number, over: Partial<SimulatedHostConfig> = {}): SimulatedHostConfig {
  return { name: `sim-h${i}`, uuid: `host-uuid-${i}`, zone: 'z1', pod: 'p1', cluster: `c${i % 2}`, cpuCores: 4, cpuSpeedMhz: 2000, memoryMiB: 8192, ...over };
}

export function mock(id: string, name: string, value: string, over: Partial<MockConfig> = {}): MockConfig {
  return { id, name, value, revision: 1, ...over };
}

export function simDriver(clock: SimulatedClock, over: Partial<SimulatorDriverOptions> = {}): SimulatorDriver {
  return new SimulatorDriver({
    host: { hostName: 'sim-h1', hostUuid: 'host-uuid-1', zone: 'z1', pod: 'p1', cluster: 'c1' },
    capacity: { cpuCores: 4, cpuSpeedMhz: 2000, memoryMiB: 8192 },
    clock, random: createSeededRandom(7), latency: { minMs: 0, maxMs: 0 },
    ...over,
  });
}

export function strictSystem(clock: SimulatedClock, nodeId = 'n1'): ActorSystem {
  return new ActorSystem({ nodeId, clock, logger: silentLogger, strict: true, askTimeoutMs: 5_000 });
}

/** Settles a promise into a value or the error, for assertions on rejections. */
export function outcome<T>(p: Promise<T>): Promise<T | Error> {
  return p.then((v) => v, (e: unknown) => e as Error);
}
