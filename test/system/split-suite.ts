/**
 * The management side split into one process per component instance, over ws and over redis
 * (split-ws.test.ts, split-redis.test.ts): 1 data + 2 api + 2 orchestrator + 1 network + 1 storage +
 * 2 fabric-monitor + 1 fabric-admin + 3 compute processes of the real CLI, driven through both API
 * instances with csclient. The database of the data process is read (read-only) to see who did what:
 * job owners, leases. Measured times and counts are printed, never asserted.
 */
import { expect } from 'chai';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { CsApi, CsApiError } from '../helpers/cs-api.js';
import { apiInvariantViolations, storeInvariantViolations } from '../helpers/invariants.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { csclient, type Client } from '../lifecycle/csclient.js';
import { print, type TransportSuiteOptions } from './transport-suite.js';
import { ProcCluster } from './distributed-cluster.js';

interface Vm { id: string; name: string; state: string; hostid?: string; hostname?: string }
interface Host { id: string; name: string; state: string }
interface Ids { zoneid: string; small: string; ha: string; templateid: string }

const COMPUTES = ['c1', 'c2', 'c3'];
const TRANSITIONAL = new Set(['Starting', 'Stopping', 'Migrating', 'Expunging', 'Creating']);

/** The errors of the jobs that did not succeed (for failure messages). */
function failures(done: readonly { jobstatus: number; jobresult?: unknown }[]): string {
  return JSON.stringify(done.filter((r) => r.jobstatus !== 1).map((r) => r.jobresult)).slice(0, 2000);
}

