import { CloudstackdError } from '../../src/errors.js';
import type { JobOp } from './protocol.js';

const P = 'org.apache.cloudstack.api.command';

/** Each job's `cmd` (the CloudStack command class, as queryAsyncJobResult shows it) and `jobinstancetype`. */
export const JOB_COMMANDS: { readonly [O in JobOp]: { readonly cmd: string; readonly instancetype: string } } = {
  deployVm: { cmd: `${P}.user.vm.DeployVMCmd`, instancetype: 'VirtualMachine' },
  startVm: { cmd: `${P}.user.vm.StartVMCmd`, instancetype: 'VirtualMachine' },
  stopVm: { cmd: `${P}.user.vm.StopVMCmd`, instancetype: 'VirtualMachine' },
  rebootVm: { cmd: `${P}.user.vm.RebootVMCmd`, instancetype: 'VirtualMachine' },
  destroyVm: { cmd: `${P}.user.vm.DestroyVMCmd`, instancetype: 'VirtualMachine' },
  expungeVm: { cmd: `${P}.admin.vm.ExpungeVMCmd`, instancetype: 'VirtualMachine' },
  scaleVm: { cmd: `${P}.user.vm.ScaleVMCmd`, instancetype: 'VirtualMachine' },
  restoreVm: { cmd: `${P}.user.vm.RestoreVMCmd`, instancetype: 'VirtualMachine' },
  migrateVm: { cmd: `${P}.admin.vm.MigrateVMCmd`, instancetype: 'VirtualMachine' },
  resetPassword: { cmd: `${P}.user.vm.ResetVMPasswordCmd`, instancetype: 'VirtualMachine' },
  createVolume: { cmd: `${P}.user.volume.CreateVolumeCmd`, instancetype: 'Volume' },
  attachVolume: { cmd: `${P}.user.volume.AttachVolumeCmd`, instancetype: 'Volume' },
  detachVolume: { cmd: `${P}.user.volume.DetachVolumeCmd`, instancetype: 'Volume' },
  resizeVolume: { cmd: `${P}.user.volume.ResizeVolumeCmd`, instancetype: 'Volume' },
  createSnapshot: { cmd: `${P}.user.snapshot.CreateSnapshotCmd`, instancetype: 'Snapshot' },
  deleteSnapshot: { cmd: `${P}.user.snapshot.DeleteSnapshotCmd`, instancetype: 'Snapshot' },
  deleteNetwork: { cmd: `${P}.user.network.DeleteNetworkCmd`, instancetype: 'Network' },
  restartNetwork: { cmd: `${P}.user.network.RestartNetworkCmd`, instancetype: 'Network' },
  associateIp: { cmd: `${P}.user.address.AssociateIPAddrCmd`, instancetype: 'IpAddress' },
  disassociateIp: { cmd: `${P}.user.address.DisassociateIPAddrCmd`, instancetype: 'IpAddress' },
  createTags: { cmd: `${P}.user.tag.CreateTagsCmd`, instancetype: 'None' },
  deleteTags: { cmd: `${P}.user.tag.DeleteTagsCmd`, instancetype: 'None' },
  createFirewallRule: { cmd: `${P}.user.firewall.CreateFirewallRuleCmd`, instancetype: 'FirewallRule' },
  createEgressFirewallRule: { cmd: `${P}.user.firewall.CreateEgressFirewallRuleCmd`, instancetype: 'FirewallRule' },
  createPortForwardingRule: { cmd: `${P}.user.firewall.CreatePortForwardingRuleCmd`, instancetype: 'FirewallRule' },
  createLoadBalancerRule: { cmd: `${P}.user.loadbalancer.CreateLoadBalancerRuleCmd`, instancetype: 'LoadBalancerRule' },
  deleteFirewallRule: { cmd: `${P}.user.firewall.DeleteFirewallRuleCmd`, instancetype: 'FirewallRule' },
  deleteEgressFirewallRule: { cmd: `${P}.user.firewall.DeleteEgressFirewallRuleCmd`, instancetype: 'FirewallRule' },
  deletePortForwardingRule: { cmd: `${P}.user.firewall.DeletePortForwardingRuleCmd`, instancetype: 'FirewallRule' },
  deleteLoadBalancerRule: { cmd: `${P}.user.loadbalancer.DeleteLoadBalancerRuleCmd`, instancetype: 'LoadBalancerRule' },
  updateLoadBalancerRule: { cmd: `${P}.user.loadbalancer.UpdateLoadBalancerRuleCmd`, instancetype: 'LoadBalancerRule' },
  assignToLoadBalancerRule: { cmd: `${P}.user.loadbalancer.AssignToLoadBalancerRuleCmd`, instancetype: 'LoadBalancerRule' },
  removeFromLoadBalancerRule: { cmd: `${P}.user.loadbalancer.RemoveFromLoadBalancerRuleCmd`, instancetype: 'LoadBalancerRule' },
  disableStaticNat: { cmd: `${P}.user.nat.DisableStaticNatCmd`, instancetype: 'IpAddress' },
  createAffinityGroup: { cmd: `${P}.user.affinitygroup.CreateAffinityGroupCmd`, instancetype: 'AffinityGroup' },
  deleteAffinityGroup: { cmd: `${P}.user.affinitygroup.DeleteAffinityGroupCmd`, instancetype: 'AffinityGroup' },
  updateVmAffinityGroup: { cmd: `${P}.user.affinitygroup.UpdateVMAffinityGroupCmd`, instancetype: 'VirtualMachine' },
  deleteTemplate: { cmd: `${P}.user.template.DeleteTemplateCmd`, instancetype: 'Template' },
  copyTemplate: { cmd: `${P}.user.template.CopyTemplateCmd`, instancetype: 'Template' },
  createTemplate: { cmd: `${P}.user.template.CreateTemplateCmd`, instancetype: 'Template' },
  attachIso: { cmd: `${P}.user.iso.AttachIsoCmd`, instancetype: 'VirtualMachine' },
  detachIso: { cmd: `${P}.user.iso.DetachIsoCmd`, instancetype: 'VirtualMachine' },
  createVmSnapshot: { cmd: `${P}.user.vmsnapshot.CreateVMSnapshotCmd`, instancetype: 'VmSnapshot' },
  revertToVmSnapshot: { cmd: `${P}.user.vmsnapshot.RevertToVMSnapshotCmd`, instancetype: 'VmSnapshot' },
  deleteVmSnapshot: { cmd: `${P}.user.vmsnapshot.DeleteVMSnapshotCmd`, instancetype: 'VmSnapshot' },
  createProject: { cmd: `${P}.user.project.CreateProjectCmd`, instancetype: 'Project' },
  updateProject: { cmd: `${P}.user.project.UpdateProjectCmd`, instancetype: 'Project' },
  deleteProject: { cmd: `${P}.user.project.DeleteProjectCmd`, instancetype: 'Project' },
  addAccountToProject: { cmd: `${P}.user.account.AddAccountToProjectCmd`, instancetype: 'Project' },
  deleteAccountFromProject: { cmd: `${P}.user.account.DeleteAccountFromProjectCmd`, instancetype: 'Project' },
};

