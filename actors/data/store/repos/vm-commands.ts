import { InvalidParameterError, NotFoundError } from '../../../../src/errors.js';
import type { StoreContext } from '../context.js';
import type { Allocator } from '../allocation.js';
import { SYSTEM, assertVisible, type Scope } from '../scoping.js';
import { VM_MACHINE, applyTransition, type VmState } from '../state-machines.js';
import { actingUser, ownerFor, updateColumns } from './common.js';
import type { EventLevel, EventRepository } from './events.js';
import type { NetworkRepository } from './networks.js';
import type { NicRepository } from './nics.js';
import type { VirtualMachine, VmRepository } from './vms.js';
import type { VolumeRepository } from './volumes.js';
import { createVmRows, validateHostname, type CreateVmInput } from './vm-create.js';
import type { VmLinks } from './vm-links.js';

export type { CreateVmInput } from './vm-create.js';

/** An event to write with a transition; `null` writes none. */
export interface TransitionEvent {
  type: string;
  description?: string;
  level?: EventLevel;
}

export interface VmTransitionOptions {
  /** Only apply if the VM is still in this state (ConflictError otherwise). */
  expect?: VmState;
  /** The host the VM is starting/running/migrating on. */
  hostid?: string;
  /** Overrides the default event of this transition. */
  event?: TransitionEvent | null;
}

export interface UpdateVmInput {
  name?: string;
  displayname?: string;
  group?: string;
  haenable?: boolean;
  userdata?: string;
  details?: Record<string, string>;
  ostypeid?: string;
  isdynamicallyscalable?: boolean;
  /** restoreVirtualMachine with another template. */
  templateid?: string;
  /** Set right after deploy/reset on a password-enabled template (never listed). */
  password?: string;
}

export interface ScaleVmInput {
  serviceofferingid: string;
  /** For customized offerings. */
  cpunumber?: number;
  cpuspeed?: number;
  memory?: number;
}

/** States in which a VM holds no host: entering one releases its capacity in the same transaction. */
const HOSTLESS: ReadonlySet<string> = new Set(['Stopped', 'Destroyed', 'Error', 'Expunging']);

/** The default event of a transition (CloudStack's event types), or undefined for none. */
export function defaultVmEvent(from: string, event: string, to: string): TransitionEvent | undefined {
  if (from === 'Starting' && to === 'Running') return { type: 'VM.START' };
  if (from === 'Stopping' && to === 'Stopped') return { type: 'VM.STOP' };
  if (to === 'Destroyed' && from !== 'Destroyed') return { type: 'VM.DESTROY' };
  if (to === 'Expunging' && from !== 'Expunging') return { type: 'VM.EXPUNGE' };
  if (from === 'Destroyed' && to === 'Stopped') return { type: 'VM.RECOVER' };
  if (from === 'Migrating' && event === 'OperationSucceeded') return { type: 'VM.MIGRATE' };
  if (event === 'RebootRequested') return { type: 'VM.REBOOT' };
  if (to === 'Error') return { type: 'VM.START', level: 'ERROR', description: 'first start failed: VM is in Error' };
  if (from !== to && (event.startsWith('FollowAgent') || event.startsWith('AgentReport'))) {
    return { type: to === 'Running' ? 'VM.START' : 'VM.STOP', description: `power report: ${from} -> ${to}` };
  }
  return undefined;
}

/** The command side of virtual machines: create, state transitions, update, scale, expunge. */
export class VmCommands {
  constructor(private readonly ctx: StoreContext, private readonly vms: VmRepository, private readonly nics: NicRepository,
    private readonly volumes: VolumeRepository, private readonly events: EventRepository, private readonly allocator: Allocator,
    private readonly networks: NetworkRepository, private readonly links?: VmLinks) {}

  /**
   * deployVirtualMachine's create phase: validates, then persists the VM (Stopped), its NICs (no
   * address yet) and its ROOT (+ DATA) volumes (Allocated), and writes VM.CREATE — one transaction.
   * Without networkids the VM goes on the zone's default network, created for the owner if needed.
   */
  create(scope: Scope, input: CreateVmInput): VirtualMachine {
    return this.ctx.tx(() => {
      const owner = ownerFor(this.ctx, scope, input.accountid, 'virtual machine');
      const userId = actingUser(this.ctx, scope);
      const uuid = createVmRows(this.ctx, scope, { ...owner, userId }, input,
        { nics: this.nics, volumes: this.volumes, networks: this.networks });
      this.links?.onCreate(scope, uuid, input);
      this.events.record({ type: 'VM.CREATE', description: `created VM ${input.name ?? uuid}`, ...owner, userId,
        resourceType: 'VirtualMachine', resourceUuid: uuid });
      return this.vms.get(SYSTEM, uuid);
    });
  }

