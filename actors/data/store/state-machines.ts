import { ConflictError, IllegalStateError, NotFoundError } from '../../../src/errors.js';
import type { StoreContext } from './context.js';

/**
 * The resource state machines of the API reference (section 4 and 6.2), enforced in one place. Each is
 * a table (state, event) → next state, with CloudStack's event names. A transition is compare-and-set on
 * the state it was computed from (UPDATE ... WHERE state = ?), inside an IMMEDIATE transaction, so of two
 * concurrent operations on one resource exactly one wins and the other gets IllegalStateError (the event
 * is not valid from the new state) or ConflictError (an `expect`ed state no longer holds).
 */
export interface StateMachine {
  readonly name: string;
  readonly states: readonly string[];
  readonly transitions: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

type Edge = readonly [from: string | readonly string[], event: string, to: string];

function machine(name: string, states: readonly string[], edges: readonly Edge[]): StateMachine {
  const transitions: Record<string, Record<string, string>> = {};
  for (const s of states) transitions[s] = {};
  for (const [from, event, to] of edges) {
    for (const f of typeof from === 'string' ? [from] : from) {
      if (!states.includes(f) || !states.includes(to)) throw new Error(`${name}: bad edge ${f} -${event}-> ${to}`);
      transitions[f]![event] = to;
    }
  }
  return { name, states, transitions };
}

export const VM_STATES = ['Starting', 'Running', 'Stopping', 'Stopped', 'Destroyed', 'Expunging', 'Migrating',
  'Error', 'Unknown', 'Shutdown'] as const;
export type VmState = (typeof VM_STATES)[number];

/** VirtualMachine.State's FSM (agent power reports included). */
export const VM_MACHINE = machine('virtual machine', VM_STATES, [
  ['Stopped', 'StartRequested', 'Starting'],
  ['Stopped', 'DestroyRequested', 'Destroyed'],
  ['Stopped', 'StopRequested', 'Stopped'],
  ['Stopped', 'AgentReportStopped', 'Stopped'],
  ['Stopped', 'OperationFailedToError', 'Error'],
  ['Stopped', 'ExpungeOperation', 'Expunging'],
  ['Stopped', 'FollowAgentPowerOnReport', 'Running'],
  ['Starting', 'OperationRetry', 'Starting'],
  ['Starting', 'OperationSucceeded', 'Running'],
  ['Starting', 'OperationFailed', 'Stopped'],
  ['Starting', 'AgentReportRunning', 'Running'],
  ['Starting', 'AgentReportStopped', 'Stopped'],
  ['Starting', 'FollowAgentPowerOffReport', 'Stopped'],
  ['Starting', 'FollowAgentPowerOnReport', 'Running'],
  ['Destroyed', 'RecoveryRequested', 'Stopped'],
  ['Destroyed', 'ExpungeOperation', 'Expunging'],
  ['Running', 'MigrationRequested', 'Migrating'],
  ['Running', 'StopRequested', 'Stopping'],
  ['Running', 'RebootRequested', 'Running'],
  ['Running', 'OperationSucceeded', 'Running'],
  ['Running', 'AgentReportRunning', 'Running'],
  ['Running', 'AgentReportStopped', 'Stopped'],
  ['Running', 'FollowAgentPowerOffReport', 'Stopped'],
  ['Running', 'FollowAgentPowerOnReport', 'Running'],
  ['Migrating', 'OperationSucceeded', 'Running'],
  ['Migrating', 'OperationFailed', 'Running'],
  ['Migrating', 'AgentReportRunning', 'Running'],
  ['Migrating', 'AgentReportStopped', 'Stopped'],
  ['Migrating', 'FollowAgentPowerOffReport', 'Stopped'],
  ['Migrating', 'FollowAgentPowerOnReport', 'Running'],
  ['Stopping', 'OperationSucceeded', 'Stopped'],
  ['Stopping', 'OperationFailed', 'Running'],
  ['Stopping', 'StopRequested', 'Stopping'],
  ['Stopping', 'AgentReportRunning', 'Running'],
  ['Stopping', 'AgentReportStopped', 'Stopped'],
  ['Stopping', 'FollowAgentPowerOffReport', 'Stopped'],
  ['Stopping', 'FollowAgentPowerOnReport', 'Running'],
  ['Expunging', 'ExpungeOperation', 'Expunging'],
  ['Expunging', 'OperationFailed', 'Expunging'],
  ['Error', 'DestroyRequested', 'Expunging'],
  ['Error', 'ExpungeOperation', 'Expunging'],
]);

export const VOLUME_STATES = ['Allocated', 'Creating', 'Ready', 'Migrating', 'Snapshotting', 'RevertSnapshotting',
  'Resizing', 'Expunging', 'Expunged', 'Destroy', 'Destroying', 'UploadOp', 'Copying', 'Uploaded', 'NotUploaded',
  'UploadInProgress', 'UploadError', 'UploadAbandoned', 'Attaching'] as const;
export type VolumeState = (typeof VOLUME_STATES)[number];

/** Volume.State's FSM (the upload states exist but no core command drives them yet). */
export const VOLUME_MACHINE = machine('volume', VOLUME_STATES, [
  ['Allocated', 'CreateRequested', 'Creating'],
  ['Allocated', 'DestroyRequested', 'Destroy'],
  ['Creating', 'OperationRetry', 'Creating'],
  ['Creating', 'CreateRequested', 'Creating'],
  ['Creating', 'OperationFailed', 'Allocated'],
  ['Creating', 'OperationSucceeded', 'Ready'],
  ['Creating', 'DestroyRequested', 'Destroy'],
  ['Ready', 'ResizeRequested', 'Resizing'],
  ['Resizing', 'OperationSucceeded', 'Ready'],
  ['Resizing', 'OperationFailed', 'Ready'],
  ['Ready', 'SnapshotRequested', 'Snapshotting'],
  ['Snapshotting', 'OperationSucceeded', 'Ready'],
  ['Snapshotting', 'OperationFailed', 'Ready'],
  ['Ready', 'RevertSnapshotRequested', 'RevertSnapshotting'],
  ['RevertSnapshotting', 'OperationSucceeded', 'Ready'],
  ['RevertSnapshotting', 'OperationFailed', 'Ready'],
  ['Ready', 'MigrationRequested', 'Migrating'],
  ['Migrating', 'OperationSucceeded', 'Ready'],
  ['Migrating', 'OperationFailed', 'Ready'],
  ['Ready', 'CopyRequested', 'Copying'],
  ['Copying', 'OperationSucceeded', 'Ready'],
  ['Copying', 'OperationFailed', 'Ready'],
  ['Ready', 'AttachRequested', 'Attaching'],
  ['Attaching', 'OperationSucceeded', 'Ready'],
  ['Attaching', 'OperationFailed', 'Ready'],
  ['Ready', 'DestroyRequested', 'Destroy'],
  ['Destroy', 'RecoverRequested', 'Ready'],
  ['Destroy', 'ExpungingRequested', 'Expunging'],
  ['Expunging', 'ExpungingRequested', 'Expunging'],
  ['Expunging', 'OperationSucceeded', 'Expunged'],
  ['Expunging', 'OperationFailed', 'Destroy'],
]);

export const HOST_STATES = ['Creating', 'Connecting', 'Up', 'Down', 'Disconnected', 'Alert', 'Removed', 'Error',
  'Rebalancing', 'Unknown'] as const;
export type HostState = (typeof HOST_STATES)[number];

/** Host Status FSM (Status.java, reference 6.2). Ping on an Up host is a no-op heartbeat. */
export const HOST_MACHINE = machine('host', HOST_STATES, [
  ['Creating', 'AgentConnected', 'Connecting'],
  ['Creating', 'Error', 'Error'],
  ['Connecting', 'Ready', 'Up'],
  ['Connecting', 'PingTimeout', 'Alert'],
  ['Connecting', 'AgentDisconnected', 'Alert'],
  ['Connecting', 'AgentConnected', 'Connecting'],
  ['Connecting', 'ShutdownRequested', 'Disconnected'],
  [['Up', 'Connecting', 'Alert', 'Disconnected'], 'HostDown', 'Down'],
  ['Up', 'PingTimeout', 'Alert'],
  ['Up', 'AgentDisconnected', 'Alert'],
  ['Up', 'ShutdownRequested', 'Disconnected'],
  ['Up', 'ManagementServerDown', 'Disconnected'],
  ['Up', 'Ping', 'Up'],
  [['Alert', 'Disconnected'], 'Ping', 'Up'],
  ['Alert', 'PingTimeout', 'Alert'],
  ['Alert', 'AgentDisconnected', 'Alert'],
  ['Disconnected', 'WaitedTooLong', 'Alert'],
  ['Disconnected', 'AgentDisconnected', 'Disconnected'],
  [['Up', 'Down', 'Alert', 'Disconnected'], 'AgentConnected', 'Connecting'],
  [['Up', 'Down', 'Alert', 'Disconnected', 'Connecting', 'Error'], 'Remove', 'Removed'],
]);

export const RESOURCE_STATES = ['Creating', 'Enabled', 'Disabled', 'PrepareForMaintenance', 'ErrorInMaintenance',
  'Maintenance', 'Error'] as const;
export type ResourceState = (typeof RESOURCE_STATES)[number];

/** Host ResourceState FSM (what the administrator has asked for: enabled, disabled, maintenance). */
export const RESOURCE_STATE_MACHINE = machine('host resource state', RESOURCE_STATES, [
  ['Creating', 'InternalCreated', 'Enabled'],
  ['Creating', 'Error', 'Error'],
  [['Enabled', 'Disabled'], 'Enable', 'Enabled'],
  [['Enabled', 'Disabled'], 'Disable', 'Disabled'],
  [['Enabled', 'Disabled', 'ErrorInMaintenance'], 'AdminAskMaintenance', 'PrepareForMaintenance'],
  [['PrepareForMaintenance', 'ErrorInMaintenance', 'Maintenance'], 'InternalEnterMaintenance', 'Maintenance'],
  ['PrepareForMaintenance', 'UnableToMigrate', 'ErrorInMaintenance'],
  [['PrepareForMaintenance', 'ErrorInMaintenance', 'Maintenance'], 'AdminCancelMaintenance', 'Enabled'],
  [['Enabled', 'Disabled', 'PrepareForMaintenance', 'Maintenance'], 'Error', 'Error'],
  ['Error', 'Enable', 'Enabled'],
]);

export const NETWORK_STATES = ['Allocated', 'Setup', 'Implementing', 'Implemented', 'Shutdown', 'Destroy'] as const;
export type NetworkState = (typeof NETWORK_STATES)[number];

/** Network.State's FSM. */
export const NETWORK_MACHINE = machine('network', NETWORK_STATES, [
  ['Allocated', 'ImplementNetwork', 'Implementing'],
  ['Implemented', 'ImplementNetwork', 'Implementing'],
  ['Implementing', 'OperationSucceeded', 'Implemented'],
  ['Implementing', 'OperationFailed', 'Shutdown'],
  ['Implemented', 'DestroyNetwork', 'Shutdown'],
  ['Implementing', 'DestroyNetwork', 'Shutdown'],
  ['Shutdown', 'OperationSucceeded', 'Allocated'],
  ['Shutdown', 'OperationFailed', 'Implemented'],
  [['Allocated', 'Setup', 'Shutdown'], 'DestroyNetwork', 'Destroy'],
]);

export const IP_STATES = ['Free', 'Allocating', 'Allocated', 'Releasing', 'Reserved'] as const;
export type IpState = (typeof IP_STATES)[number];

/** Public IP address states (IpAddress.State). */
export const IP_MACHINE = machine('ip address', IP_STATES, [
  ['Free', 'AllocationRequested', 'Allocating'],
  [['Free', 'Allocating', 'Reserved'], 'AllocationSucceeded', 'Allocated'],
  ['Allocating', 'AllocationFailed', 'Free'],
  ['Free', 'ReserveRequested', 'Reserved'],
  [['Allocated', 'Allocating', 'Reserved'], 'ReleaseRequested', 'Releasing'],
  ['Releasing', 'ReleaseSucceeded', 'Free'],
  ['Releasing', 'ReleaseFailed', 'Allocated'],
]);

/** Async job status numbers (JobInfo.Status): 0 pending, 1 succeeded, 2 failed, 3 cancelled. */
export const JOB_PENDING = 0;
export const JOB_SUCCEEDED = 1;
export const JOB_FAILED = 2;
export const JOB_CANCELLED = 3;
export const JOB_MACHINE = machine('async job', ['0', '1', '2', '3'], [
  ['0', 'Succeed', '1'],
  ['0', 'Fail', '2'],
  ['0', 'Cancel', '3'],
]);

export const SNAPSHOT_STATES = ['Allocated', 'Creating', 'CreatedOnPrimary', 'BackingUp', 'BackedUp', 'Copying',
  'Destroying', 'Destroyed', 'Error'] as const;
export type SnapshotState = (typeof SNAPSHOT_STATES)[number];

/** Snapshot.State's FSM. */
export const SNAPSHOT_MACHINE = machine('snapshot', SNAPSHOT_STATES, [
  ['Allocated', 'CreateRequested', 'Creating'],
  ['Creating', 'OperationSucceeded', 'CreatedOnPrimary'],
  ['Creating', 'OperationNotPerformed', 'BackedUp'],
  ['Creating', 'OperationFailed', 'Error'],
  ['CreatedOnPrimary', 'BackupToSecondary', 'BackingUp'],
  ['BackingUp', 'OperationSucceeded', 'BackedUp'],
  ['BackingUp', 'OperationFailed', 'Error'],
  ['BackedUp', 'CopyingRequested', 'Copying'],
  ['Copying', 'OperationSucceeded', 'BackedUp'],
  ['Copying', 'OperationFailed', 'BackedUp'],
  [['BackedUp', 'CreatedOnPrimary', 'Error', 'Allocated'], 'DestroyRequested', 'Destroying'],
  ['Destroying', 'OperationSucceeded', 'Destroyed'],
  ['Destroying', 'OperationFailed', 'BackedUp'],
]);

/** The state `event` leads to from `from`, or IllegalStateError naming both and what is allowed. */
export function nextState(m: StateMachine, from: string, event: string): string {
  const edges = m.transitions[from];
  if (edges === undefined) throw new IllegalStateError(`${m.name} is in unknown state ${from}`);
  const to = edges[event];
  if (to === undefined) {
    const allowed = Object.keys(edges);
    throw new IllegalStateError(`cannot apply ${event} to a ${m.name} in state ${from}` +
      (allowed.length > 0 ? ` (allowed: ${allowed.join(', ')})` : ' (no transition leaves this state)'),
    { details: { from, event } });
  }
  return to;
}

/** Whether some event moves the machine from `from` to `to`. */
export function canReach(m: StateMachine, from: string, to: string): boolean {
  return Object.values(m.transitions[from] ?? {}).includes(to);
}

export interface TransitionRequest {
  machine: StateMachine;
  /** Table and state column of the row. */
  table: string;
  column: string;
  /** Internal key and public id (for messages) of the row. */
  id: number;
  uuid: string;
  event: string;
  /** When set, the transition only applies if the row is still in this state (else ConflictError). */
  expect?: string | undefined;
  /** Further columns to set in the same UPDATE (trusted column names from code only). */
  set?: Readonly<Record<string, unknown>>;
}

export interface TransitionResult {
  from: string;
  to: string;
}

/**
 * Applies one transition with compare-and-set. Must run inside ctx.tx (callers add their events and
 * side effects in the same transaction).
 */
export function applyTransition(ctx: StoreContext, r: TransitionRequest): TransitionResult {
  const row = ctx.one<{ s: string | number }>(`SELECT ${r.column} AS s FROM ${r.table} WHERE id = ?`, r.id);
  if (row === undefined) throw new NotFoundError(`Unable to find ${r.machine.name} with id ${r.uuid}`);
  const from = String(row.s);
  if (r.expect !== undefined && r.expect !== from) {
    throw new ConflictError(`${r.machine.name} ${r.uuid} is ${from}, not ${r.expect}: another operation changed it`,
      { details: { expected: r.expect, actual: from } });
  }
  const to = nextState(r.machine, from, r.event);
  const extra = Object.entries(r.set ?? {});
  const sets = [`${r.column} = ?`, ...extra.map(([k]) => `${k} = ?`)].join(', ');
  const value = typeof row.s === 'number' ? Number(to) : to;
  const res = ctx.run(`UPDATE ${r.table} SET ${sets} WHERE id = ? AND ${r.column} = ?`,
    value, ...extra.map(([, v]) => v), r.id, row.s);
  if (res.changes !== 1) {
    throw new ConflictError(`${r.machine.name} ${r.uuid} changed state concurrently; retry`);
  }
  return { from, to };
}