export function describeSplit(o: TransportSuiteOptions): void {
  describe(`system: every component its own process (1 data, 2 api, 2 orchestrator, 2 fabric-monitor, ...) over ${o.transport}`, function () {
    this.timeout(180_000);
    let c: ProcCluster;
    let ids: Ids;
    const apis = new Map<string, CsApi>();
    const api = (name = 'api1'): CsApi => apis.get(name)!;
    const db = (): Database.Database => new Database(join(c.dir, 'd1-data', 'cloudstackd.db'), { readonly: true, fileMustExist: true });
    const query = <T>(sql: string, ...args: unknown[]): T[] => {
      const d = db();
      try { return d.prepare(sql).all(...args) as T[]; } finally { d.close(); }
    };
    const hosts = (): Promise<Host[]> => api().listAll<Host>('listHosts', 'host', { type: 'Routing' });
    const vms = (a = api()): Promise<Vm[]> => a.listAll<Vm>('listVirtualMachines', 'virtualmachine', { listall: true });
    const connect = (name: string): void => {
      apis.get(name)?.close();
      apis.set(name, new CsApi({ endpoint: c.endpointOf(name), ...c.keysOf('d1'), maxSockets: 16, jobTimeoutMs: 90_000, pollMs: 50 }));
    };
    const mock = async (value: string): Promise<string> =>
      String((await api().call<{ simulatormock: { id: string } }>('configureSimulator', { name: 'StartCommand', value, zoneid: ids.zoneid }))
        .simulatormock.id);
    const unmock = async (id: string): Promise<void> => { await api().call('cleanupSimulatorMock', { id }); };
    const submitDeploy = async (a: CsApi, offering = ids.small): Promise<string> =>
      (await a.call<{ jobid: string }>('deployVirtualMachine', { zoneid: ids.zoneid, serviceofferingid: offering, templateid: ids.templateid })).jobid;
    /** Leases of `node`'s orchestrator on jobs, still live. */
    const jobLeasesOf = (node: string): number => query<{ n: number }>(
      "SELECT count(*) AS n FROM lease WHERE name LIKE 'job:%' AND owner LIKE ? AND expires > ?", `${node}/%`, Date.now())[0]!.n;
    const settled = async (): Promise<void> => {
      await waitFor(() => query<{ n: number }>('SELECT count(*) AS n FROM async_job WHERE status = 0')[0]!.n === 0, 90_000, 'every job finished', 200);
      let last: string[] = [];
      await waitFor(async () => (last = [...await apiInvariantViolations(api()), ...(() => { const d = db(); try { return storeInvariantViolations(d); } finally { d.close(); } })()]).length === 0,
        30_000, 'no invariant violation', 200).catch((err: Error) => { throw new Error(`${err.message}: ${last.join('; ')}`); });
      const stuck = (await vms()).filter((v) => TRANSITIONAL.has(v.state));
      expect(stuck.map((v) => `${v.name} ${v.state}`), 'VMs left in a transitional state').to.deep.equal([]);
      const dup = (await api().listAll<{ type: string }>('listEvents', 'event', { listall: true })).filter((e) => e.type === 'VM.DUPLICATE');
      expect(dup, 'a VM reported running on two hosts at once').to.deep.equal([]);
    };

    before(async function () {
      const redisUrl = await o.setup?.(this);
      c = new ProcCluster({ transport: o.transport, ...(redisUrl === undefined ? {} : { redisUrl }) });
      const t0 = Date.now();
      await c.startRoles('d1', 'data');
      const via = { via: 'd1' };
      await Promise.all([
        c.startRoles('api1', 'api', via), c.startRoles('api2', 'api', via), c.startRoles('orch1', 'orchestrator', via),
        c.startRoles('orch2', 'orchestrator', via), c.startRoles('net1', 'network', via), c.startRoles('sto1', 'storage', via),
        c.startRoles('fm1', 'fabric-monitor', via), c.startRoles('fm2', 'fabric-monitor', via), c.startRoles('fa1', 'fabric-admin', via),
      ]);
      await Promise.all(COMPUTES.map((n) => c.startRoles(n, 'compute', via)));
      connect('api1');
      connect('api2');
      await waitFor(async () => (await hosts()).filter((h) => h.state === 'Up').length === 3, 60_000, 'three hosts Up', 200);
      print(`13 processes started and 3 hosts Up in ${Date.now() - t0} ms`);
      const offerings = await api().listAll<{ id: string; name: string }>('listServiceOfferings', 'serviceoffering');
      ids = {
        zoneid: (await api().listAll<{ id: string }>('listZones', 'zone'))[0]!.id,
        small: offerings.find((x) => x.name.startsWith('Small'))!.id,
        ha: offerings.find((x) => x.name.includes('HA'))!.id,
        templateid: (await api().listAll<{ id: string }>('listTemplates', 'template', { templatefilter: 'featured' }))[0]!.id,
      };
    });

    after(async () => {
      for (const a of apis.values()) a.close();
      await c?.dispose();
    });

    it('admits the compute nodes; 50 deploys through both API instances are run by both orchestrators; sessions and jobs are shared', async () => {
      const clients: Client[] = [await csclient(c.endpointOf('api1'), c.keysOf('d1')), await csclient(c.endpointOf('api2'), c.keysOf('d1'))];
      const before = query<{ m: number }>('SELECT COALESCE(max(id), 0) AS m FROM async_job')[0]!.m;
      const results = await Promise.all(Array.from({ length: 50 }, (_v, i) =>
        clients[i % 2]!.job('deployVirtualMachine', { zoneid: ids.zoneid, serviceofferingid: ids.small, templateid: ids.templateid })));
      expect(results.every((r) => r.jobstatus === 1)).to.equal(true);
      const owners = query<{ owner_node: string; n: number }>('SELECT owner_node, count(*) AS n FROM async_job WHERE id > ? GROUP BY owner_node', before);
      print(`jobs run per orchestrator: ${owners.map((r) => `${r.owner_node}=${r.n}`).join(', ')}`);
      expect(owners.map((r) => r.owner_node).sort()).to.deep.equal(['orch1', 'orch2']);
      // A job submitted through one API instance is answered on the other.
      const jobid = await submitDeploy(api('api1'));
      expect((await api('api2').waitJob(jobid)).jobstatus).to.equal(1);
      // A session made on api1 is valid on api2; a logout on api2 ends it on api1.
      const session = await login(c.endpointOf('api1'));
      expect(await sessionCall(c.endpointOf('api2'), session, 'listZones')).to.equal(200);
      expect(await sessionCall(c.endpointOf('api2'), session, 'logout')).to.equal(200);
      expect(await sessionCall(c.endpointOf('api1'), session, 'listZones')).to.equal(401);
      // listManagementServers: every management process, with the components it runs.
      const ms = await api('api2').listAll<{ name: string; state: string; components: string }>('listManagementServers', 'managementserver');
      expect(ms.map((m) => m.name).sort()).to.deep.equal(['api1', 'api2', 'd1', 'fa1', 'fm1', 'fm2', 'net1', 'orch1', 'orch2', 'sto1']);
      expect(ms.find((m) => m.name === 'orch2')!.components).to.equal('orchestrator');
      await settled();
    });

    it('SIGKILL of an orchestrator with 20+ jobs in flight: the other takes them over and every job ends', async () => {
      const slow = await mock('wait:2500');
      const jobs = await Promise.all(Array.from({ length: 36 }, (_v, i) => submitDeploy(api(i % 2 === 0 ? 'api1' : 'api2'))));
      await waitFor(() => jobLeasesOf('orch1') >= 20 || query<{ n: number }>("SELECT count(*) AS n FROM async_job WHERE status = 0 AND owner_node = 'orch1'")[0]!.n >= 18,
        20_000, 'orch1 holding 18+ jobs', 20);
      const inFlight = query<{ n: number }>("SELECT count(*) AS n FROM async_job WHERE status = 0 AND owner_node = 'orch1'")[0]!.n;
      const t0 = Date.now();
      await c.signal('orch1', 'SIGKILL');
      await unmock(slow);
      const done = await Promise.all(jobs.map((j) => api('api2').waitJob(j)));
      const resumed = query<{ n: number }>(`SELECT count(*) AS n FROM async_job WHERE uuid IN (${jobs.map(() => '?').join(',')}) AND owner_node = 'orch2'`, ...jobs)[0]!.n;
      print(`${inFlight} jobs of orch1 in flight at the SIGKILL; all ${jobs.length} finished ${Date.now() - t0} ms later ` +
        `(${done.filter((r) => r.jobstatus === 1).length} succeeded), ${resumed} finished by orch2`);
      expect(done.map((r) => r.jobstatus), failures(done)).to.deep.equal(jobs.map(() => 1));
      await settled();
      await c.startRoles('orch1', 'orchestrator', { via: 'd1' });
    });

    it('an orchestrator stalled (SIGSTOP) past its lease is taken over; woken up, its stale writes and commands are refused', async () => {
      // Starts take 1.5 s (well inside the 10 s step deadline even when a new owner repeats one).
      const slow = await mock('wait:1500');
      const jobs = await Promise.all(Array.from({ length: 16 }, () => submitDeploy(api('api1'))));
      await waitFor(() => jobLeasesOf('orch2') >= 4, 20_000, 'orch2 holding 4+ jobs', 20);
      const held = jobLeasesOf('orch2');
      await c.signal('orch2', 'SIGSTOP');
      const t0 = Date.now();
      await waitFor(() => query<{ n: number }>("SELECT count(*) AS n FROM lease WHERE name LIKE 'job:%' AND owner LIKE 'orch2/%'")[0]!.n === 0,
        30_000, 'every job lease of orch2 taken over', 100);
      print(`${held} job leases of the stalled orch2 taken over ${Date.now() - t0} ms after SIGSTOP`);
      await c.signal('orch2', 'SIGCONT');
      await unmock(slow);
      const done = await Promise.all(jobs.map((j) => api('api2').waitJob(j)));
      if (done.some((r) => r.jobstatus !== 1)) for (const n of ['orch1', 'orch2', 'd1']) console.log(`--- ${n}\n${c.procs.get(n)!.tail()}`);
      expect(done.map((r) => r.jobstatus), failures(done)).to.deep.equal(jobs.map(() => 1));
      await sleep(1_500);
      const refusedWrites = (c.procs.get('d1')!.tail().match(/refused a write from a stale lease holder/g) ?? []).length;
      const refusedCommands = COMPUTES.reduce((n, h) => n + (c.procs.get(h)!.tail().match(/refused a command from a stale job owner/g) ?? []).length, 0);
      const staleOwnerships = query<{ n: number }>("SELECT count(*) AS n FROM lease WHERE owner LIKE 'orch2/%' AND name LIKE 'job:%'")[0]!.n;
      print(`after SIGCONT: ${refusedWrites} stale writes refused by the data service, ${refusedCommands} stale commands refused by agents, ` +
        `${staleOwnerships} jobs held by the stale incarnation`);
      expect(staleOwnerships).to.equal(0);
      await settled();
    });

    it('SIGKILL of an API instance mid-load: clients retry on the other, and its jobs are answered there', async () => {
      const submitted: string[] = [];
      let failedOver = 0;
      const load = (async () => {
        for (let i = 0; i < 30; i++) {
          try {
            submitted.push(await submitDeploy(api('api1')));
          } catch (err) {
            if (err instanceof CsApiError) throw err;
            failedOver++;
            submitted.push(await submitDeploy(api('api2')));
          }
        }
      })();
      await waitFor(() => submitted.length >= 8, 20_000, 'load under way', 10);
      await c.signal('api1', 'SIGKILL');
      await load;
      const done = await Promise.all(submitted.map((j) => api('api2').waitJob(j)));
      print(`${submitted.length} deploys submitted, ${failedOver} retried on api2 after the SIGKILL; all answered by api2`);
      expect(done.map((r) => r.jobstatus), failures(done)).to.deep.equal(submitted.map(() => 1));
      await c.startRoles('api1', 'api', { via: 'd1' });
      connect('api1');
      await settled();
    });

    it('SIGKILL of the acting fabric monitor: the standby takes over, and a compute node killed then still gets its HA VMs restarted once', async () => {
      const acting = () => query<{ owner: string }>("SELECT owner FROM lease WHERE name = 'fabric-monitor' AND expires > ?", Date.now())[0]?.owner.split('/')[0];
      const first = acting()!;
      const standby = first === 'fm1' ? 'fm2' : 'fm1';
      const target = (await hosts()).find((h) => h.name === 'c3')!;
      const ha = await Promise.all([0, 1, 2].map(async () => (await api().job('deployVirtualMachine', { zoneid: ids.zoneid, serviceofferingid: ids.ha,
        templateid: ids.templateid, hostid: target.id })).id!));
      const t0 = Date.now();
      await c.signal(first, 'SIGKILL');
      await waitFor(() => acting() === standby, 30_000, `${standby} acting`, 100);
      print(`${standby} acting ${Date.now() - t0} ms after SIGKILL of ${first}`);
      await c.signal('c3', 'SIGKILL');
      await waitFor(async () => (await vms()).filter((v) => ha.includes(v.id) && v.state === 'Running' && v.hostid !== target.id).length === ha.length,
        60_000, 'HA VMs running elsewhere', 200);
      print(`HA VMs of c3 running elsewhere ${Date.now() - t0} ms after the monitor's SIGKILL`);
      await sleep(2_000);
      const starts = query<{ n: number }>(`SELECT count(*) AS n FROM async_job WHERE cmd LIKE '%StartVMCmd' AND status = 1 AND instance_uuid IN (${ha.map(() => '?').join(',')})`, ...ha)[0]!.n;
      expect(starts, 'HA restarts (one per VM)').to.equal(ha.length);
      await c.startRoles(first, 'fabric-monitor', { via: standby });
      await c.startRoles('c3', 'compute', { via: 'd1' });
      await waitFor(async () => (await hosts()).filter((h) => h.state === 'Up').length === 3, 60_000, 'three hosts Up again', 200);
      await settled();
    });

    it('a restart of the data process under load: the others wait and retry, and nothing acknowledged is lost', async () => {
      const acknowledged: string[] = [];
      const errors: string[] = [];
      let stop = false;
      const load = (async () => {
        for (let i = 0; !stop; i++) {
          try {
            acknowledged.push(await submitDeploy(api(i % 2 === 0 ? 'api1' : 'api2')));
          } catch (err) {
            errors.push((err as Error).message);
          }
        }
      })();
      await waitFor(() => acknowledged.length >= 5, 20_000, 'load under way', 10);
      const t0 = Date.now();
      await c.signal('d1', 'SIGKILL');
      await sleep(1_000);
      await c.startRoles('d1', 'data', { via: 'api2' });
      print(`data process back ${Date.now() - t0} ms after its SIGKILL`);
      await sleep(2_000);
      stop = true;
      await load;
      const done = await Promise.all(acknowledged.map((j) => api('api2').waitJob(j)));
      print(`${acknowledged.length} deploys acknowledged across the restart (${errors.length} calls failed: ${[...new Set(errors)].slice(0, 2).join(' | ')}); ` +
        `${done.filter((r) => r.jobstatus === 1).length} succeeded; failed: ${failures(done)}`);
      const known = new Set(query<{ uuid: string }>('SELECT uuid FROM async_job').map((r) => r.uuid));
      expect(acknowledged.filter((j) => !known.has(j)), 'acknowledged jobs missing after the restart').to.deep.equal([]);
      expect(done.every((r) => r.jobstatus !== 0)).to.equal(true);
      await settled();
    });
  });
}

/** A password login on `endpoint`: the cookies and the session key. */
async function login(endpoint: string): Promise<{ cookie: string; key: string }> {
  const res = await fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'command=login&response=json&username=admin&password=password' });
  const body = await res.json() as { loginresponse: { sessionkey: string } };
  const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  return { cookie, key: body.loginresponse.sessionkey };
}

async function sessionCall(endpoint: string, s: { cookie: string; key: string }, command: string): Promise<number> {
  const res = await fetch(`${endpoint}?command=${command}&response=json&sessionkey=${encodeURIComponent(s.key)}`, { headers: { cookie: s.cookie } });
  await res.arrayBuffer();
  return res.status;
}
