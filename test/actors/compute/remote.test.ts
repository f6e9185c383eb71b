import { expect } from 'chai';
import type { ActorRef } from '../../../src/actor-types.js';
import { Node } from '../../../src/node.js';
import { silentLogger } from '../../../src/logger.js';
import { defineProtocol, tell } from '../../../src/protocol.js';
import {
  IllegalStateError, ResourceUnavailableError, UnknownMessageError, ValidationError, type CloudstackdError,
} from '../../../src/errors.js';
import { InprocHub } from '../../../transports/inproc/hub.js';
import { InprocTransport } from '../../../transports/inproc/inproc-transport.js';
import {
  ComputeProtocol, computeAgentPath, HeartbeatReportSchema, type HeartbeatReport,
} from '../../../actors/compute/protocol.js';
import { startComputeAgents, type ComputeAgents } from '../../../actors/compute/start-agents.js';
import { waitFor } from '../../helpers/wait.js';
import { hostConfig, mock, outcome, vmSpec } from './fixtures.js';

/** Stands in for the fabric monitor: what a remote agent's heartbeat looks like on arrival. */
const MonitorProtocol = defineProtocol('test-monitor', '1.0', { heartbeat: tell(HeartbeatReportSchema) });

describe('compute: agents across nodes (in-process transport)', function () {
  this.timeout(10_000);
  let nodes: Node[] = [];
  let agents: ComputeAgents | undefined;
  const received: HeartbeatReport[] = [];

  beforeEach(async () => {
    const hub = new InprocHub();
    nodes = ['mgmt', 'compute-1'].map((nodeId) => new Node({
      nodeId, transport: new InprocTransport({ nodeId, hub }), logger: silentLogger, askTimeoutMs: 5_000,
    }));
    for (const n of nodes) await n.start();
    const [mgmt, compute] = nodes as [Node, Node];
    received.length = 0;
    mgmt.system.spawn('/monitor', { protocol: MonitorProtocol, handlers: { heartbeat: (r) => { received.push(r); } } });
    const monitor = compute.system.ref({ node: 'mgmt', path: '/monitor' }, MonitorProtocol);
    agents = await startComputeAgents(compute.system, [hostConfig(1), hostConfig(2)], {
      latency: { minMs: 0, maxMs: 1 },
      heartbeat: { intervalMs: 10, send: (r) => monitor.tell('heartbeat', r) },
    });
  });

  afterEach(async () => {
    await agents?.stop();
    agents = undefined;
    for (const n of nodes) await n.stop();
    nodes = [];
  });

  const agentRef = (host: string): ActorRef<typeof ComputeProtocol> => nodes[0]!.system.ref({ node: 'compute-1', path: computeAgentPath(host) }, ComputeProtocol);

  it('drives the VM lifecycle from another node and carries typed errors back', async () => {
    const h1 = agentRef('sim-h1');
    expect(await h1.ask('startVm', { key: 'a', vm: vmSpec(1) })).to.deep.equal({ hostName: 'sim-h1', vmUuid: 'vm-1', power: 'PowerOn', alreadyRunning: false });
    expect(await h1.ask('startVm', { key: 'a2', vm: vmSpec(1) })).to.include({ alreadyRunning: true });
    await h1.ask('setMocks', { mocks: [mock('m', 'RebootCommand', 'result:fail', { hostId: 'host-uuid-1' })] });
    const err = await outcome(h1.ask('rebootVm', { key: 'r', vmUuid: 'vm-1' }));
    expect(err).to.be.instanceOf(ResourceUnavailableError);
    expect((err as CloudstackdError).details).to.deep.equal({ command: 'RebootCommand', mockId: 'm', host: 'sim-h1' });
    expect(await h1.ask('fence', {})).to.deep.include({ stoppedVms: ['vm-1'] });
    expect(await outcome(h1.ask('startVm', { key: 'b', vm: vmSpec(2) }))).to.be.instanceOf(IllegalStateError);
  });

  it('delivers heartbeats that validate against the published schema', async () => {
    await agentRef('sim-h2').ask('startVm', { key: 'a', vm: vmSpec(7) });
    await waitFor(() => received.filter((r) => r.hostName === 'sim-h2' && r.powerStates['vm-7'] === 'PowerOn').length >= 2, 5_000, 'heartbeats from sim-h2');
    const last = received.filter((r) => r.hostName === 'sim-h2').at(-1)!;
    expect(last).to.deep.include({ hostUuid: 'host-uuid-2', health: 'healthy' });
    expect(nodes[0]!.system.stats().invalidMessages).to.equal(0);
  });

  it('refuses malformed messages at the node boundary before the agent sees them', async () => {
    const h1 = agentRef('sim-h1');
    const bad: [string, unknown][] = [
      ['startVm', { key: 'k', vm: { ...vmSpec(1), cpuCores: 0 } }],
      ['startVm', { key: 'k', vm: { ...vmSpec(1), nics: [{ deviceId: 0, mac: 'not-a-mac', isDefault: true }] } }],
      ['startVm', { vm: vmSpec(1) }],
      ['stopVm', { key: 'k', vmUuid: 42 }],
      ['migrateVm', { phase: 'teleport', key: 'k', vmUuid: 'vm-1' }],
      ['migrateVm', { phase: 'prepare', key: 'k', vmUuid: 'vm-1' }],
      ['setMocks', { mocks: [{ id: 'm', name: 'StartCommand', value: 'result:fail' }] }],
      ['queryPowerStates', { vmUuids: 'vm-1' }],
    ];
    for (const [type, body] of bad) {
      const err = await outcome(h1.ask(type as 'ping', body as never));
      expect(err, `${type} ${JSON.stringify(body)}`).to.be.instanceOf(ValidationError);
    }
    expect(await outcome(h1.ask('format' as 'ping', {} as never))).to.be.instanceOf(UnknownMessageError);
    expect(nodes[1]!.system.stats().invalidMessages).to.equal(bad.length + 1);
    expect(agents!.driver('sim-h1')!.mocks!.list()).to.deep.equal([]);
    expect(await h1.ask('queryPowerStates', {})).to.deep.include({ states: {} });
  });
});
