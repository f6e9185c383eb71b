import { expect } from 'chai';
import type { ComponentService } from '../../../actors/data/protocol.js';
import type { InstanceInfo, LauncherReport } from '../../../actors/launcher/protocol.js';
import { newBook, plan } from '../../../actors/service-framework/reconcile.js';
import { RESTART_DEFAULTS } from '../../../src/restart-backoff.js';

const svc = (name: string, desired: number, over: Partial<ComponentService> = {}): ComponentService => ({
  name, min: 0, max: 10, desired, fixed: false, labels: [], spread: true, args: [], state: 'Enabled', updated: '', ...over });
const inst = (instance: string, state: string, over: Partial<InstanceInfo> = {}): InstanceInfo => ({
  instance, role: instance.replace(/-\d+$/, ''), pid: 1, state, restarts: 0, startedAt: 0, ...over });
const launcher = (node: string, instances: InstanceInfo[], labels: string[] = [], free = 10): LauncherReport => ({ node, labels, capacity: 10, free, instances });

describe('service framework: reconcile', () => {
  it('places missing instances spread over launchers, with labels and free capacity', () => {
    const a = plan([svc('api', 3)], [launcher('n1', [inst('api-1', 'running')]), launcher('n2', []), launcher('n3', [], [], 0)], newBook(), 0, RESTART_DEFAULTS);
    expect(a.map((x) => x.kind === 'launch' && `${x.instance}@${x.node}`)).to.deep.equal(['api-2@n2', 'api-3@n1']);
    const labelled = plan([svc('orchestrator', 1, { labels: ['ssd'] })], [launcher('n1', []), launcher('n2', [], ['ssd'])], newBook(), 0, RESTART_DEFAULTS);
    expect(labelled).to.deep.include({ kind: 'launch', node: 'n2', instance: 'orchestrator-1', role: 'orchestrator', args: [], restart: false });
    expect(plan([svc('api', 1, { labels: ['gpu'] })], [launcher('n1', [])], newBook(), 0, RESTART_DEFAULTS)).to.deep.equal([{ kind: 'unplaced', component: 'api', missing: 1 }]);
  });

  it('adopts what runs: nothing to do when the count is met', () => {
    expect(plan([svc('api', 2)], [launcher('n1', [inst('api-1', 'running')]), launcher('n2', [inst('api-7', 'starting')])], newBook(), 0, RESTART_DEFAULTS)).to.deep.equal([]);
  });

  it('restarts an exited instance on its launcher after the backoff, and not before', () => {
    const book = newBook();
    const reports = [launcher('n1', [inst('api-1', 'exited', { startedAt: 0, exitedAt: 10 })])];
    expect(plan([svc('api', 1)], reports, book, 1_000, RESTART_DEFAULTS)).to.deep.equal([]);
    expect(plan([svc('api', 1)], reports, book, 1_100, RESTART_DEFAULTS)).to.deep.equal([
      { kind: 'launch', node: 'n1', instance: 'api-1', role: 'api', args: ['--port', '0'], restart: true }]);
  });

  it('reports a crash loop once and then leaves the instance down', () => {
    const book = newBook();
    const o = { ...RESTART_DEFAULTS, maxFailures: 2 };
    plan([svc('storage', 1)], [launcher('n1', [inst('storage-1', 'exited', { startedAt: 1, exitedAt: 2 })])], book, 10, o);
    const a = plan([svc('storage', 1)], [launcher('n1', [inst('storage-1', 'exited', { startedAt: 3, exitedAt: 4, lastError: 'bad option' })])], book, 20, o);
    expect(a).to.deep.equal([{ kind: 'crash-loop', component: 'storage', instance: 'storage-1', failures: 2, lastError: 'bad option' }]);
    expect(plan([svc('storage', 1, { state: 'Alert' })], [launcher('n1', [inst('storage-1', 'exited', { startedAt: 3, exitedAt: 4 })])], book, 30, o)).to.deep.equal([]);
  });

  it('scales in: drops instances waiting for a restart first, then the newest running ones', () => {
    const a = plan([svc('api', 1)], [launcher('n1', [inst('api-1', 'running', { startedAt: 1 }), inst('api-2', 'running', { startedAt: 5 }),
      inst('api-3', 'running', { startedAt: 3 })])], newBook(), 10, RESTART_DEFAULTS);
    expect(a.map((x) => x.kind === 'stop' && x.instance)).to.deep.equal(['api-2', 'api-3']);
  });

  it('replaces the instances of a launcher that is no longer reported', () => {
    const a = plan([svc('api', 2)], [launcher('n2', [inst('api-2', 'running')])], newBook(), 0, RESTART_DEFAULTS);
    expect(a).to.deep.equal([{ kind: 'launch', node: 'n2', instance: 'api-1', role: 'api', args: ['--port', '0'], restart: false }]);
  });
});
