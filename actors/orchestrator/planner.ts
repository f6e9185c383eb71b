import { InsufficientCapacityError, ResourceUnavailableError } from '../../src/errors.js';
import { shuffle } from '../../src/random.js';
import type { HostPickQuery } from '../data/protocol.js';
import type { Components } from './components.js';
import { SYSTEM } from './vm-state.js';

const MIB = 1024 * 1024;

/** What placement needs of a VM: its zone and size (a VM record, or a start's lean view of one). */
export interface PlannedVm {
  id: string;
  instancename: string;
  zoneid: string;
  zonename: string;
  cpunumber: number;
  /** MHz. */
  cpuspeed: number;
  /** MiB. */
  memory: number;
  hypervisor?: string;
}

/** Where a VM was placed: the host it holds capacity on. */
export interface Placement {
  hostid: string;
  hostname: string;
  clusterid?: string;
}

export type AllocationAlgorithm = 'random' | 'firstfit' | 'firstfitleastconsumed';

export interface PlanConstraints {
  /** Hosts that failed this start already. */
  avoid: readonly string[];
  /** Only hosts of this cluster (the VM's volumes sit on a pool of it, or an admin chose it). */
  clusterid?: string;
  /** Only hosts of this pod (an admin's choice). */
  podid?: string;
  /** A host tag every candidate must carry (the service offering's host tags). */
  hosttag?: string;
  /** An admin's explicit choice of host. */
  hostid?: string;
}

interface Settings {
  algorithm: AllocationAlgorithm;
  startAttempts: number;
  at: number;
}

/**
 * The deployment planner's host allocator: candidates are Up + Enabled hosts (in enabled pods and
 * clusters) with room for the VM after over-provisioning, carrying the offering's host tag and not in
 * the avoid set, ordered by `vm.allocation.algorithm` (random — CloudStack's default —, firstfit, or
 * firstfitleastconsumed; random scans from a random host on). The first candidate whose capacity can still be reserved (an atomic
 * compare-and-add in the data service) wins: concurrent deploys never over-commit a host.
 */
export class Planner {
  constructor(private readonly c: Components, private readonly cache: { settings?: Settings } = {}) {}

  /** The same planner (sharing its settings cache) over other components: a job's fenced ones. */
  for(c: Components): Planner {
    return new Planner(c, this.cache);
  }

  /** Cloud-wide settings, cached for configRefreshMs. */
  async config(): Promise<Settings> {
    const now = this.c.clock.now();
    const s = this.cache.settings;
    if (s !== undefined && now - s.at < this.c.config.configRefreshMs) return s;
    const [algo, retries] = await Promise.all([this.c.data.config.get('vm.allocation.algorithm'), this.c.data.config.number('start.retry', 10)]);
    const algorithm: AllocationAlgorithm = algo === 'firstfit' || algo === 'firstfitleastconsumed' ? algo : 'random';
    this.cache.settings = { algorithm, startAttempts: Math.max(1, Math.floor(retries)), at: now };
    return this.cache.settings;
  }

  /**
   * Reserves the VM's size on a host and returns it. Any reservation the VM still holds is released
   * first: under the VM's lock, in Starting, a reservation that is not in the job's journal is a
   * leftover of an interrupted step. InsufficientCapacityError (533) when no host fits.
   */
  async reserveForStart(vm: PlannedVm, k: PlanConstraints): Promise<Placement> {
    if (k.hostid === undefined) {
      // The release, the candidate query and the reservation in one data operation (one round trip).
      const query = await this.query(vm, k);
      // 'random' also spreads the first choice over the candidates (see reserveHostForStart's `spread`).
      const placed = await this.c.ops.reserveHostForStart(query.order === 'random' ? { vmid: vm.id, query, spread: this.c.random.next() }
        : { vmid: vm.id, query });
      if (placed.host === undefined) throw noHost(vm, k);
      return placed.host;
    }
    await this.c.data.allocation.releaseHost(vm.id);
    return this.reserve(vm, k);
  }

  /** Reserves a migration target (the VM keeps its current reservation until it has moved). */
  async reserveTarget(vm: PlannedVm, k: PlanConstraints): Promise<Placement> {
    return this.reserve(vm, k);
  }

  private async reserve(vm: PlannedVm, k: PlanConstraints): Promise<Placement> {
    const candidates = await this.candidates(vm, k);
    for (const host of candidates) {
      try {
        await this.c.data.allocation.reserveHost(vm.id, host.hostid);
        return host;
      } catch (err) {
        // Another VM took the room (or the host went down) since the query: try the next candidate.
        if (!(err instanceof InsufficientCapacityError || err instanceof ResourceUnavailableError)) throw err;
      }
    }
    throw noHost(vm, k);
  }

  private async candidates(vm: PlannedVm, k: PlanConstraints): Promise<Placement[]> {
    if (k.hostid !== undefined) {
      if (k.avoid.includes(k.hostid)) return [];
      const h = await this.c.data.hosts.get(k.hostid);
      const p: Placement = { hostid: h.id, hostname: h.name };
      if (h.clusterid !== undefined) p.clusterid = h.clusterid;
      return [p];
    }
    const { algorithm } = await this.config();
    const found = await this.c.data.orchestration.hostCandidates(await this.query(vm, k));
    const list = found.map((h) => {
      const p: Placement = { hostid: h.hostid, hostname: h.name };
      if (h.clusterid !== undefined) p.clusterid = h.clusterid;
      return p;
    });
    // The scan starts at a random host; shuffling the window spreads concurrent deploys over it.
    return algorithm === 'random' ? shuffle(list, this.c.random) : list;
  }

  /** The host candidate query for a VM under `k`, in the configured allocation order. */
  private async query(vm: PlannedVm, k: PlanConstraints): Promise<HostPickQuery> {
    const { algorithm } = await this.config();
    const q: HostPickQuery = {
      zoneid: vm.zoneid, cpu: vm.cpunumber * vm.cpuspeed, memory: vm.memory * MIB, avoid: [...k.avoid],
      order: algorithm === 'firstfitleastconsumed' ? 'leastconsumed' : algorithm, limit: this.c.config.hostCandidates,
    };
    if (algorithm === 'random') q.pivot = this.c.random.next();
    if (k.clusterid !== undefined) q.clusterid = k.clusterid;
    if (k.podid !== undefined) q.podid = k.podid;
    if (k.hosttag !== undefined) q.hosttag = k.hosttag;
    if (vm.hypervisor !== undefined) q.hypervisor = vm.hypervisor;
    return q;
  }
}

function noHost(vm: PlannedVm, k: PlanConstraints): InsufficientCapacityError {
  return new InsufficientCapacityError(`Unable to create a deployment for VM[User|${vm.instancename}]: no Up and Enabled host ` +
    `in zone ${vm.zonename} has ${vm.cpunumber * vm.cpuspeed} MHz and ${vm.memory} MiB free${k.hosttag === undefined ? '' : ` with host tag ${k.hosttag}`}` +
    `${k.avoid.length === 0 ? '' : ` outside the ${k.avoid.length} host(s) that already failed`} (insufficient capacity)`,
  { details: { uuidList: [vm.id] } });
}

/** The first host tag of an offering's comma-separated list (the allocator matches one tag). */
export function firstHostTag(hosttags: string | undefined): string | undefined {
  const t = hosttags?.split(',').map((s) => s.trim()).find((s) => s !== '');
  return t === undefined || t === '' ? undefined : t;
}

export { SYSTEM };
