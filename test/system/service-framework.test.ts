/**
 * The service framework with real processes (issue 14, section 5): `cloudstackd up` from a spec (2 api,
 * 2 orchestrators, 3 compute) that csclient deploys through; an api instance SIGKILLed and restarted;
 * a second launcher node whose services move when it is SIGKILLed (its children notice and stop);
 * the acting framework SIGKILLed and the standby adopting without duplicates; Ctrl-C leaving no
 * process; and a crash-looping component stopped with an alert.
 */
import Database from 'better-sqlite3';
import { expect } from 'chai';
import parsePrometheus from 'parse-prometheus-text-format';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCli, type CliProcess } from '../helpers/cli-process.js';
import { CsApi } from '../helpers/cs-api.js';
import { waitFor } from '../helpers/wait.js';
import { csclient } from '../lifecycle/csclient.js';
import { processAlive, startUp, type UpCloud } from './up-process.js';

interface Instance { name: string; component: string; node: string; pid: number; state: string; restarts: number; endpoint?: string }
interface Service { name: string; desiredinstances: number; runninginstances?: number; restarts?: number; state: string }

interface Family { name: string; type: string; metrics: { labels?: Record<string, string>; value?: string; count?: string }[] }

const matches = (labels: Record<string, string> | undefined, want: Record<string, string>): boolean =>
  Object.entries(want).every(([k, v]) => labels?.[k] === v);

/** A histogram's observation count: the samples of its `_count` series that carry the labels wanted. */
function histogramCount(families: Family[], name: string, want: Record<string, string>): number {
  return sampleSum(families, `${name}_count`, want);
}

/**
 * Parses a scrape. parse-prometheus-text-format folds only unlabelled histograms into one object (it
 * drops the labels of labelled ones), so histograms are declared untyped first: each of their series
 * (`_bucket`, `_sum`, `_count`) is then read as plain samples with their labels.
 */
