import { InvalidParameterError } from '../../../../src/errors.js';
import type { StoreContext } from '../context.js';
import { compact } from '../format.js';
import { listResources, scanResources, type ListParams, type ListSpec } from '../list-query.js';
import type { ListResult, ScanChunk, ScanWindow } from '../pagination.js';
import { SYSTEM } from '../scoping.js';
import { getGlobal } from './common.js';

/** configureSimulator's / querySimulatorMock's `simulatormock` object. */
export interface SimulatorMock {
  id: string;
  name: string;
  value: string;
  count?: number;
  zoneid?: string;
  podid?: string;
  clusterid?: string;
  hostid?: string;
  jsonresponse?: string;
  removed?: boolean;
}

export interface CreateMockInput {
  /** The agent command to intercept, e.g. StartCommand. */
  name: string;
  /** `;`-separated options such as `result:fail`, `wait:5000`. */
  value: string;
  /** How many times it fires; omitted = forever. */
  count?: number;
  zoneid?: string;
  podid?: string;
  clusterid?: string;
  hostid?: string;
  jsonresponse?: string;
}

/** A mock that fired: what the simulator driver should do. */
export interface FiredMock {
  mock: SimulatorMock;
  /** Parsed `value`: {result: 'fail', wait: '5000', ...}. */
  options: Record<string, string>;
}

interface MockRow {
  uuid: string;
  name: string;
  value: string;
  count: number | null;
  json_response: string | null;
  removed: number | null;
  z_uuid: string | null;
  p_uuid: string | null;
  c_uuid: string | null;
  h_uuid: string | null;
}

const SPEC: ListSpec<MockRow, SimulatorMock> = {
  table: 'simulator_mock',
  columns: `t.uuid, t.name, t.value, t.count, t.json_response, t.removed, z.uuid AS z_uuid, p.uuid AS p_uuid,
    c.uuid AS c_uuid, h.uuid AS h_uuid`,
  joins: `LEFT JOIN zone z ON z.id = t.zone_id LEFT JOIN pod p ON p.id = t.pod_id LEFT JOIN cluster c ON c.id = t.cluster_id
    LEFT JOIN host h ON h.id = t.host_id`,
  scope: 'none',
  where: 't.removed IS NULL',
  filters: { name: { eq: 'name' }, zoneid: { ref: 'zone', column: 'zone_id' }, hostid: { ref: 'host', column: 'host_id' } },
  map: (r) => compact<SimulatorMock>({ id: r.uuid, name: r.name, value: r.value, count: r.count, zoneid: r.z_uuid,
    podid: r.p_uuid, clusterid: r.c_uuid, hostid: r.h_uuid, jsonresponse: r.json_response,
    removed: r.removed === null ? undefined : true }),
};

export function parseMockValue(value: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of value.split(';')) {
    const i = part.indexOf(':');
    if (part.trim() === '') continue;
    if (i < 0) out[part.trim()] = 'true';
    else out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return out;
}

/** Simulator failure-injection mocks (configureSimulator and friends). Root admin only, at the API. */
export class MockRepository {
  constructor(private readonly ctx: StoreContext) {}

  create(input: CreateMockInput): SimulatorMock {
    if (input.name.trim() === '') throw new InvalidParameterError('name (the agent command to mock) is required');
    if (input.count !== undefined && !(Number.isInteger(input.count) && input.count >= 0)) {
      throw new InvalidParameterError(`count must be a non-negative integer, got ${input.count}`);
    }
    return this.ctx.tx(() => {
      const ids = {
        zone: this.ctx.optionalId('zone', input.zoneid, 'zone'),
        pod: this.ctx.optionalId('pod', input.podid, 'pod'),
        cluster: this.ctx.optionalId('cluster', input.clusterid, 'cluster'),
        host: this.ctx.optionalId('host', input.hostid, 'host'),
      };
      const uuid = this.ctx.uuid();
      this.ctx.run(`INSERT INTO simulator_mock (uuid, name, value, count, zone_id, pod_id, cluster_id, host_id,
        json_response, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, uuid, input.name, input.value,
      input.count ?? null, ids.zone, ids.pod, ids.cluster, ids.host, input.jsonresponse ?? null, this.ctx.now());
      return this.get(uuid);
    });
  }

  /** querySimulatorMock: also answers for a cleaned-up mock (with `removed`), to show its final count. */
  get(uuid: string): SimulatorMock {
    return getGlobal(this.ctx, SPEC, 'simulator mock', uuid, '1').item;
  }

  list(params: ListParams = {}): ListResult<SimulatorMock> {
    return listResources(this.ctx, SPEC, SYSTEM, params);
  }

  /** Every match of `list`, chunk by chunk (see pagination.ts). */
  scan(params: ListParams, window: ScanWindow = {}): ScanChunk<SimulatorMock> {
    return scanResources(this.ctx, SPEC, SYSTEM, params, window);
  }

  /** cleanupSimulatorMock. */
  remove(uuid: string): void {
    this.ctx.tx(() => {
      const id = this.ctx.requireId('simulator_mock', uuid, 'simulator mock');
      this.ctx.run('UPDATE simulator_mock SET removed = ? WHERE id = ? AND removed IS NULL', this.ctx.now(), id);
    });
  }

  /**
   * Looks up the mock for an agent command sent to a host (or only a zone): the most specific live
   * match wins (host, then cluster, pod, zone, then global), and its count is decremented atomically.
   * Undefined when nothing matches or the matching mock is used up.
   */
  fire(name: string, target: { hostid?: string; zoneid?: string }): FiredMock | undefined {
    return this.ctx.tx(() => {
      const scope = this.scopeOf(target);
      const row = this.ctx.one<{ id: number; uuid: string }>(`SELECT id, uuid FROM simulator_mock
        WHERE name = ? AND removed IS NULL AND (count IS NULL OR count > 0)
          AND (host_id IS NULL OR host_id = ?) AND (cluster_id IS NULL OR cluster_id = ?)
          AND (pod_id IS NULL OR pod_id = ?) AND (zone_id IS NULL OR zone_id = ?)
        ORDER BY host_id IS NULL, cluster_id IS NULL, pod_id IS NULL, zone_id IS NULL, id DESC LIMIT 1`,
      name, scope.host, scope.cluster, scope.pod, scope.zone);
      if (row === undefined) return undefined;
      this.ctx.run('UPDATE simulator_mock SET count = count - 1 WHERE id = ? AND count IS NOT NULL', row.id);
      const mock = this.get(row.uuid);
      return { mock, options: parseMockValue(mock.value) };
    });
  }

  private scopeOf(target: { hostid?: string; zoneid?: string }):
    { host: number | null; cluster: number | null; pod: number | null; zone: number | null } {
    if (target.hostid !== undefined) {
      const h = this.ctx.one<{ id: number; cluster_id: number | null; pod_id: number | null; zone_id: number }>(
        'SELECT id, cluster_id, pod_id, zone_id FROM host WHERE uuid = ?', target.hostid);
      if (h !== undefined) return { host: h.id, cluster: h.cluster_id, pod: h.pod_id, zone: h.zone_id };
    }
    return { host: null, cluster: null, pod: null, zone: target.zoneid === undefined ? null : this.ctx.idOf('zone', target.zoneid) ?? null };
  }
}
