import { ConflictError, IllegalStateError, NotFoundError } from '../../src/errors.js';
import { SYSTEM, type DataApi, type Scope } from '../data/protocol.js';

export type VirtualMachine = Awaited<ReturnType<DataApi['vms']['get']>>;
export type VmState = VirtualMachine['state'];

export { SYSTEM };

export interface VmTransition {
  /** The state the VM must be in for the event (compare-and-set). */
  from?: VmState;
  /** Where the event leads. A VM already there counts as done: the step ran before a restart. */
  to: VmState;
  hostid?: string;
}

/**
 * Applies a VM state event idempotently. The data service applies it with compare-and-set; when it
 * refuses because the VM is already in the target state, the transition is taken as done (it is the
 * same step re-run after a restart or a resent command), otherwise the refusal propagates.
 */
export async function vmState(data: DataApi, vmid: string, event: string, t: VmTransition, scope: Scope = SYSTEM): Promise<VirtualMachine> {
  const options: { expect?: VmState; hostid?: string } = {};
  if (t.from !== undefined) options.expect = t.from;
  if (t.hostid !== undefined) options.hostid = t.hostid;
  try {
    return await data.vmOps.transition(scope, vmid, event, options);
  } catch (err) {
    if (!(err instanceof ConflictError || err instanceof IllegalStateError)) throw err;
    const vm = await data.vms.get(SYSTEM, vmid);
    if (vm.state === t.to && t.from !== t.to) return vm;
    throw new IllegalStateError(`virtual machine ${vm.name} is ${vm.state}: cannot apply ${event}` +
      `${t.from === undefined ? '' : ` (it must be ${t.from})`}`, { cause: err });
  }
}

/** The VM, or undefined when it is gone (expunged). */
export async function findVm(data: DataApi, vmid: string): Promise<VirtualMachine | undefined> {
  try {
    return await data.vms.get(SYSTEM, vmid);
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
}
