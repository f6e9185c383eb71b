import { ConflictError, IllegalStateError, NotFoundError } from '../../../../src/errors.js';
import type { StoreContext } from '../context.js';
import type { ConfigRepository } from './config.js';

/** What a VM start needs beyond the VM response: private fields that are never listed. */
export interface VmStartDetails {
  /** Base64 user data as given at deploy. */
  userdata?: string;
  /** The password set at deploy or reset (password-enabled templates only). */
  password?: string;
  /** The public key of the VM's key pair, when it has one. */
  sshpublickey?: string;
}

/** A template's copy on a primary storage pool. */
export interface TemplateOnPool {
  /** Where the copy lives on the pool. */
  path: string;
  /** True when this call made the copy (the first volume from this template on this pool). */
  copied: boolean;
}

/** A VM's volume as a job step needs it (no joins: the step runs for every start). */
export interface VmVolume {
  id: string;
  name: string;
  type: string;
  deviceid?: number;
  size: number;
  state: string;
  storageid?: string;
  /** The pool's scope and cluster, when the volume is on a pool. */
  poolscope?: string;
  poolclusterid?: string;
  /** The pool's state: a VM starts only when every pool of its volumes is Up. */
  poolstate?: string;
  path?: string;
}

/** Everything the hypervisor needs to start a VM (StartCommand's VirtualMachineTO), in one read. */
export interface VmStartSpec {
  uuid: string;
  instancename: string;
  displayname: string;
  cpunumber: number;
  cpuspeed: number;
  memory: number;
  haenable: boolean;
  templateid?: string;
  /**
   * The template's image: where it is downloaded from, its checksum and format (a real hypervisor copies
   * it to its pool); or, for a template created from a volume or snapshot (no URL), its uuid, which
   * names the file the host that held the source wrote into its pool.
   */
  template?: { url: string; checksum?: string; format: string } | { uuid: string; format: string };
  passwordenabled: boolean;
  details: VmStartDetails;
  nics: { id: string; networkid: string; deviceid: number; macaddress?: string; ipaddress?: string; netmask?: string;
    gateway?: string; broadcasturi?: string; isdefault: boolean }[];
  volumes: VmVolume[];
}

/** Host candidates for a VM (see hostCandidates). */
export interface HostPick {
  hostid: string;
  name: string;
  clusterid?: string;
}

export interface HostPickQuery {
  zoneid: string;
  /** MHz and bytes. */
  cpu: number;
  memory: number;
  podid?: string;
  clusterid?: string;
  hypervisor?: string;
  hosttag?: string;
  avoid?: readonly string[];
  /** 'firstfit': lowest ids first; 'leastconsumed': least allocated CPU first; 'random': from a random host on. */
  order: 'firstfit' | 'leastconsumed' | 'random';
  /** For 'random': where in the host list to start, in [0, 1). */
  pivot?: number;
  limit: number;
}

/**
 * The store operations of the orchestration engine (issue 7) that the resource repositories do not
 * have: a VM's private start details and start spec, lean per-step reads (volumes, host candidates),
 * the job journal write, template copies on primary pools (copied once, cloned per volume), and
 * re-imaging a ROOT volume from a template (restoreVirtualMachine). The reads here are on the deploy
 * path of every VM, so they use single-table queries over indexed columns.
 */
export class OrchestrationRepository {
  constructor(private readonly ctx: StoreContext, private readonly config: ConfigRepository) {}

  /**
   * Saves a pending job's step journal (the orchestrator writes it after every step). ConflictError once
   * the job has finished: a late writer must not touch it. Answers nothing: the caller has the journal.
   */
  saveJournal(jobUuid: string, progress: unknown): void {
    const res = this.ctx.run('UPDATE async_job SET progress = ?, last_updated = ? WHERE uuid = ? AND status = 0',
      JSON.stringify(progress ?? null), this.ctx.now(), jobUuid);
    if (res.changes === 0) {
      if (this.ctx.one('SELECT 1 FROM async_job WHERE uuid = ?', jobUuid) === undefined) throw new NotFoundError(`Unable to find job with id ${jobUuid}`);
      throw new ConflictError(`job ${jobUuid} has already finished; its progress cannot change`);
    }
  }

