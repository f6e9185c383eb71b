/**
 * The service framework's admin commands (cloudstackd's own, in CloudStack's style): list the component
 * services and their instances, change min, max and the scaling policy, scale by hand, and listAlerts
 * (CloudStack's command; the framework raises an alert when it stops restarting a crash loop). The
 * desired deployment is written to the data service; the acting framework is asked to reconcile at once.
 */
import { InvalidParameterError, NoInstanceError } from '../../../src/errors.js';
import type { ServiceLocator } from '../../../src/locator.js';
import type { ComponentService, ScalingPolicy } from '../../data/protocol.js';
import { ServiceFrameworkProtocol, type FrameworkStatus } from '../../service-framework/protocol.js';
import { defineCommand, type HandledCommand } from '../command-table.js';
import { formatCloudStackDate } from '../dates.js';
import { getBoolean, getNumber, getString } from '../params.js';
import type { HandlerContext, ResponseObject } from '../types.js';
import { required, type CommandDeps } from './common.js';

/** How the commands reach the acting service framework. */
export interface FrameworkClient {
  status(): Promise<FrameworkStatus>;
  reconcile(): Promise<FrameworkStatus>;
  /** Whether a service framework instance is live (the lab and a cloud started without one have none). */
  live(): boolean;
}

const FRAMEWORK_TIMEOUT_MS = 10_000;

export function locatedFramework(locator: ServiceLocator): FrameworkClient {
  const ref = () => locator.ref(ServiceFrameworkProtocol);
  return {
    // async: a framework that is not there is a rejected promise (callers may tolerate it), not a throw.
    status: async () => ref().ask('status', {}, { timeoutMs: FRAMEWORK_TIMEOUT_MS }),
    reconcile: async () => ref().ask('reconcile', {}, { timeoutMs: FRAMEWORK_TIMEOUT_MS }),
    live: () => {
      try {
        ref();
        return true;
      } catch (err) {
        if (err instanceof NoInstanceError) return false;
        throw err;
      }
    },
  };
}

function serviceResponse(s: ComponentService, status: FrameworkStatus | undefined): ResponseObject {
  const view = status?.services.find((v) => v.name === s.name);
  return {
    name: s.name, mininstances: s.min, maxinstances: s.max, desiredinstances: s.desired, fixed: s.fixed, state: s.state,
    reason: s.reason, labels: s.labels.join(','), spread: s.spread,
    metric: s.policy?.metric, target: s.policy?.target, tolerance: s.policy?.tolerance, maxstep: s.policy?.maxStep,
    stabilizationms: s.policy?.stabilizationMs, cooldownms: s.policy?.cooldownMs,
    runninginstances: view?.running, startinginstances: view?.starting, restarts: view?.restarts,
  };
}

function page<T>(items: readonly T[], p: HandlerContext['page']): T[] {
  if (p === undefined) return [...items];
  return items.slice(p.startIndex, p.pageSize === undefined ? undefined : p.startIndex + p.pageSize);
}

const SERVICE_RESPONSE = [
  { name: 'name', description: 'the component name', type: 'string' },
  { name: 'mininstances', description: 'the fewest instances', type: 'integer' },
  { name: 'maxinstances', description: 'the most instances', type: 'integer' },
  { name: 'desiredinstances', description: 'the instances wanted now', type: 'integer' },
  { name: 'runninginstances', description: 'the instances running (absent when no framework acts)', type: 'integer' },
  { name: 'startinginstances', description: 'the instances starting', type: 'integer' },
  { name: 'restarts', description: 'restarts of the current instances', type: 'integer' },
  { name: 'fixed', description: 'true for a fixed count (singletons, data on SQLite)', type: 'boolean' },
  { name: 'state', description: 'Enabled, or Alert when restarts stopped (crash loop)', type: 'string' },
  { name: 'reason', description: 'why the state is Alert', type: 'string' },
  { name: 'metric', description: 'the scaling metric (cpu, mailbox, asks)', type: 'string' },
  { name: 'target', description: 'the scaling target per instance', type: 'double' },
] as const;

const POLICY_PARAMS = [
  { name: 'metric', type: 'string', description: 'the scaling metric: cpu (percent of a core), mailbox (messages waiting) or asks (in flight)' },
  { name: 'target', type: 'long', description: 'the metric per instance the scaler aims at' },
  { name: 'tolerance', type: 'string', description: 'relative band around the target with no change (0..1, default 0.1)' },
  { name: 'maxstep', type: 'integer', description: 'most instances one scale-up adds (default 2)' },
  { name: 'stabilizationms', type: 'long', description: 'how long load must stay low before a scale-down, ms (default 300000)' },
  { name: 'cooldownms', type: 'long', description: 'least time between two changes, ms (default 60000)' },
  { name: 'removepolicy', type: 'boolean', description: 'true to remove the scaling policy' },
] as const;

function policyOf(params: HandlerContext['params'], current: ScalingPolicy | undefined): ScalingPolicy | null | undefined {
  if (getBoolean(params, 'removepolicy') === true) return null;
  const metric = getString(params, 'metric');
  const target = getNumber(params, 'target');
  const tol = getString(params, 'tolerance');
  const rest = { maxStep: getNumber(params, 'maxstep'), stabilizationMs: getNumber(params, 'stabilizationms'), cooldownMs: getNumber(params, 'cooldownms') };
  if (metric === undefined && target === undefined && tol === undefined && Object.values(rest).every((v) => v === undefined)) return undefined;
  const m = metric ?? current?.metric;
  const t = target ?? current?.target;
  if (m === undefined || t === undefined) throw new InvalidParameterError('a new scaling policy needs both metric and target');
  const tolerance = tol === undefined ? current?.tolerance : Number(tol);
  if (tolerance !== undefined && !Number.isFinite(tolerance)) throw new InvalidParameterError(`tolerance must be a number, got ${tol}`);
  const p: ScalingPolicy = { metric: m, target: t };
  if (tolerance !== undefined) p.tolerance = tolerance;
  const maxStep = rest.maxStep ?? current?.maxStep;
  const stabilizationMs = rest.stabilizationMs ?? current?.stabilizationMs;
  const cooldownMs = rest.cooldownMs ?? current?.cooldownMs;
  if (maxStep !== undefined) p.maxStep = maxStep;
  if (stabilizationMs !== undefined) p.stabilizationMs = stabilizationMs;
  if (cooldownMs !== undefined) p.cooldownMs = cooldownMs;
  return p;
}

