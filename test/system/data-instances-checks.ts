/**
 * The checks of data-instances.test.ts: what the clients' logs (fixtures/data-client.ts) and the
 * database must say after many clients hammered several data instances. Each returns the violations
 * found, as lines (empty: none).
 *
 * The logs hold three kinds of outcome: `ack` (done), `no` (the data service said it was not done) and
 * `unknown` (the answer was lost). Only acknowledged outcomes are relied on, and only what they prove:
 * an item is certainly held from the answer of its allocation (`at`) until the next operation on it was
 * sent (`sent`); a lease is certainly valid until the latest expiry its holder was told.
 */
import type pg from 'pg';

export interface Entry {
  t: 'ack' | 'no' | 'unknown';
  op: string;
  sent: number;
  at: number;
  node: string;
  code?: string;
  message?: string;
  [k: string]: unknown;
}

const str = (e: Entry, k: string): string => String(e[k]);
const num = (e: Entry, k: string): number => Number(e[k]);

/** Entries per item (a VM, NIC or network is worked on by one client worker at a time), in order. */
function byItem(entries: readonly Entry[], key: string, ops: readonly string[]): Map<string, Entry[]> {
  const m = new Map<string, Entry[]>();
  for (const e of entries) {
    if (!ops.includes(e.op)) continue;
    const k = str(e, key);
    let list = m.get(k);
    if (list === undefined) { list = []; m.set(k, list); }
    list.push(e);
  }
  for (const list of m.values()) list.sort((a, b) => a.sent - b.sent);
  return m;
}

interface Held { item: string; value: string; from: number; to: number; size: number }

/** Intervals in which an item certainly held a value: from its allocation's answer to the next call on it. */
function heldIntervals(entries: readonly Entry[], key: string, take: string, give: string, value: (e: Entry) => string,
  size: (e: Entry) => number = () => 1): Held[] {
  const out: Held[] = [];
  for (const [item, list] of byItem(entries, key, [take, give])) {
    list.forEach((e, i) => {
      if (e.t !== 'ack' || e.op !== take) return;
      const next = list[i + 1];
      out.push({ item, value: value(e), from: e.at, to: next === undefined ? Infinity : next.sent, size: size(e) });
    });
  }
  return out;
}

/** No address of a network, no VNI of the zone, certainly held by two items at once. */
export function exclusiveViolations(entries: readonly Entry[]): string[] {
  const out: string[] = [];
  const check = (what: string, held: Held[]): void => {
    const byValue = new Map<string, Held[]>();
    for (const h of held) byValue.set(h.value, [...(byValue.get(h.value) ?? []), h]);
    for (const [value, list] of byValue) {
      list.sort((a, b) => a.from - b.from);
      let last: Held | undefined;
      for (const h of list) {
        if (last !== undefined && h.from < last.to && h.item !== last.item) {
          out.push(`${what} ${value} held by ${last.item} [${last.from}, ${last.to}) and by ${h.item} from ${h.from}`);
        }
        if (last === undefined || h.to > last.to) last = h;
      }
    }
  };
  check('guest address', heldIntervals(entries, 'nic', 'nic', 'unnic', (e) => `${str(e, 'network')}/${str(e, 'ip')}`));
  check('VNI', heldIntervals(entries, 'net', 'vnet', 'unvnet', (e) => str(e, 'vni')));
  return out;
}

/** At no moment do the reservations certainly held on a host add up to more than it has. */
export function capacityViolations(entries: readonly Entry[], hosts: ReadonlyMap<string, { cpu: number; memory: number }>): string[] {
  const out: string[] = [];
  const held = heldIntervals(entries, 'vm', 'reserve', 'unreserve', (e) => str(e, 'host'), (e) => num(e, 'memory'));
  const cpuOf = new Map(entries.filter((e) => e.t === 'ack' && e.op === 'reserve').map((e) => [`${str(e, 'vm')}@${e.at}`, num(e, 'cpu')]));
  for (const [host, cap] of hosts) {
    // Ends before starts at the same instant: intervals are half-open.
    const events = held.filter((h) => h.value === host).flatMap((h) => [
      { t: h.from, mem: h.size, cpu: cpuOf.get(`${h.item}@${h.from}`) ?? 0, item: h.item },
      { t: h.to, mem: -h.size, cpu: -(cpuOf.get(`${h.item}@${h.from}`) ?? 0), item: h.item },
    ]).sort((a, b) => a.t - b.t || a.mem - b.mem);
    let mem = 0;
    let cpu = 0;
    for (const e of events) {
      mem += e.mem;
      cpu += e.cpu;
      if (mem > cap.memory || cpu > cap.cpu) {
        out.push(`host ${host} certainly held ${cpu} MHz / ${mem} bytes at ${e.t}, more than its ${cap.cpu} MHz / ${cap.memory} bytes`);
        break;
      }
    }
  }
  return out;
}

