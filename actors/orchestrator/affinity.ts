import { InsufficientCapacityError, InvalidParameterError } from '../../src/errors.js';
import type { AffinityConstraints } from '../data/protocol.js';
import type { PlanConstraints } from './planner.js';

/**
 * The affinity group processors of CloudStack's deployment planner: host anti-affinity adds the hosts
 * of the group's other running VMs to the avoid set; host affinity pins the plan to the host they run
 * on (none runs yet: any host, and the next members follow this one).
 */
export function applyAffinity(a: AffinityConstraints, vmid: string, k: PlanConstraints & { avoid: string[] }): void {
  if (a.conflict !== undefined) throw new InsufficientCapacityError(`Unable to create a deployment for VM ${vmid}: ${a.conflict}`);
  for (const h of a.avoidHosts) if (!k.avoid.includes(h)) k.avoid.push(h);
  if (a.requiredHost === undefined) return;
  if (k.hostid !== undefined && k.hostid !== a.requiredHost) {
    throw new InvalidParameterError(`host ${k.hostid} breaks the VM's host affinity group, whose VMs run on host ${a.requiredHost}`);
  }
  if (k.avoid.includes(a.requiredHost)) {
    throw new InsufficientCapacityError(`Unable to create a deployment for VM ${vmid}: its host affinity group runs on host ` +
      `${a.requiredHost}, which its host anti-affinity groups exclude`);
  }
  k.hostid = a.requiredHost;
}
