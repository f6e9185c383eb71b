import type { JobOp } from '../protocol.js';
import { CLIENT_FLOWS } from './client-flows.js';
import type { Flow } from './flow.js';
import {
  associateIpFlow, attachVolumeFlow, createVolumeFlow, deleteNetworkFlow, restartNetworkFlow,
  detachVolumeFlow, disassociateIpFlow, resizeVolumeFlow,
} from './resource-flows.js';
import { createSnapshotFlow, deleteSnapshotFlow } from './snapshot-flows.js';
import {
  deployVmFlow, destroyVmFlow, expungeVmFlow, migrateVmFlow, rebootVmFlow, resetPasswordFlow, restoreVmFlow, scaleVmFlow,
  startVmFlow, stopVmFlow,
} from './vm-flows.js';

/** Every asynchronous command's flow, by job op. */
export const FLOWS: { [O in JobOp]: Flow<O> } = {
  deployVm: deployVmFlow, startVm: startVmFlow, stopVm: stopVmFlow, rebootVm: rebootVmFlow, destroyVm: destroyVmFlow,
  expungeVm: expungeVmFlow, scaleVm: scaleVmFlow, restoreVm: restoreVmFlow, migrateVm: migrateVmFlow,
  resetPassword: resetPasswordFlow, createVolume: createVolumeFlow, attachVolume: attachVolumeFlow,
  detachVolume: detachVolumeFlow, resizeVolume: resizeVolumeFlow, createSnapshot: createSnapshotFlow,
  deleteSnapshot: deleteSnapshotFlow, deleteNetwork: deleteNetworkFlow, restartNetwork: restartNetworkFlow, associateIp: associateIpFlow,
  disassociateIp: disassociateIpFlow, ...CLIENT_FLOWS,
};

export type { Flow, FlowEnv, JobOutcome } from './flow.js';