export function componentServiceCommands(deps: CommandDeps, framework: FrameworkClient): HandledCommand[] {
  const statusOrNone = () => framework.status().catch(() => undefined);
  const changed = async (s: ComponentService, what: string): Promise<ResponseObject> => {
    await deps.data.events.create('system', { type: 'SERVICE.UPDATE', description: `component ${s.name}: ${what}` });
    // The framework acts on the change at once; without one acting, the next that does will.
    return serviceResponse(s, await framework.reconcile().catch(() => undefined));
  };
  return [
    defineCommand({
      name: 'listComponentServices', description: 'Lists the component services the service framework runs, with desired and running instances (cloudstackd).',
      isAsync: false, access: 'admin', objectName: 'componentservice', paged: true, since: '4.20.0',
      params: [{ name: 'name', type: 'string', description: 'the component name' }],
      response: [...SERVICE_RESPONSE],
      async handler({ params, page: p }) {
        const name = getString(params, 'name');
        const [all, status] = await Promise.all([deps.data.componentServices.list(), statusOrNone()]);
        const items = all.filter((s) => name === undefined || s.name === name);
        return { kind: 'list', count: items.length, items: page(items, p).map((s) => serviceResponse(s, status)) };
      },
    }),
    defineCommand({
      name: 'listComponentServiceInstances', description: 'Lists the launched processes of the component services (cloudstackd).',
      isAsync: false, access: 'admin', objectName: 'componentserviceinstance', paged: true, since: '4.20.0',
      // Only the acting framework knows the launched processes: offered while one is live.
      available: () => framework.live(),
      params: [
        { name: 'component', type: 'string', description: 'only instances of this component' },
        { name: 'node', type: 'string', description: 'only instances launched by the launcher of this node' },
      ],
      response: [
        { name: 'name', description: 'the instance (its node name)', type: 'string' },
        { name: 'component', description: 'the component it runs', type: 'string' },
        { name: 'node', description: 'the node of the launcher that runs it', type: 'string' },
        { name: 'pid', description: 'the process id', type: 'integer' },
        { name: 'state', description: 'starting, running, exited or stopped', type: 'string' },
        { name: 'restarts', description: 'times it was started again', type: 'integer' },
        { name: 'started', description: 'when the current process started', type: 'date' },
        { name: 'endpoint', description: 'the API endpoint (api instances)', type: 'string' },
      ],
      async handler({ params, page: p }) {
        const component = getString(params, 'component');
        const node = getString(params, 'node');
        const status = await framework.status();
        const items = status.instances.filter((i) => (component === undefined || i.role === component) && (node === undefined || i.node === node))
          .sort((a, b) => (a.instance < b.instance ? -1 : 1));
        return { kind: 'list', count: items.length, items: page(items, p).map((i) => ({
          name: i.instance, component: i.role, node: i.node, pid: i.pid, state: i.state, restarts: i.restarts,
          started: formatCloudStackDate(new Date(i.startedAt)), endpoint: i.endpoint,
        })) };
      },
    }),
    defineCommand({
      name: 'updateComponentService', description: 'Changes the bounds or the scaling policy of a component service, and clears an Alert (cloudstackd).',
      isAsync: false, access: 'admin', objectName: 'componentservice', since: '4.20.0',
      params: [
        { name: 'name', type: 'string', required: true, description: 'the component name' },
        { name: 'mininstances', type: 'integer', description: 'the fewest instances' },
        { name: 'maxinstances', type: 'integer', description: 'the most instances' },
        ...POLICY_PARAMS,
      ],
      response: [...SERVICE_RESPONSE],
      async handler({ params }) {
        const name = required(params, 'name');
        const current = await deps.data.componentServices.get(name);
        const policy = policyOf(params, current.policy);
        const min = getNumber(params, 'mininstances');
        const max = getNumber(params, 'maxinstances');
        const s = await deps.data.componentServices.update(name, {
          ...(min === undefined ? {} : { min }), ...(max === undefined ? {} : { max }), ...(policy === undefined ? {} : { policy }),
        });
        return { kind: 'object', object: await changed(s, `min ${s.min}, max ${s.max}, policy ${s.policy === undefined ? 'none' : `${s.policy.metric} target ${s.policy.target}`}`) };
      },
    }),
    defineCommand({
      name: 'scaleComponentService', description: 'Sets the number of instances of a component service, within its bounds (cloudstackd).',
      isAsync: false, access: 'admin', objectName: 'componentservice', since: '4.20.0',
      params: [
        { name: 'name', type: 'string', required: true, description: 'the component name' },
        { name: 'instances', type: 'integer', required: true, description: 'the instances wanted' },
      ],
      response: [...SERVICE_RESPONSE],
      async handler({ params }) {
        const name = required(params, 'name');
        const instances = getNumber(params, 'instances')!;
        const before = await deps.data.componentServices.get(name);
        const s = await deps.data.componentServices.scale(name, instances);
        return { kind: 'object', object: await changed(s, `scaled by hand from ${before.desired} to ${s.desired} instances`) };
      },
    }),
  ];
}