function parseScrape(text: string): Family[] {
  return parsePrometheus(text.replace(/^# TYPE (\S+) histogram$/gm, '# TYPE $1 untyped')) as Family[];
}

function sampleSum(families: Family[], name: string, want: Record<string, string>): number {
  // An untyped series split by other series is several families of one name: every one counts.
  return families.filter((f) => f.name === name).flatMap((f) => f.metrics).filter((m) => matches(m.labels, want)).reduce((n, m) => n + Number(m.value ?? 0), 0);
}

const SPEC = {
  profile: 'test',
  framework: { instances: 2 },
  components: {
    api: { min: 2, max: 4 }, orchestrator: { count: 2 }, network: { count: 1 }, storage: { count: 1 },
    'fabric-monitor': { count: 1 }, 'fabric-admin': { count: 1 }, compute: { count: 3, args: ['--cpu-cores', '16', '--memory', '65536'] },
  },
};

describe('system: cloudstackd up and the service framework (real processes)', function () {
  this.timeout(120_000);
  let cloud: UpCloud;
  let api: CsApi;
  const instances = (component?: string): Promise<Instance[]> =>
    api.listAll<Instance>('listComponentServiceInstances', 'componentserviceinstance', component === undefined ? {} : { component });
  const services = (): Promise<Service[]> => api.listAll<Service>('listComponentServices', 'componentservice');

  before(async () => {
    cloud = await startUp(SPEC);
    expect(cloud.endpoint, cloud.output()).to.match(/^http:/);
    api = new CsApi({ endpoint: cloud.endpoint, ...cloud.keys, keepAlive: false });
  });

  after(() => {
    api?.close();
    cloud?.dispose();
  });

  it('comes up from a spec: csclient deploys through the API, status shows every instance', async () => {
    await waitFor(async () => (await api.listAll<{ state: string }>('listHosts', 'host', { type: 'Routing' })).filter((h) => h.state === 'Up').length === 3,
      60_000, 'three hosts Up', 200);
    const client = await csclient(cloud.endpoint, cloud.keys);
    const zoneid = String(((await client.sync('listZones')).zone as { id: string }[])[0]!.id);
    const offering = ((await client.sync('listServiceOfferings')).serviceoffering as { id: string; name: string }[]).find((o) => o.name.startsWith('Small'))!;
    const template = ((await client.sync('listTemplates', { templatefilter: 'featured' })).template as { id: string }[])[0]!;
    const job = await client.job('deployVirtualMachine', { zoneid, serviceofferingid: offering.id, templateid: template.id });
    expect(job.jobstatus).to.equal(1);
    expect((job.jobresult.virtualmachine as { state: string }).state).to.equal('Running');
    const status = cloud.status();
    for (const name of ['api-1', 'api-2', 'orchestrator-1', 'orchestrator-2', 'compute-1', 'compute-2', 'compute-3', 'data-1', 'network-1',
      'storage-1', 'fabric-monitor-1', 'fabric-admin-1', 'service-framework-1', 'service-framework-2']) {
      expect(status, status).to.match(new RegExp(`^  ${name} +running +pid \\d+`, 'm'));
    }
    expect(status).to.match(/^ {2}api +2\/2 running/m);
    expect(status).to.match(/^ {2}service-framework +service-framework-\d\/\d+ +epoch \d+/m);
  });

  it('restarts a SIGKILLed api instance, which serves again, and counts the restart', async () => {
    const all = await instances('api');
    const victim = all.find((i) => i.endpoint !== undefined && !cloud.endpoint.startsWith(i.endpoint.replace(/\/client\/api$/, '')))!;
    process.kill(victim.pid, 'SIGKILL');
    let back: Instance | undefined;
    await waitFor(async () => {
      back = (await instances('api')).find((i) => i.name === victim.name && i.state === 'running' && i.pid !== victim.pid);
      return back !== undefined;
    }, 30_000, `${victim.name} running again`, 200);
    expect(back!.restarts).to.equal(victim.restarts + 1);
    const again = new CsApi({ endpoint: back!.endpoint!, ...cloud.keys, keepAlive: false });
    try {
      expect(await again.listAll('listZones', 'zone')).to.have.length(1);
    } finally { again.close(); }
    expect((await services()).find((s) => s.name === 'api')!.restarts).to.be.at.least(1);
  });

  it('serves /metrics in the Prometheus text format; API, ask and transport counters move with load', async () => {
    const target = (await instances('api')).find((i) => i.state === 'running')!;
    const url = new RegExp(`^ {2}${target.name} +running .* (http://\\S+/metrics)$`, 'm').exec(cloud.status())![1]!;
    const scrape = async (): Promise<Family[]> => parseScrape(await (await fetch(url)).text());
    const before = await scrape();
    const client = new CsApi({ endpoint: target.endpoint!, ...cloud.keys, keepAlive: false });
    try {
      for (let i = 0; i < 20; i++) await client.call('listZones');
    } finally { client.close(); }
    const after = await scrape();
    const zones = { command: 'listZones', status: '200' };
    expect(histogramCount(after, 'cloudstackd_api_request_seconds', zones) - histogramCount(before, 'cloudstackd_api_request_seconds', zones)).to.be.at.least(20);
    expect(sampleSum(after, 'cloudstackd_asks_total', { protocol: 'data', outcome: 'ok' }))
      .to.be.above(sampleSum(before, 'cloudstackd_asks_total', { protocol: 'data', outcome: 'ok' }));
    expect(sampleSum(after, 'cloudstackd_transport_frames_total', { direction: 'sent' })).to.be.above(sampleSum(before, 'cloudstackd_transport_frames_total', { direction: 'sent' }));
    expect(sampleSum(after, 'cloudstackd_gossip_members', { status: 'alive' })).to.be.at.least(14);
    // The deploy of the first test ran on one of the orchestrators: finished and timed there.
    const status = cloud.status();
    let finished = 0;
    let timed = 0;
    for (const o of ['orchestrator-1', 'orchestrator-2']) {
      const m = parseScrape(await (await fetch(new RegExp(`^ {2}${o} +running .* (http://\\S+/metrics)$`, 'm').exec(status)![1]!)).text());
      finished += sampleSum(m, 'cloudstackd_jobs_finished_total', { outcome: 'succeeded' });
      timed += histogramCount(m, 'cloudstackd_job_seconds', {});
    }
    expect(finished).to.be.at.least(1);
    expect(timed).to.equal(finished);
    // Each leased singleton has exactly one acting instance over every scraped process, which took its lease at least once.
    const acting: Record<string, number> = {};
    const activations: Record<string, number> = {};
    for (const [, u] of status.matchAll(/ running .* (http:\/\/\S+\/metrics)$/gm)) {
      const m = parseScrape(await (await fetch(u!)).text());
      for (const lease of ['fabric-monitor', 'fabric-admin', 'service-framework']) {
        acting[lease] = (acting[lease] ?? 0) + sampleSum(m, 'cloudstackd_singleton_acting', { lease });
        activations[lease] = (activations[lease] ?? 0) + sampleSum(m, 'cloudstackd_singleton_activations_total', { lease });
      }
    }
    expect(acting).to.deep.equal({ 'fabric-monitor': 1, 'fabric-admin': 1, 'service-framework': 1 });
    for (const lease of Object.keys(activations)) expect(activations[lease], lease).to.be.at.least(1);
    for (const name of ['cloudstackd_mailbox_depth', 'cloudstackd_messages_total', 'cloudstackd_messages_seconds', 'cloudstackd_asks_seconds', 'cloudstackd_dead_letters_total', 'cloudstackd_transport_bytes_total',
      'cloudstackd_transport_reconnects_total', 'cloudstackd_transport_refusals_total', 'cloudstackd_gossip_suspicions_total', 'cloudstackd_gossip_dead_verdicts_total']) {
      expect(after.some((f) => f.name === name || f.name.startsWith(`${name}_`)), name).to.equal(true);
    }
  });

  it('places the services of a lost launcher node on another launcher; its children stop on their own', async () => {
    const file = JSON.parse((await import('node:fs')).readFileSync(cloud.clusterFile, 'utf8')) as { join: string; clusterSecretFile: string };
    const dir = mkdtempSync(join(tmpdir(), 'cloudstackd-launcher2-'));
    let second: CliProcess | undefined;
    try {
      second = await startCli('launcher-2', ['--role=launcher', '--transport', 'ws', '--listen', '127.0.0.1:0', '--join', file.join,
        '--cluster-secret-file', file.clusterSecretFile, '--cluster-name', cloud.cluster, '--heartbeat-profile', 'test', '--log-level', 'warn',
        '--node-name', 'launcher-2', '--data-dir', dir], /^ready node=/m, 30_000);
      await waitFor(() => /^ {2}launcher-2 +free/m.test(cloud.status()), 30_000, 'the framework to know launcher-2', 200);
      await api.call('scaleComponentService', { name: 'api', instances: 3 });
      await waitFor(async () => (await instances('api')).some((i) => i.node === 'launcher-2' && i.state === 'running'), 30_000, 'an api instance on launcher-2', 300);
      const moved = (await instances('api')).find((i) => i.node === 'launcher-2')!;
      await second.kill('SIGKILL');
      await waitFor(() => !processAlive(moved.pid), 15_000, `${moved.name} (pid ${moved.pid}) to stop after its launcher died`, 100);
      await waitFor(async () => {
        const now = await instances('api');
        return now.filter((i) => i.state === 'running').length === 3 && now.every((i) => i.node !== 'launcher-2');
      }, 60_000, 'three api instances, none on launcher-2', 300);
      await api.call('scaleComponentService', { name: 'api', instances: 2 });
      await waitFor(async () => (await instances('api')).filter((i) => i.state === 'running').length === 2, 30_000, 'api back to 2', 300);
    } finally {
      await second?.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a SIGKILLed acting framework is replaced by the standby, which adopts the running instances and launches no duplicate', async () => {
    const before = cloud.status();
    const acting = /acting framework (\S+), epoch (\d+)/.exec(before)!;
    const frameworks = await instances('service-framework');
    const victim = frameworks.find((i) => i.name === acting[1])!;
    const others = (await instances()).filter((i) => i.component !== 'service-framework' && i.state === 'running');
    process.kill(victim.pid, 'SIGKILL');
    let after = '';
    await waitFor(() => {
      after = cloud.status();
      const m = /acting framework (\S+), epoch (\d+)/.exec(after)!;
      return m[1] !== acting[1] && Number(m[2]) > Number(acting[2]);
    }, 60_000, 'the standby acting', 500);
    expect(after).to.match(/launches=0 /);
    const now = await instances();
    for (const i of others) {
      // Adopted: the same process still runs each instance, and there is no second one.
      expect(now.filter((x) => x.name === i.name)).to.have.length(1);
      expect(now.find((x) => x.name === i.name)!.pid).to.equal(i.pid);
    }
    for (const s of await services()) expect(now.filter((i) => i.component === s.name && i.state === 'running').length).to.be.at.most(s.desiredinstances);
  });

  it('a SIGKILLed data service is restarted by its launcher, and the cloud serves again', async () => {
    const data = (await instances('data'))[0]!;
    process.kill(data.pid, 'SIGKILL');
    await waitFor(() => !processAlive(data.pid), 5_000, 'data-1 gone', 50);
    let back: Instance | undefined;
    await waitFor(async () => {
      back = (await instances('data').catch(() => [])).find((i) => i.state === 'running' && i.pid !== data.pid);
      return back !== undefined && (await api.listAll('listZones', 'zone').catch(() => [])).length === 1;
    }, 60_000, 'data running again and the API answering', 300);
    expect(back!.restarts).to.be.at.least(1);
  });

  it('auto-scales api on its load: down to min after stabilization, up under load, down again; oscillating load changes it at most once per cooldown', async () => {
    const running = async (): Promise<number> => (await instances('api')).filter((i) => i.state === 'running').length;
    const scaleEvents = async (): Promise<number> => (await api.listAll('listEvents', 'event', { type: 'SERVICE.SCALE', listall: true })).length;
    await api.call('updateComponentService', { name: 'api', mininstances: 1, maxinstances: 3, metric: 'cpu', target: 15, stabilizationms: 3_000, cooldownms: 4_000 });
    await waitFor(async () => (await running()) === 1, 40_000, 'api down to min (1) after the stabilization window', 300);
    const load = async (until: () => boolean): Promise<void> => {
      const client = new CsApi({ endpoint: cloud.endpoint, ...cloud.keys, maxSockets: 16 });
      try {
        await Promise.all(Array.from({ length: 16 }, async () => { while (!until()) await client.call('listZones').catch(() => undefined); }));
      } finally { client.close(); }
    };
    let loaded = true;
    const driving = load(() => !loaded);
    try {
      await waitFor(async () => (await running()) >= 2, 40_000, 'api scaled to 2 or more under load', 300);
    } finally {
      loaded = false;
      await driving;
    }
    await waitFor(async () => (await running()) === 1, 40_000, 'api back to min once the load stopped', 300);
    // Load on for 1 s, off for 1 s, for 12 s: faster than the 4 s cooldown.
    const before = await scaleEvents();
    const windowMs = 12_000;
    const end = Date.now() + windowMs;
    while (Date.now() < end) {
      const stopAt = Date.now() + 1_000;
      await load(() => Date.now() >= stopAt);
      await new Promise((r) => setTimeout(r, 1_000));
    }
    const changes = (await scaleEvents()) - before;
    expect(changes).to.be.at.most(Math.floor(windowMs / 4_000) + 1);
    const svc = (await services()).find((s) => s.name === 'api')!;
    expect(svc.desiredinstances).to.be.within(1, 3);
  });

  it('Ctrl-C stops every process it started (checked by pid)', async () => {
    const pids = cloud.pids();
    expect(pids.length).to.equal((await instances()).filter((i) => i.state === 'running').length);
    cloud.child.kill('SIGINT');
    expect(await cloud.exited).to.equal(0);
    expect(pids.filter(processAlive)).to.deep.equal([]);
  });
});

describe('system: a crash-looping component (real processes)', function () {
  this.timeout(120_000);

  it('backs off, then stops restarting with an alert after the configured count; up says why and leaves no process', async () => {
    const none = { count: 0 };
    const cloud = await startUp({ profile: 'test', framework: { maxFailures: 3, windowMs: 60_000 }, components: { api: { min: 0, max: 1 }, orchestrator: none, network: none,
      storage: { count: 1, args: ['--no-such-option'] }, 'fabric-monitor': none, 'fabric-admin': none, compute: none } });
    try {
      const code = await cloud.exited;
      expect(code).to.not.equal(0);
      // The spec's maxFailures = 3 exits: the first start and two restarts.
      expect(cloud.output()).to.match(/component storage is crash-looping \(2 restarts\): storage-1 exited 3 times within 60000 ms; restarts stopped\. Last error: .*no-such-option/);
      expect(cloud.pids()).to.deep.equal([]);
      // The alert and the event are in the data service's database (read once every process has gone).
      const db = new Database(join(cloud.dir, 'cloud', 'launched', 'data-1', 'cloudstackd.db'), { readonly: true });
      try {
        const alerts = db.prepare('SELECT name, subject FROM alert').all() as { name: string; subject: string }[];
        expect(alerts).to.deep.equal([{ name: 'ALERT.SERVICE.CRASHLOOP', subject: 'component storage is crash-looping' }]);
        expect(db.prepare("SELECT level FROM event WHERE type = 'SERVICE.CRASHLOOP'").all()).to.deep.equal([{ level: 'ERROR' }]);
      } finally { db.close(); }
    } finally {
      cloud.dispose();
    }
  });
});