  /**
   * Applies a VirtualMachine.State event with compare-and-set, records the host as the VM starts, runs
   * or migrates, releases host capacity when it leaves every host, and writes the event — atomically.
   */
  transition(scope: Scope, uuid: string, event: string, options: VmTransitionOptions = {}): VirtualMachine {
    return this.ctx.tx(() => {
      const vm = this.live(scope, uuid);
      const hostId = options.hostid === undefined ? undefined : this.ctx.requireId('host', options.hostid, 'host');
      const { from, to } = applyTransition(this.ctx, { machine: VM_MACHINE, table: 'vm_instance', column: 'state',
        id: vm.id, uuid, event, expect: options.expect, set: this.placement(vm, event, hostId) });
      this.afterTransition(vm, from, event, to, hostId);
      const ev = options.event === undefined ? defaultVmEvent(from, event, to) : options.event;
      if (ev !== null && ev !== undefined) {
        this.events.record({ type: ev.type, description: ev.description ?? `VM ${vm.name}: ${from} -> ${to}`,
          accountId: vm.account_id, domainId: vm.domain_id, userId: actingUser(this.ctx, scope),
          resourceType: 'VirtualMachine', resourceUuid: uuid, ...(ev.level !== undefined ? { level: ev.level } : {}) });
      }
      return this.vms.get(SYSTEM, uuid);
    });
  }

  private placement(vm: LiveVm, event: string, hostId: number | undefined): Record<string, unknown> {
    const to = VM_MACHINE.transitions[vm.state]?.[event];
    if (to === undefined) return {};
    const set: Record<string, unknown> = {};
    if (event.startsWith('FollowAgentPower')) set.power_state = event.endsWith('OnReport') ? 'PowerOn' : 'PowerOff';
    if (HOSTLESS.has(to)) {
      set.host_id = null;
      if (vm.host_id !== null) set.last_host_id = vm.host_id;
      return set;
    }
    const target = hostId ?? (to === 'Running' && vm.state !== 'Migrating' ? this.allocator.reservedHostId(vm.id) : undefined);
    if (target !== undefined && (to === 'Running' || to === 'Starting')) {
      const h = this.ctx.one<{ pod_id: number | null; cluster_id: number | null }>(
        'SELECT pod_id, cluster_id FROM host WHERE id = ?', target);
      Object.assign(set, { host_id: target, last_host_id: target, pod_id: h?.pod_id ?? null, cluster_id: h?.cluster_id ?? null });
    }
    return set;
  }

  private afterTransition(vm: LiveVm, from: string, event: string, to: string, hostId: number | undefined): void {
    if (HOSTLESS.has(to)) {
      this.allocator.releaseHostById(vm.id);
      return;
    }
    // A finished or failed migration keeps only the host the VM now runs on.
    if (from === 'Migrating' && to === 'Running') {
      const keep = event === 'OperationSucceeded' ? hostId : vm.host_id ?? undefined;
      if (keep === undefined) return;
      // Bounded: one VM's reservations (at most two hosts).
      for (const r of this.ctx.all<{ host_id: number }>('SELECT host_id FROM capacity_reservation WHERE vm_id = ?', vm.id)) {
        if (r.host_id !== keep) this.allocator.releaseHostById(vm.id, r.host_id);
      }
    }
  }

  update(scope: Scope, uuid: string, patch: UpdateVmInput): VirtualMachine {
    return this.ctx.tx(() => {
      const vm = this.live(scope, uuid);
      if (patch.name !== undefined) validateHostname(patch.name);
      const templateId = patch.templateid === undefined ? undefined
        : this.ctx.requireId('template', patch.templateid, 'template');
      const osId = patch.ostypeid === undefined ? undefined : this.ctx.requireId('os_type', patch.ostypeid, 'os type');
      if (patch.group !== undefined) this.links?.onGroup(vm.id, patch.group);
      const cols = updateColumns({ name: patch.name, display_name: patch.displayname,
        ha_enabled: patch.haenable === undefined ? undefined : patch.haenable ? 1 : 0, user_data: patch.userdata,
        details: patch.details === undefined ? undefined : JSON.stringify(patch.details), os_type_id: osId,
        is_dynamically_scalable: patch.isdynamicallyscalable === undefined ? undefined : patch.isdynamicallyscalable ? 1 : 0,
        template_id: templateId, password: patch.password, update_count: vm.update_count + 1 });
      this.ctx.run(`UPDATE vm_instance SET ${cols.sql} WHERE id = ?`, ...cols.args, vm.id);
      return this.vms.get(SYSTEM, uuid);
    });
  }