interface Grant { lease: string; owner: string; epoch: number; start: number; at: number; validUntil: number; releasedSent?: number }

/**
 * Leases: one holder per (lease, epoch) and one lease per epoch (epochs come from one counter); a new
 * holder never granted before the previous one's acknowledged validity ran out (unless it released
 * first); no fenced write acknowledged that was sent after its lease had moved on; every acknowledged
 * fenced write in the database and no refused one.
 */
export function leaseViolations(entries: readonly Entry[], fencedInDb: ReadonlySet<string>): string[] {
  const out: string[] = [];
  const grants = new Map<string, Grant>();
  const key = (lease: string, owner: string, epoch: number): string => `${lease}|${owner}|${epoch}`;
  for (const e of entries) {
    if (e.t !== 'ack' || e.op !== 'claim' || e['granted'] !== true) continue;
    const k = key(str(e, 'lease'), str(e, 'owner'), num(e, 'epoch'));
    const start = num(e, 'expires') - num(e, 'ttl');
    const g = grants.get(k);
    if (g === undefined) grants.set(k, { lease: str(e, 'lease'), owner: str(e, 'owner'), epoch: num(e, 'epoch'), start, at: e.at, validUntil: num(e, 'expires') });
    else { g.start = Math.min(g.start, start); g.at = Math.min(g.at, e.at); g.validUntil = Math.max(g.validUntil, num(e, 'expires')); }
  }
  for (const e of entries) {
    if (e.t !== 'ack') continue;
    const g = grants.get(key(str(e, 'lease'), str(e, 'owner'), num(e, 'epoch')));
    if (e.op === 'renew' && e['lost'] === false && g !== undefined) g.validUntil = Math.max(g.validUntil, num(e, 'expires'));
    if (e.op === 'unlease' && e['released'] === true && g !== undefined) g.releasedSent = Math.min(g.releasedSent ?? Infinity, e.sent);
  }
  const owners = new Map<string, Set<string>>();
  for (const g of grants.values()) {
    const k = String(g.epoch);
    owners.set(k, new Set([...(owners.get(k) ?? []), `${g.lease} ${g.owner}`]));
  }
  for (const [epoch, who] of owners) if (who.size > 1) out.push(`epoch ${epoch} granted to ${[...who].join(' and ')}`);
  const perLease = new Map<string, Grant[]>();
  for (const g of grants.values()) perLease.set(g.lease, [...(perLease.get(g.lease) ?? []), g]);
  for (const [lease, list] of perLease) {
    list.sort((a, b) => a.epoch - b.epoch);
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length; j++) {
        const a = list[i]!;
        const b = list[j]!;
        if (b.start >= a.validUntil) continue;
        if (a.releasedSent !== undefined && b.at >= a.releasedSent) continue;
        out.push(`${lease}: ${b.owner} granted epoch ${b.epoch} at ${b.start} while ${a.owner} held epoch ${a.epoch} until ${a.validUntil}`);
      }
    }
  }
  for (const e of entries) {
    if (e.op !== 'fenced') continue;
    const token = str(e, 'token');
    if (e.t === 'ack' && !fencedInDb.has(token)) out.push(`acknowledged fenced write ${token} is not in the database`);
    if (e.t === 'no' && fencedInDb.has(token)) out.push(`fenced write ${token} was refused (${e.code}) but is in the database`);
    if (e.t !== 'ack') continue;
    const lease = str(e, 'lease');
    const mine = grants.get(key(lease, str(e, 'owner'), num(e, 'epoch')));
    if (mine?.releasedSent !== undefined && e.sent > (entries.find((x) => x.op === 'unlease' && x.t === 'ack' && x.sent === mine.releasedSent
      && str(x, 'lease') === lease)?.at ?? Infinity)) {
      out.push(`fenced write ${token} acknowledged though sent after its lease was released`);
    }
    for (const g of perLease.get(lease) ?? []) {
      if (g.epoch > num(e, 'epoch') && g.at < e.sent) {
        out.push(`fenced write ${token} (epoch ${num(e, 'epoch')}) acknowledged though sent after epoch ${g.epoch} was granted to ${g.owner}`);
      }
    }
  }
  return out;
}

/** What the last known outcome says an item holds: a value, null (nothing), or undefined (unknown). */
function finalOf(list: readonly Entry[], take: string, value: (e: Entry) => string): string | null | undefined {
  let state: string | null | undefined = null;
  for (const e of list) {
    if (e.t === 'unknown') state = undefined;
    else if (e.t === 'ack') state = e.op === take ? value(e) : null;
  }
  return state;
}