  /** The live volumes of a VM, ROOT first then by device id. */
  vmVolumes(vmUuid: string): VmVolume[] {
    // Bounded: a VM has at most MAX_VOLUMES volumes.
    const rows = this.ctx.all<{ uuid: string; name: string; volume_type: string; device_id: number | null; size: number; state: string;
      path: string | null; p_uuid: string | null; p_scope: string | null; p_state: string | null; c_uuid: string | null }>(`SELECT v.uuid,
      v.name, v.volume_type, v.device_id, v.size, v.state, v.path, p.uuid AS p_uuid, p.scope AS p_scope, p.state AS p_state,
      c.uuid AS c_uuid FROM volume v
      LEFT JOIN storage_pool p ON p.id = v.pool_id LEFT JOIN cluster c ON c.id = p.cluster_id
      WHERE v.vm_id = (SELECT id FROM vm_instance WHERE uuid = ?) AND v.removed IS NULL
      ORDER BY v.volume_type <> 'ROOT', v.device_id`, vmUuid);
    return rows.map((r) => {
      const v: VmVolume = { id: r.uuid, name: r.name, type: r.volume_type, size: r.size, state: r.state };
      if (r.device_id !== null) v.deviceid = r.device_id;
      if (r.p_uuid !== null) v.storageid = r.p_uuid;
      if (r.p_scope !== null) v.poolscope = r.p_scope;
      if (r.p_state !== null) v.poolstate = r.p_state;
      if (r.c_uuid !== null) v.poolclusterid = r.c_uuid;
      if (r.path !== null) v.path = r.path;
      return v;
    });
  }

  /** What StartCommand carries: sizing, NICs with their addresses, volumes with their pools, boot data. */
  startSpec(vmUuid: string): VmStartSpec {
    const vm = this.ctx.one<{ id: number; name: string; display_name: string | null; instance_name: string; cpu_number: number;
      cpu_speed: number; memory: number; ha_enabled: number; t_uuid: string | null; t_pw: number | null; t_url: string | null;
      t_checksum: string | null; t_format: string | null; t_iso: number | null }>(`SELECT v.id, v.name,
      v.display_name, v.instance_name, v.cpu_number, v.cpu_speed, v.memory, v.ha_enabled, t.uuid AS t_uuid, t.password_enabled AS t_pw,
      t.url AS t_url, t.checksum AS t_checksum, t.format AS t_format, t.is_iso AS t_iso
      FROM vm_instance v LEFT JOIN template t ON t.id = v.template_id WHERE v.uuid = ? AND v.removed IS NULL`, vmUuid);
    if (vm === undefined) throw new NotFoundError(`Unable to find virtual machine with id ${vmUuid}`);
    // Bounded: a VM has at most MAX_NICS NICs.
    const nics = this.ctx.all<{ uuid: string; n_uuid: string; device_id: number; mac_address: string | null; ip_address: string | null;
      netmask: string | null; gateway: string | null; broadcast_uri: string | null; is_default: number }>(`SELECT n.uuid,
      w.uuid AS n_uuid, n.device_id, n.mac_address, n.ip_address, n.netmask, n.gateway, n.broadcast_uri, n.is_default
      FROM nic n JOIN network w ON w.id = n.network_id WHERE n.vm_id = ? AND n.removed IS NULL ORDER BY n.device_id`, vm.id);
    const spec: VmStartSpec = { uuid: vmUuid, instancename: vm.instance_name, displayname: vm.display_name ?? vm.name,
      cpunumber: vm.cpu_number, cpuspeed: vm.cpu_speed, memory: vm.memory, haenable: vm.ha_enabled === 1,
      passwordenabled: vm.t_pw === 1, details: this.vmDetails(vmUuid), volumes: this.vmVolumes(vmUuid),
      nics: nics.map((n) => {
        const o: VmStartSpec['nics'][number] = { id: n.uuid, networkid: n.n_uuid, deviceid: n.device_id, isdefault: n.is_default === 1 };
        if (n.mac_address !== null) o.macaddress = n.mac_address;
        if (n.ip_address !== null) o.ipaddress = n.ip_address;
        if (n.netmask !== null) o.netmask = n.netmask;
        if (n.gateway !== null) o.gateway = n.gateway;
        if (n.broadcast_uri !== null) o.broadcasturi = n.broadcast_uri;
        return o;
      }) };
    if (vm.t_uuid !== null) spec.templateid = vm.t_uuid;
    if (vm.t_url !== null && vm.t_format !== null) {
      spec.template = { url: vm.t_url, format: vm.t_format, ...(vm.t_checksum === null ? {} : { checksum: vm.t_checksum }) };
    } else if (vm.t_uuid !== null && vm.t_format !== null && vm.t_iso === 0) {
      // registerTemplate needs a URL, so a template without one was created from a volume or snapshot.
      spec.template = { uuid: vm.t_uuid, format: vm.t_format };
    }
    return spec;
  }