  /**
   * scaleVirtualMachine's data change: new offering and size; a VM holding host capacity has its
   * reservation resized in the same transaction, or the whole change fails with InsufficientCapacityError.
   */
  scale(scope: Scope, uuid: string, input: ScaleVmInput): VirtualMachine {
    return this.ctx.tx(() => {
      const vm = this.live(scope, uuid);
      if (vm.state !== 'Stopped' && vm.state !== 'Running') {
        throw new InvalidParameterError(`VM ${uuid} is ${vm.state}: only Stopped or Running VMs can be scaled`);
      }
      const so = this.ctx.one<{ id: number; cpu_number: number | null; cpu_speed: number | null; memory: number | null;
        offer_ha: number }>('SELECT id, cpu_number, cpu_speed, memory, offer_ha FROM service_offering WHERE uuid = ? AND removed IS NULL',
      input.serviceofferingid);
      if (so === undefined) throw new InvalidParameterError(`Unable to find service offering with id ${input.serviceofferingid}`);
      const size = { cpu: input.cpunumber ?? so.cpu_number, speed: input.cpuspeed ?? so.cpu_speed ?? vm.cpu_speed,
        mem: input.memory ?? so.memory };
      if (size.cpu === null || size.mem === null) {
        throw new InvalidParameterError('a customized offering needs cpunumber and memory');
      }
      this.ctx.run(`UPDATE vm_instance SET service_offering_id = ?, cpu_number = ?, cpu_speed = ?, memory = ?,
        ha_enabled = ?, update_count = update_count + 1 WHERE id = ?`, so.id, size.cpu, size.speed, size.mem, so.offer_ha, vm.id);
      this.allocator.resizeHeld(vm.id);
      this.events.record({ type: 'VM.UPGRADE', description: `scaled VM ${vm.name} to ${size.cpu}x${size.speed} MHz, ${size.mem} MiB`,
        accountId: vm.account_id, domainId: vm.domain_id, userId: actingUser(this.ctx, scope),
        resourceType: 'VirtualMachine', resourceUuid: uuid });
      return this.vms.get(SYSTEM, uuid);
    });
  }

  /**
   * The end of expunge: the VM (in Expunging) is removed with its NICs; ROOT volumes are expunged
   * and data disks detached; static NAT addresses, capacity and tags are released — all at once.
   */
  markExpunged(scope: Scope, uuid: string): void {
    this.ctx.tx(() => {
      const vm = this.live(scope, uuid);
      if (vm.state !== 'Expunging') throw new InvalidParameterError(`VM ${uuid} is ${vm.state}, not Expunging`);
      const now = this.ctx.now();
      this.volumes.releaseForVm(vm.id);
      this.ctx.run(`UPDATE nic SET removed = ?, ip_address = NULL, ip_num = NULL, state = 'Allocated'
        WHERE vm_id = ? AND removed IS NULL`, now, vm.id);
      this.ctx.run('UPDATE ip_address SET vm_id = NULL, vm_ip = NULL, static_nat = 0 WHERE vm_id = ?', vm.id);
      this.allocator.releaseHostById(vm.id);
      this.ctx.run("DELETE FROM resource_tag WHERE resource_type = 'UserVm' AND resource_id = ?", vm.id);
      this.links?.onExpunge(vm.id);
      this.ctx.run('UPDATE vm_instance SET removed = ?, host_id = NULL WHERE id = ?', now, vm.id);
    });
  }

  private live(scope: Scope, uuid: string): LiveVm {
    const vm = this.ctx.one<LiveVm>(`SELECT id, account_id, domain_id, host_id, state, name, update_count, cpu_speed
      FROM vm_instance WHERE uuid = ? AND removed IS NULL`, uuid);
    assertVisible(this.ctx, scope, 'virtual machine', uuid, vm);
    if (vm === undefined) throw new NotFoundError(`Unable to find virtual machine with id ${uuid}`);
    return vm;
  }
}

interface LiveVm {
  id: number;
  account_id: number;
  domain_id: number;
  host_id: number | null;
  state: VmState;
  name: string;
  update_count: number;
  cpu_speed: number;
}
