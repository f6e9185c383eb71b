/**
 * The distributed system suite, run over ws and over redis (distributed-ws.test.ts,
 * distributed-redis.test.ts): 1 management + 3 compute processes of the real CLI, driven through the
 * HTTP API (the npm csclient for the deploys). Every wait has a generous timeout; the measured times
 * are printed, never asserted.
 */
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { CsApiError, type CsApi } from '../helpers/cs-api.js';
import { apiInvariantViolations } from '../helpers/invariants.js';
import { cliPath } from '../helpers/paths.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { csclient } from '../lifecycle/csclient.js';
import { print, type TransportSuiteOptions } from './transport-suite.js';
import { ProcCluster, freePort } from './distributed-cluster.js';

interface Vm { id: string; name: string; state: string; hostid?: string; hostname?: string; haenable: boolean }
interface Host { id: string; name: string; state: string; resourcestate: string; cpunumber: number; memorytotal: number }
interface Ids { zoneid: string; small: string; ha: string; templateid: string }

const COMPUTES = ['c1', 'c2', 'c3'];
/** SIGKILL-in-a-deploy rounds per transport: enough random kill points, bounded run time. */
export const KILL_ROUNDS = Number(process.env.KILL_ROUNDS ?? 20);

export function describeDistributed(o: TransportSuiteOptions): void {
  describe(`system: 1 management + 3 compute cloudstackd processes over ${o.transport}`, function () {
    this.timeout(150_000);
    let c: ProcCluster;
    let ids: Ids;
    let sampler: NodeJS.Timeout | undefined;
    const samples = { count: 0, problems: [] as string[] };
    const api = (): CsApi => c.api!;
    const hosts = (): Promise<Host[]> => api().listAll<Host>('listHosts', 'host', { type: 'Routing' });
    const vms = (): Promise<Vm[]> => api().listAll<Vm>('listVirtualMachines', 'virtualmachine', { listall: true });
    const allUp = async (): Promise<boolean> => { const h = await hosts(); return h.length === 3 && h.every((x) => x.state === 'Up'); };
    const hostOf = async (name: string): Promise<Host> => (await hosts()).find((h) => h.name === name)!;
    const events = async (type: string) => (await api().listAll<{ type: string; description: string }>('listEvents', 'event', { listall: true }))
      .filter((e) => e.type === type);
    /** After a scenario: every job finished and the invariant queries return nothing (HA may still be settling). */
    const settled = async (): Promise<void> => {
      await waitFor(async () => (await api().listAll<{ jobstatus: number }>('listAsyncJobs', 'asyncjobs', { listall: true })).every((j) => j.jobstatus !== 0),
        60_000, 'every job finished');
      let last: string[] = [];
      await waitFor(async () => (last = await apiInvariantViolations(api())).length === 0, 30_000, 'no invariant violation')
        .catch((err: Error) => { throw new Error(`${err.message}: ${last.join('; ')}`); });
      expect(await events('VM.DUPLICATE'), 'a VM reported running on two hosts at once').to.deep.equal([]);
    };

    before(async function () {
      const redisUrl = await o.setup?.(this);
      if (!existsSync(cliPath())) {
        if (process.env.CI === 'true') throw new Error(`${cliPath()} is missing: run npm run build first`);
        print(`skipped: ${cliPath()} is not built; run npm run build`);
        this.skip();
      }
      c = new ProcCluster({ transport: o.transport, ...(redisUrl === undefined ? {} : { redisUrl }) });
      await c.startManagement();
      const t0 = Date.now();
      await Promise.all(COMPUTES.map((n) => c.startCompute(n)));
      await waitFor(allUp, 30_000, 'three hosts Up', 100);
      print(`3 hosts Up ${Date.now() - t0} ms after the compute processes were started`);
      const offerings = await api().listAll<{ id: string; name: string }>('listServiceOfferings', 'serviceoffering');
      ids = {
        zoneid: (await api().listAll<{ id: string }>('listZones', 'zone'))[0]!.id,
        small: offerings.find((x) => x.name.startsWith('Small'))!.id,
        ha: offerings.find((x) => x.name.includes('HA'))!.id,
        templateid: (await api().listAll<{ id: string }>('listTemplates', 'template', { templatefilter: 'featured' }))[0]!.id,
      };
      // Sample the database's view throughout: one row per VM, a Running VM always has a host.
      sampler = setInterval(() => {
        void vms().then((list) => {
          samples.count++;
          const seen = new Set<string>();
          for (const v of list) {
            if (seen.has(v.id)) samples.problems.push(`VM ${v.name} listed twice`);
            seen.add(v.id);
            if (v.state === 'Running' && v.hostid === undefined) samples.problems.push(`VM ${v.name} Running on no host`);
          }
        }, () => undefined);
      }, 150);
    });

    after(async () => {
      if (sampler !== undefined) clearInterval(sampler);
      await c?.dispose();
    });

    afterEach(function () {
      if (this.currentTest?.state === 'failed' && c !== undefined) {
        for (const p of c.procs.values()) process.stdout.write(`--- ${p.name} stderr (tail) ---\n${p.tail().slice(-2000)}\n`);
      }
      expect(samples.problems).to.deep.equal([]);
    });

    it('admits the compute nodes as hosts with their capacity, and deploys 30 VMs over the three with csclient', async () => {
      for (const h of await hosts()) {
        expect(h.cpunumber).to.equal(32);
        expect(h.memorytotal).to.equal(131_072 * 1024 * 1024);
      }
      const client = await csclient(c.endpoint, c.keys);
      const t0 = Date.now();
      const jobs = await Promise.all(Array.from({ length: 30 }, (_v, i) => client.job('deployVirtualMachine', {
        zoneid: ids.zoneid, templateid: ids.templateid, serviceofferingid: i % 3 === 0 ? ids.ha : ids.small })));
      print(`30 deploys through csclient in ${Date.now() - t0} ms`);
      expect(jobs.map((j) => j.jobstatus)).to.deep.equal(Array(30).fill(1));
      const list = await vms();
      expect(list.filter((v) => v.state === 'Running')).to.have.length(30);
      expect(new Set(list.map((v) => v.hostname)).size).to.equal(3);
      await settled();
    });

    it('SIGKILL of a compute process: its host is Down, its HA VMs run elsewhere, the others are Stopped; restarted, it is Up again', async () => {
      const before = await vms();
      const byHost = (name: string) => before.filter((v) => v.hostname === name && v.state === 'Running');
      const victim = [...COMPUTES].sort((a, b) => byHost(b).length - byHost(a).length)[0]!;
      const lost = byHost(victim);
      const victimId = (await hostOf(victim)).id;
      expect(lost.some((v) => v.haenable) && lost.some((v) => !v.haenable), 'the victim runs HA and non-HA VMs').to.equal(true);
      const t0 = Date.now();
      await c.signal(victim, 'SIGKILL');
      await waitFor(async () => (await hostOf(victim)).state === 'Down', 30_000, `${victim} Down`, 50);
      const downMs = Date.now() - t0;
      await waitFor(async () => {
        const now = new Map((await vms()).map((v) => [v.id, v]));
        return lost.every((v) => {
          const x = now.get(v.id)!;
          return v.haenable ? x.state === 'Running' && x.hostid !== victimId : x.state === 'Stopped';
        });
      }, 60_000, 'HA VMs running elsewhere and the others Stopped', 50);
      print(`SIGKILL -> host Down ${downMs} ms; -> ${lost.filter((v) => v.haenable).length} HA VMs running elsewhere ${Date.now() - t0} ms`);
      await c.startCompute(victim);
      await waitFor(async () => (await hostOf(victim)).state === 'Up', 30_000, `${victim} Up again`, 100);
      await settled();
    });

    it(`SIGKILL of a compute process in the middle of deploys (${KILL_ROUNDS} rounds at random points): every job succeeds or fails with 530/533`, async () => {
      const outcomes: Record<string, number> = {};
      for (let round = 0; round < KILL_ROUNDS; round++) {
        const victim = COMPUTES[round % COMPUTES.length]!;
        // Starts on the victim take 500 ms (a simulator mock), so the kill lands while some are in flight there.
        const mock = await api().call<{ simulatormock: { id: string } }>('configureSimulator', { name: 'StartCommand', value: 'wait:500',
          hostid: (await hostOf(victim)).id });
        const submitted = await Promise.all(Array.from({ length: 6 }, (_v, i) => api().call<{ jobid: string; id: string }>('deployVirtualMachine', {
          zoneid: ids.zoneid, templateid: ids.templateid, serviceofferingid: i % 2 === 0 ? ids.ha : ids.small })));
        await sleep(Math.floor(Math.random() * 400));
        const pending = await Promise.all(submitted.map((j) => api().call<{ jobstatus: number }>('queryAsyncJobResult', { jobid: j.jobid })));
        await c.signal(victim, 'SIGKILL');
        outcomes['pending at the kill'] = (outcomes['pending at the kill'] ?? 0) + pending.filter((j) => j.jobstatus === 0).length;
        for (const s of submitted) {
          const r = await api().waitJob(s.jobid);
          const key = r.jobstatus === 1 ? 'succeeded' : `failed ${r.jobresultcode}`;
          outcomes[key] = (outcomes[key] ?? 0) + 1;
          if (r.jobstatus !== 1) expect([530, 533], JSON.stringify(r.jobresult)).to.include(r.jobresultcode);
        }
        await waitFor(async () => (await hostOf(victim)).state === 'Down', 30_000, `${victim} Down`, 50);
        await api().call('cleanupSimulatorMock', { id: mock.simulatormock.id });
        await c.startCompute(victim);
        await waitFor(allUp, 30_000, 'three hosts Up again', 100);
        // Give the capacity back, so that the later tests find the cloud as it was.
        for (const s of submitted) {
          const d = await api().call<{ jobid: string }>('destroyVirtualMachine', { id: s.id, expunge: true });
          await api().waitJob(d.jobid);
        }
      }
      print(`job outcomes over ${KILL_ROUNDS} rounds: ${JSON.stringify(outcomes)}`);
      await waitFor(async () => {
        const down = new Set((await hosts()).filter((h) => h.state !== 'Up').map((h) => h.id));
        return (await vms()).every((v) => v.state !== 'Running' || !down.has(v.hostid!));
      }, 30_000, 'no VM left Running on a host that is not Up');
      await settled();
    });

    it('a compute process stalled (SIGSTOP) until its VMs were restarted elsewhere comes back without running them twice', async () => {
      const list = await vms();
      const haOn = (name: string) => list.filter((v) => v.hostname === name && v.state === 'Running' && v.haenable);
      const victim = [...COMPUTES].sort((a, b) => haOn(b).length - haOn(a).length)[0]!;
      const moved = haOn(victim);
      const victimId = (await hostOf(victim)).id;
      expect(moved.length).to.be.greaterThan(0);
      await c.signal(victim, 'SIGSTOP');
      await waitFor(async () => (await hostOf(victim)).state === 'Down', 30_000, `${victim} Down`, 50);
      await waitFor(async () => {
        const now = new Map((await vms()).map((v) => [v.id, v]));
        return moved.every((v) => now.get(v.id)!.state === 'Running' && now.get(v.id)!.hostid !== victimId);
      }, 60_000, 'its HA VMs running elsewhere', 50);
      await c.signal(victim, 'SIGCONT');
      await waitFor(async () => (await hostOf(victim)).state === 'Up', 30_000, `${victim} Up again`, 100);
      // Several heartbeats of every host: a copy still running on the victim would show as a duplicate.
      await sleep(2_000);
      const now = new Map((await vms()).map((v) => [v.id, v]));
      for (const v of moved) expect(now.get(v.id)!.state, `VM ${v.name} stays Running where HA put it`).to.equal('Running');
      await settled();
    });

    it('maintenance mode moves the running VMs of a host away', async () => {
      const list = await vms();
      const target = [...COMPUTES].sort((a, b) => list.filter((v) => v.hostname === b && v.state === 'Running').length
        - list.filter((v) => v.hostname === a && v.state === 'Running').length)[0]!;
      const host = await hostOf(target);
      const moving = list.filter((v) => v.hostid === host.id && v.state === 'Running');
      expect(moving.length).to.be.greaterThan(0);
      const r = await api().job('prepareHostForMaintenance', { id: host.id });
      expect(r.jobstatus, JSON.stringify(r.jobresult)).to.equal(1);
      expect((await hostOf(target)).resourcestate).to.equal('Maintenance');
      const now = new Map((await vms()).map((v) => [v.id, v]));
      for (const v of moving) {
        expect(now.get(v.id)!.state).to.equal('Running');
        expect(now.get(v.id)!.hostid).to.not.equal(host.id);
      }
      const cancel = await api().job('cancelHostMaintenance', { id: host.id });
      expect(cancel.jobstatus).to.equal(1);
      await settled();
    });

    it('a restarted management node (same data dir) picks the hosts up again and keeps serving', async () => {
      const running = (await vms()).filter((v) => v.state === 'Running').map((v) => v.id).sort();
      // Jobs in flight when the management node dies are resumed by the next one (or failed as interrupted).
      const inFlight = await Promise.all(Array.from({ length: 4 }, () => api().call<{ jobid: string; id: string }>('deployVirtualMachine', {
        zoneid: ids.zoneid, templateid: ids.templateid, serviceofferingid: ids.small })));
      await c.signal('mgmt', 'SIGKILL');
      await c.startManagement('c1');
      await waitFor(allUp, 30_000, 'three hosts Up after the management restart', 100);
      const ends = await Promise.all(inFlight.map((j) => api().waitJob(j.jobid)));
      for (const e of ends) if (e.jobstatus !== 1) expect(e.jobresultcode, JSON.stringify(e.jobresult)).to.equal(530);
      print(`jobs in flight across the management restart: ${ends.filter((e) => e.jobstatus === 1).length} resumed and succeeded, ` +
        `${ends.filter((e) => e.jobstatus !== 1).length} failed as interrupted`);
      await sleep(1_000); // a few heartbeats: power states reconciled against the database
      const started = new Set(inFlight.filter((_j, i) => ends[i]!.jobstatus === 1).map((j) => j.id));
      const after = (await vms()).filter((v) => v.state === 'Running' && !started.has(v.id)).map((v) => v.id).sort();
      expect(after).to.deep.equal(running);
      const r = await api().job('deployVirtualMachine', { zoneid: ids.zoneid, templateid: ids.templateid, serviceofferingid: ids.small });
      expect(r.jobstatus, JSON.stringify(r.jobresult)).to.equal(1);
      await settled();
      print(`${samples.count} samples of the VM list taken during the suite`);
    });

    it('never admits a compute node that does not hold the cluster secret', async () => {
      const outsider = c.startOutsider('outsider', await freePort());
      await sleep(3_000);
      expect((await hosts()).map((h) => h.name).sort()).to.deep.equal([...COMPUTES].sort());
      const pod = (await api().listAll<{ id: string }>('listPods', 'pod'))[0]!.id;
      const err = await api().call('addHost', { zoneid: ids.zoneid, podid: pod, url: 'cloudstackd://outsider', hypervisor: 'Simulator' })
        .then(() => undefined, (e: CsApiError) => e);
      expect(err, 'addHost of a node that is not a member').to.be.instanceOf(CsApiError);
      outsider.kill('SIGKILL');
    });
  });
}
