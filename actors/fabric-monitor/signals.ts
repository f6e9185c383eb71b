import type { MemberVerdict, ServiceDirectory } from '../../src/component.js';
import { InstanceDirectory } from '../../src/cluster/instance-directory.js';
import { COMPUTE_SERVICE } from '../compute/protocol.js';
import type { FabricSignals, NodeVerdict } from './investigation.js';

const VERDICT: Record<MemberVerdict, NodeVerdict> = { alive: 'alive', suspect: 'suspect', dead: 'failed', left: 'left', unknown: 'unknown' };

/** What the membership says about the node of each host, for the monitor's investigations. */
export function signalsOf(services: ServiceDirectory): FabricSignals {
  const hosts = new InstanceDirectory(services, COMPUTE_SERVICE);
  return {
    verdict: (host) => {
      const node = hosts.nodeOf(host);
      return node === undefined ? 'unknown' : VERDICT[services.memberStatus(node)];
    },
    onChange: (listener) => services.onMemberChange((nodeId, status) => {
      for (const [host, node] of hosts.entries()) if (node === nodeId) listener(host, VERDICT[status]);
    }),
  };
}
