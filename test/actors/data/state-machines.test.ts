import { expect } from 'chai';
import fc from 'fast-check';
import { ConflictError, IllegalStateError } from '../../../src/errors.js';
import {
  HOST_MACHINE, IP_MACHINE, JOB_MACHINE, NETWORK_MACHINE, RESOURCE_STATE_MACHINE, SNAPSHOT_MACHINE, SYSTEM, VM_MACHINE,
  VOLUME_MACHINE, canReach, nextState, type StateMachine,
} from '../../../actors/data/store/index.js';
import { memoryLab, type Lab } from './fixtures.js';

const MACHINES: StateMachine[] = [VM_MACHINE, VOLUME_MACHINE, HOST_MACHINE, RESOURCE_STATE_MACHINE, NETWORK_MACHINE,
  IP_MACHINE, JOB_MACHINE, SNAPSHOT_MACHINE];

describe('data store: state machines', () => {
  describe('tables', () => {
    it('follow the reference for the VM lifecycle', () => {
      expect(nextState(VM_MACHINE, 'Stopped', 'StartRequested')).to.equal('Starting');
      expect(nextState(VM_MACHINE, 'Starting', 'OperationSucceeded')).to.equal('Running');
      expect(nextState(VM_MACHINE, 'Starting', 'OperationFailed')).to.equal('Stopped');
      expect(nextState(VM_MACHINE, 'Running', 'StopRequested')).to.equal('Stopping');
      expect(nextState(VM_MACHINE, 'Stopping', 'OperationSucceeded')).to.equal('Stopped');
      expect(nextState(VM_MACHINE, 'Running', 'MigrationRequested')).to.equal('Migrating');
      expect(nextState(VM_MACHINE, 'Stopped', 'DestroyRequested')).to.equal('Destroyed');
      expect(nextState(VM_MACHINE, 'Destroyed', 'RecoveryRequested')).to.equal('Stopped');
      expect(nextState(VM_MACHINE, 'Destroyed', 'ExpungeOperation')).to.equal('Expunging');
      expect(nextState(VM_MACHINE, 'Stopped', 'OperationFailedToError')).to.equal('Error');
      expect(nextState(VM_MACHINE, 'Error', 'ExpungeOperation')).to.equal('Expunging');
    });

    it('follow the reference for hosts (status and resource state), networks, volumes, addresses and jobs', () => {
      expect(nextState(HOST_MACHINE, 'Connecting', 'Ready')).to.equal('Up');
      expect(nextState(HOST_MACHINE, 'Up', 'PingTimeout')).to.equal('Alert');
      expect(nextState(HOST_MACHINE, 'Alert', 'Ping')).to.equal('Up');
      expect(nextState(HOST_MACHINE, 'Disconnected', 'WaitedTooLong')).to.equal('Alert');
      expect(nextState(HOST_MACHINE, 'Alert', 'HostDown')).to.equal('Down');
      expect(nextState(HOST_MACHINE, 'Down', 'AgentConnected')).to.equal('Connecting');
      expect(nextState(RESOURCE_STATE_MACHINE, 'Enabled', 'AdminAskMaintenance')).to.equal('PrepareForMaintenance');
      expect(nextState(RESOURCE_STATE_MACHINE, 'PrepareForMaintenance', 'InternalEnterMaintenance')).to.equal('Maintenance');
      expect(nextState(RESOURCE_STATE_MACHINE, 'Maintenance', 'AdminCancelMaintenance')).to.equal('Enabled');
      expect(nextState(NETWORK_MACHINE, 'Allocated', 'ImplementNetwork')).to.equal('Implementing');
      expect(nextState(NETWORK_MACHINE, 'Implementing', 'OperationSucceeded')).to.equal('Implemented');
      expect(nextState(NETWORK_MACHINE, 'Implementing', 'OperationFailed')).to.equal('Shutdown');
      expect(nextState(NETWORK_MACHINE, 'Implemented', 'DestroyNetwork')).to.equal('Shutdown');
      expect(nextState(NETWORK_MACHINE, 'Shutdown', 'OperationSucceeded')).to.equal('Allocated');
      expect(nextState(VOLUME_MACHINE, 'Allocated', 'CreateRequested')).to.equal('Creating');
      expect(nextState(VOLUME_MACHINE, 'Creating', 'OperationSucceeded')).to.equal('Ready');
      expect(nextState(IP_MACHINE, 'Free', 'AllocationSucceeded')).to.equal('Allocated');
      expect(nextState(JOB_MACHINE, '0', 'Succeed')).to.equal('1');
    });

    it('refuse illegal transitions with IllegalStateError naming what is allowed', () => {
      expect(() => nextState(VM_MACHINE, 'Running', 'StartRequested')).to.throw(IllegalStateError, /allowed: .*StopRequested/);
      expect(() => nextState(VM_MACHINE, 'Expunging', 'StartRequested')).to.throw(IllegalStateError);
      expect(() => nextState(JOB_MACHINE, '1', 'Fail')).to.throw(IllegalStateError, /no transition leaves/);
      expect(() => nextState(HOST_MACHINE, 'Removed', 'Ping')).to.throw(IllegalStateError);
      expect(() => nextState(VOLUME_MACHINE, 'Expunged', 'DestroyRequested')).to.throw(IllegalStateError);
    });

    it('only ever lead to declared states (property over random walks)', () => {
      fc.assert(fc.property(fc.constantFrom(...MACHINES), fc.array(fc.nat(), { maxLength: 30 }), (m, picks) => {
        let s = m.states[0]!;
        for (const p of picks) {
          const events = Object.keys(m.transitions[s] ?? {});
          if (events.length === 0) break;
          const next = nextState(m, s, events[p % events.length]!);
          expect(m.states).to.include(next);
          expect(canReach(m, s, next)).to.equal(true);
          s = next;
        }
      }));
    });
  });

  describe('transitions on stored resources', () => {
    let t: Lab;
    let vmId: string;
    beforeEach(() => {
      t = memoryLab();
      const net = t.store.networks.create(t.admin, { name: 'net', zoneid: t.lab.zoneid, networkofferingid: t.lab.networkofferingid });
      vmId = t.store.vmOps.create(t.admin, { zoneid: t.lab.zoneid, serviceofferingid: t.lab.serviceofferings.small,
        templateid: t.lab.templateid, networkids: [net.id], name: 'vm1' }).id;
    });
    afterEach(() => t.store.close());

    it('lets exactly one of two racing starts win', () => {
      const first = t.store.vmOps.transition(t.admin, vmId, 'StartRequested', { expect: 'Stopped' });
      expect(first.state).to.equal('Starting');
      expect(() => t.store.vmOps.transition(t.admin, vmId, 'StartRequested', { expect: 'Stopped' })).to.throw(ConflictError);
      expect(() => t.store.vmOps.transition(t.admin, vmId, 'StartRequested')).to.throw(IllegalStateError);
      expect(t.store.vms.get(t.admin, vmId).state).to.equal('Starting');
    });

    it('writes the event in the same transaction as the change', () => {
      t.store.allocation.reserveHost(vmId, t.lab.hostids[0]!);
      t.store.vmOps.transition(t.admin, vmId, 'StartRequested');
      const running = t.store.vmOps.transition(t.admin, vmId, 'OperationSucceeded');
      expect(running.state).to.equal('Running');
      expect(running.hostid).to.equal(t.lab.hostids[0]);
      const types = t.store.events.list(t.admin, { resourceid: vmId }).items.map((e) => e.type);
      expect(types).to.deep.equal(['VM.CREATE', 'VM.START']);
      // A transition whose transaction fails leaves neither the state change nor its event behind.
      expect(() => t.store.transaction(() => {
        t.store.vmOps.transition(t.admin, vmId, 'StopRequested');
        throw new Error('crash after the change');
      })).to.throw('crash after the change');
      expect(t.store.vms.get(t.admin, vmId).state).to.equal('Running');
      expect(t.store.events.list(t.admin, { resourceid: vmId }).count).to.equal(2);
    });

    it('releases host capacity when the VM stops, and records the last host', () => {
      t.store.allocation.reserveHost(vmId, t.lab.hostids[0]!);
      t.store.vmOps.transition(t.admin, vmId, 'StartRequested');
      t.store.vmOps.transition(t.admin, vmId, 'OperationSucceeded');
      expect(t.store.hosts.get(t.lab.hostids[0]!).cpuallocatedvalue).to.equal(500);
      t.store.vmOps.transition(t.admin, vmId, 'StopRequested');
      const stopped = t.store.vmOps.transition(t.admin, vmId, 'OperationSucceeded');
      expect(stopped.state).to.equal('Stopped');
      expect(stopped.hostid).to.equal(undefined);
      expect(stopped.lasthostid).to.equal(t.lab.hostids[0]);
      expect(t.store.hosts.get(t.lab.hostids[0]!).cpuallocatedvalue).to.equal(0);
      expect(t.store.events.list(t.admin, { resourceid: vmId }).items.map((e) => e.type)).to.include('VM.STOP');
    });

    it('moves the reservation to the destination host when a migration succeeds', () => {
      const [h1, h2] = [t.lab.hostids[0]!, t.lab.hostids[1]!];
      t.store.allocation.reserveHost(vmId, h1);
      t.store.vmOps.transition(t.admin, vmId, 'StartRequested');
      t.store.vmOps.transition(t.admin, vmId, 'OperationSucceeded');
      t.store.vmOps.transition(t.admin, vmId, 'MigrationRequested');
      t.store.allocation.reserveHost(vmId, h2);
      expect(t.store.hosts.get(h1).cpuallocatedvalue + t.store.hosts.get(h2).cpuallocatedvalue).to.equal(1000);
      const moved = t.store.vmOps.transition(t.admin, vmId, 'OperationSucceeded', { hostid: h2 });
      expect(moved.hostid).to.equal(h2);
      expect(t.store.hosts.get(h1).cpuallocatedvalue).to.equal(0);
      expect(t.store.hosts.get(h2).cpuallocatedvalue).to.equal(500);
    });

    it('drives host status and resource state with events', () => {
      const h = t.lab.hostids[0]!;
      expect(t.store.hosts.transition(h, 'PingTimeout').state).to.equal('Alert');
      expect(t.store.hosts.transition(h, 'Ping').state).to.equal('Up');
      expect(() => t.store.hosts.transition(h, 'Ready')).to.throw(IllegalStateError);
      expect(t.store.hosts.resourceTransition(h, 'AdminAskMaintenance').resourcestate).to.equal('PrepareForMaintenance');
      expect(() => t.store.hosts.resourceTransition(h, 'Disable')).to.throw(IllegalStateError);
      expect(t.store.hosts.resourceTransition(h, 'InternalEnterMaintenance').resourcestate).to.equal('Maintenance');
      const events = t.store.events.list(SYSTEM, { resourceid: h }).items.map((e) => e.type);
      expect(events).to.include.members(['HOST.ALERT', 'HOST.UP', 'MAINT.PREPARE']);
    });

    it('finishes a job once: a second outcome is refused', () => {
      const job = t.store.jobs.create(t.admin, { cmd: 'DeployVMCmd', instancetype: 'VirtualMachine', instanceid: vmId });
      expect(job.jobstatus).to.equal(0);
      t.store.jobs.saveProgress(job.jobid, { step: 'plan' });
      const done = t.store.jobs.complete(job.jobid, { status: 1, result: { virtualmachine: { id: vmId } } });
      expect(done.jobstatus).to.equal(1);
      expect(done.jobresult).to.deep.equal({ virtualmachine: { id: vmId } });
      expect(() => t.store.jobs.complete(job.jobid, { status: 2, resultcode: 530 })).to.throw(IllegalStateError);
      expect(() => t.store.jobs.saveProgress(job.jobid, { step: 'late' })).to.throw(ConflictError);
    });

    it('walks a network through implement, shutdown and destroy, releasing its VNI', () => {
      const net = t.store.networks.create(t.admin, { name: 'n2', zoneid: t.lab.zoneid, networkofferingid: t.lab.networkofferingid });
      expect(net.state).to.equal('Allocated');
      t.store.networks.transition(t.admin, net.id, 'ImplementNetwork');
      const vni = t.store.addresses.allocateVnet(net.id);
      const implemented = t.store.networks.transition(t.admin, net.id, 'OperationSucceeded');
      expect(implemented.state).to.equal('Implemented');
      expect(implemented.broadcasturi).to.equal(`vlan://${vni}`);
      t.store.networks.transition(t.admin, net.id, 'DestroyNetwork');
      t.store.networks.transition(t.admin, net.id, 'OperationSucceeded');
      const before = t.store.addresses.vnetUsage(t.lab.zoneid).allocated;
      t.store.networks.transition(t.admin, net.id, 'DestroyNetwork');
      expect(t.store.addresses.vnetUsage(t.lab.zoneid).allocated).to.equal(before - 1);
      expect(() => t.store.networks.get(t.admin, net.id)).to.throw(/Unable to find network/);
    });
  });
});