/**
 * CloudStack error codes of a failed job's result (ApiErrorCode, reference 2.5), by src/errors.ts code.
 * The API maps synchronous errors the same way (actors/api/error-map.ts); a job's result is rendered
 * when the job ends, so the orchestrator writes it in that form.
 */
const CODES: Readonly<Record<string, number>> = {
  INVALID_PARAMETER: 431, NOT_FOUND: 431, VALIDATION: 431, ILLEGAL_STATE: 431, UNSUPPORTED: 432,
  PERMISSION_DENIED: 531, LIMIT_EXCEEDED: 532, INSUFFICIENT_CAPACITY: 533, RESOURCE_UNAVAILABLE: 534,
  RESOURCE_ALLOCATION: 535, RESOURCE_IN_USE: 536, NETWORK_RULE_CONFLICT: 537,
};

/** BaseCmd.USER_ERROR_MESSAGE: what callers who are not root admins see for 530, 533 and 534. */
export const USER_ERROR_MESSAGE = 'Internal error executing command, please contact your cloud administrator';
const HIDDEN: ReadonlySet<number> = new Set([530, 533, 534]);
/** Longest errortext kept in a job result. */
export const MAX_JOB_ERROR_TEXT = 2048;

export interface JobError {
  errorcode: number;
  errortext: string;
}

export function jobError(err: unknown, callerIsAdmin: boolean): JobError {
  const errorcode = err instanceof CloudstackdError ? CODES[err.code] ?? 530 : 530;
  const raw = err instanceof CloudstackdError ? err.message : 'unexpected failure';
  const text = raw.length > MAX_JOB_ERROR_TEXT ? `${raw.slice(0, MAX_JOB_ERROR_TEXT)}...` : raw;
  return { errorcode, errortext: HIDDEN.has(errorcode) && !callerIsAdmin ? USER_ERROR_MESSAGE : text };
}