  /**
   * Up and Enabled hosts (in enabled pods and clusters) with room for the VM after over-provisioning,
   * optionally of one cluster, hypervisor and host tag, outside the avoid set. 'random' starts the scan
   * at a random host and wraps around, so that VMs spread over the whole zone (CloudStack's random
   * allocator) and a scan skips few full hosts. The reservation that follows re-checks capacity atomically.
   */
  hostCandidates(q: HostPickQuery): HostPick[] {
    const zoneId = this.ctx.requireId('zone', q.zoneid, 'zone');
    const cpuF = this.config.number('cpu.overprovisioning.factor', 1);
    const memF = this.config.number('mem.overprovisioning.factor', 1);
    const where = ['h.zone_id = ?', 'h.removed IS NULL', "h.state = 'Up'", "h.resource_state = 'Enabled'", "h.type = 'Routing'",
      'h.cpu_allocated + ? <= h.cpu_cores * h.cpu_speed * ?', 'h.mem_allocated + ? <= h.memory * ?',
      "(h.cluster_id IS NULL OR c.allocation_state = 'Enabled')", "(h.pod_id IS NULL OR p.allocation_state = 'Enabled')"];
    const args: unknown[] = [zoneId, q.cpu, cpuF, q.memory, memF];
    if (q.podid !== undefined) { where.push('p.uuid = ?'); args.push(q.podid); }
    if (q.clusterid !== undefined) { where.push('c.uuid = ?'); args.push(q.clusterid); }
    if (q.hypervisor !== undefined) { where.push('h.hypervisor = ?'); args.push(q.hypervisor); }
    if (q.hosttag !== undefined) { where.push("(',' || h.host_tags || ',') LIKE ?"); args.push(`%,${q.hosttag},%`); }
    if (q.avoid !== undefined && q.avoid.length > 0) { where.push('h.uuid NOT IN (SELECT value FROM json_each(?))'); args.push(JSON.stringify(q.avoid)); }
    const sql = (extra: string, order: string): string => `SELECT h.uuid, h.name, c.uuid AS c FROM host h
      LEFT JOIN pod p ON p.id = h.pod_id LEFT JOIN cluster c ON c.id = h.cluster_id WHERE ${[...where, extra].join(' AND ')}
      ORDER BY ${order} LIMIT ?`;
    const map = (r: { uuid: string; name: string; c: string | null }): HostPick => (r.c === null ? { hostid: r.uuid, name: r.name }
      : { hostid: r.uuid, name: r.name, clusterid: r.c });
    type Row = { uuid: string; name: string; c: string | null };
    if (q.order === 'leastconsumed') {
      return this.ctx.all<Row>(sql('1', 'h.cpu_allocated * 1.0 / MAX(1, h.cpu_cores * h.cpu_speed), h.id'), ...args, q.limit).map(map);
    }
    let pivot = 0;
    if (q.order === 'random') {
      const span = this.ctx.one<{ lo: number | null; hi: number | null }>('SELECT MIN(id) AS lo, MAX(id) AS hi FROM host WHERE zone_id = ?', zoneId)!;
      if (span.lo !== null && span.hi !== null) pivot = span.lo + Math.floor((q.pivot ?? 0) * (span.hi - span.lo + 1));
    }
    const first = this.ctx.all<Row>(sql('h.id >= ?', 'h.id'), ...args, pivot, q.limit);
    if (first.length >= q.limit || pivot === 0) return first.map(map);
    return [...first, ...this.ctx.all<Row>(sql('h.id < ?', 'h.id'), ...args, pivot, q.limit - first.length)].map(map);
  }