/** Snapshot of the database after the run: what each item holds there. */
export interface FinalDb {
  reservations: Map<string, string[]>;
  nicIps: Map<string, string | null>;
  networkVnis: Map<string, string | null>;
}

/** Every item holds in the database exactly what its last acknowledged operation left. */
export function finalStateViolations(entries: readonly Entry[], db: FinalDb): string[] {
  const out: string[] = [];
  const compare = (what: string, key: string, take: string, give: string, value: (e: Entry) => string,
    actual: (item: string) => string | null) => {
    for (const [item, list] of byItem(entries, key, [take, give])) {
      const want = finalOf(list, take, value);
      if (want === undefined) { out.push(`${what} ${item}: the last operation's outcome is unknown (the client could not settle it)`); continue; }
      const got = actual(item);
      if (got !== want) out.push(`${what} ${item}: acknowledged ${want ?? 'nothing'}, the database has ${got ?? 'nothing'}`);
    }
  };
  compare('VM', 'vm', 'reserve', 'unreserve', (e) => str(e, 'host'), (vm) => (db.reservations.get(vm) ?? []).join(',') || null);
  compare('NIC', 'nic', 'nic', 'unnic', (e) => str(e, 'ip'), (nic) => db.nicIps.get(nic) ?? null);
  compare('network', 'net', 'vnet', 'unvnet', (e) => str(e, 'vni'), (net) => db.networkVnis.get(net) ?? null);
  return out;
}

export async function readFinalDb(c: pg.Client): Promise<FinalDb> {
  const res = await c.query<{ vm: string; host: string }>(`SELECT v.uuid AS vm, h.uuid AS host FROM capacity_reservation r
    JOIN vm_instance v ON v.id = r.vm_id JOIN host h ON h.id = r.host_id`);
  const reservations = new Map<string, string[]>();
  for (const r of res.rows) reservations.set(r.vm, [...(reservations.get(r.vm) ?? []), r.host]);
  const nics = await c.query<{ uuid: string; ip: string | null }>('SELECT uuid, ip_address AS ip FROM nic WHERE removed IS NULL');
  const nets = await c.query<{ uuid: string; vlan: string | null }>('SELECT uuid, vlan FROM network WHERE removed IS NULL');
  return { reservations, nicIps: new Map(nics.rows.map((r) => [r.uuid, r.ip])), networkVnis: new Map(nets.rows.map((r) => [r.uuid, r.vlan])) };
}

/**
 * Invariants of one database snapshot (each query is one statement, so one consistent snapshot): no
 * host over capacity, host totals equal to their reservations, no guest address twice in a network,
 * no VNI on two networks of a zone, and the VNI pool agreeing with the networks.
 */
export async function snapshotViolations(c: pg.Client): Promise<string[]> {
  const q = async (what: string, sql: string): Promise<string[]> =>
    (await c.query(sql)).rows.map((r) => `${what}: ${JSON.stringify(r)}`);
  return [
    ...await q('host over capacity', `SELECT uuid, cpu_allocated, mem_allocated FROM host
      WHERE cpu_allocated > cpu_cores * cpu_speed OR mem_allocated > memory`),
    ...await q('host totals differ from its reservations', `SELECT h.uuid, h.cpu_allocated, h.mem_allocated, s.cpu, s.mem FROM host h
      LEFT JOIN (SELECT host_id, SUM(cpu) AS cpu, SUM(memory) AS mem FROM capacity_reservation GROUP BY host_id) s ON s.host_id = h.id
      WHERE h.cpu_allocated <> COALESCE(s.cpu, 0) OR h.mem_allocated <> COALESCE(s.mem, 0)`),
    ...await q('guest address twice', `SELECT network_id, ip_address, count(*) AS n FROM nic WHERE ip_num IS NOT NULL AND removed IS NULL
      GROUP BY network_id, ip_address HAVING count(*) > 1`),
    ...await q('VNI on two networks', `SELECT zone_id, vlan, count(*) AS n FROM network WHERE vlan IS NOT NULL AND removed IS NULL
      GROUP BY zone_id, vlan HAVING count(*) > 1`),
    ...await q('VNI pool and network disagree', `SELECT n.uuid, n.vlan, v.vnet FROM network n FULL JOIN vnet v ON v.network_id = n.id
      WHERE (n.id IS NOT NULL AND (n.vlan IS NOT NULL OR v.vnet IS NOT NULL) AND (v.vnet IS NULL OR n.vlan IS NULL OR n.vlan <> v.vnet::text))
      OR (n.id IS NULL AND v.network_id IS NOT NULL)`),
  ];
}
