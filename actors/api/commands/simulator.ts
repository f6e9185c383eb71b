/**
 * The simulator's failure injection (reference section 7), root admin only: configureSimulator stores
 * a mock and the orchestrator pushes the live set to every compute agent; querySimulatorMock shows the
 * uses left (`count`); cleanupSimulatorMock removes it.
 */
import { defineCommand, type HandledCommand } from '../command-table.js';
import { getNumber } from '../params.js';
import type { SyncRequest } from '../../orchestrator/protocol.js';
import { objectOf, required } from './common.js';
import { getString, type OrchestrationDeps } from './orchestration-common.js';

export function simulatorCommands(deps: OrchestrationDeps): HandledCommand[] {
  const o = deps.orchestrator;
  return [
    defineCommand({
      name: 'configureSimulator', description: 'configure simulator', isAsync: false, access: 'admin', objectName: 'simulatormock',
      params: [
        { name: 'name', type: 'string', required: true, description: 'which command needs to be configured (StartCommand, StopCommand, PingCommand...)' },
        { name: 'value', type: 'string', required: true, length: 1024, description: 'configuration options: result:fail, result:fault, wait:<ms>, enabled:false' },
        { name: 'count', type: 'integer', description: 'number of times the mock is active (default: always)' },
        { name: 'zoneid', type: 'uuid', description: 'configure zone' },
        { name: 'podid', type: 'uuid', description: 'configure pod' },
        { name: 'clusterid', type: 'uuid', description: 'configure cluster' },
        { name: 'hostid', type: 'uuid', description: 'configure host' },
        { name: 'jsonresponse', type: 'string', length: 65_536, description: 'agent command response to be returned (stored; not replayed by this simulator)' },
      ],
      async handler({ params }) {
        const req: Extract<SyncRequest, { op: 'configureSimulator' }> = { op: 'configureSimulator', name: required(params, 'name'),
          value: required(params, 'value') };
        const count = getNumber(params, 'count');
        if (count !== undefined) req.count = count;
        for (const k of ['zoneid', 'podid', 'clusterid', 'hostid', 'jsonresponse'] as const) {
          const v = getString(params, k);
          if (v !== undefined) req[k] = v;
        }
        return objectOf(await o.execute(req));
      },
    }),
    defineCommand({
      name: 'querySimulatorMock', description: 'query simulator mock', isAsync: false, access: 'admin', objectName: 'simulatormock',
      params: [{ name: 'id', type: 'uuid', required: true, description: 'id of the configured mock' }],
      handler: async ({ params }) => objectOf(await o.execute({ op: 'querySimulatorMock', id: required(params, 'id') })),
    }),
    defineCommand({
      name: 'cleanupSimulatorMock', description: 'clean up a simulator mock', isAsync: false, access: 'admin',
      params: [{ name: 'id', type: 'uuid', required: true, description: 'id of the configured mock' }],
      async handler({ params }) {
        await o.execute({ op: 'cleanupSimulatorMock', id: required(params, 'id') });
        return { kind: 'success' };
      },
    }),
  ];
}