  vmDetails(vmUuid: string): VmStartDetails {
    const vm = this.ctx.one<{ account_id: number; user_data: string | null; password: string | null; keypair: string | null }>(
      'SELECT account_id, user_data, password, keypair FROM vm_instance WHERE uuid = ? AND removed IS NULL', vmUuid);
    if (vm === undefined) throw new NotFoundError(`Unable to find virtual machine with id ${vmUuid}`);
    const out: VmStartDetails = {};
    if (vm.user_data !== null) out.userdata = vm.user_data;
    if (vm.password !== null) out.password = vm.password;
    if (vm.keypair !== null) {
      const key = this.ctx.one<{ public_key: string }>('SELECT public_key FROM ssh_keypair WHERE account_id = ? AND name = ?',
        vm.account_id, vm.keypair);
      if (key !== undefined) out.sshpublickey = key.public_key;
    }
    return out;
  }

  /** Records the template's copy on the pool unless it is there already (idempotent). */
  templateOnPool(templateUuid: string, poolUuid: string): TemplateOnPool {
    return this.ctx.tx(() => {
      const tpl = this.ctx.one<{ id: number; size: number | null }>('SELECT id, size FROM template WHERE uuid = ?', templateUuid);
      if (tpl === undefined) throw new NotFoundError(`Unable to find template with id ${templateUuid}`);
      const poolId = this.ctx.requireId('storage_pool', poolUuid, 'storage pool');
      const held = this.ctx.one<{ install_path: string }>(
        'SELECT install_path FROM template_pool WHERE template_id = ? AND pool_id = ?', tpl.id, poolId);
      if (held !== undefined) return { path: held.install_path, copied: false };
      const path = `template/tmpl/${templateUuid}`;
      this.ctx.run('INSERT INTO template_pool (template_id, pool_id, install_path, size, created) VALUES (?, ?, ?, ?, ?)',
        tpl.id, poolId, path, tpl.size ?? 0, this.ctx.now());
      return { path, copied: true };
    });
  }

  /** How many pools hold a copy of the template (tests and capacity reports). */
  templateCopies(templateUuid: string): number {
    return this.ctx.one<{ n: number }>(`SELECT count(*) AS n FROM template_pool tp JOIN template t ON t.id = tp.template_id
      WHERE t.uuid = ?`, templateUuid)!.n;
  }

  /**
   * Points a Ready ROOT volume at a new clone of a template (restoreVirtualMachine): the volume keeps its
   * id and pool, its path and template change.
   */
  reimageVolume(volumeUuid: string, templateUuid: string, path: string): void {
    this.ctx.tx(() => {
      const vol = this.ctx.one<{ id: number; state: string; volume_type: string }>(
        'SELECT id, state, volume_type FROM volume WHERE uuid = ? AND removed IS NULL', volumeUuid);
      if (vol === undefined) throw new NotFoundError(`Unable to find volume with id ${volumeUuid}`);
      if (vol.volume_type !== 'ROOT') throw new IllegalStateError(`volume ${volumeUuid} is not a ROOT volume`);
      if (vol.state !== 'Ready' && vol.state !== 'Allocated') {
        throw new IllegalStateError(`volume ${volumeUuid} is ${vol.state}; it can be re-imaged when Ready or Allocated`);
      }
      const templateId = this.ctx.requireId('template', templateUuid, 'template');
      this.ctx.run('UPDATE volume SET template_id = ?, path = ? WHERE id = ?', templateId,
        vol.state === 'Ready' ? path : null, vol.id);
    });
  }
}
