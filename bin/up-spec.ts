/**
 * The deployment spec `cloudstackd up --spec <file>` reads: a small JSON document (examples/cloud.json).
 *
 *   {
 *     "cluster": "demo",                  cluster name (default "cloudstack")
 *     "profile": "default" | "test",      timings (test: faster failure detection and leases)
 *     "logLevel": "warn",                 the children's log level (default warn)
 *     "logFormat": "json",                the children's log format: text (default) or json with trace ids
 *     "dataDir": "./cloud",               where data, logs and the secret go (default: a temporary directory, removed at stop)
 *     "framework": { "instances": 2 },    service framework instances (one acts, the others stand by); also
 *                                         "maxFailures" (5) and "windowMs" (120000): the crash-loop limit
 *     "components": {                     per component: "count" (a fixed number), or "min"/"max" and a "policy"
 *       "api": { "min": 2, "max": 4, "policy": { "metric": "cpu", "target": 60 } },
 *       "compute": { "count": 3, "args": ["--cpu-cores", "16"] },
 *       "orchestrator": { "count": 2, "labels": ["zone=a"], "spread": true }
 *     }
 *   }
 *
 * data (on SQLite) and the leased singletons keep a fixed count and take no policy. Every component
 * of the cloud must be named (data is implied: one instance).
 */
import { readFileSync } from 'node:fs';
import type { DefineComponentService, ScalingPolicy } from '../actors/data/protocol.js';
import { ConfigError } from '../src/errors.js';
import { LOG_LEVELS, type LogLevel } from '../src/logger.js';
import { componentNamed, ROLE_SETS } from './components.js';

export interface UpSpec {
  cluster: string;
  profile: 'default' | 'test';
  logLevel: LogLevel;
  logFormat: 'text' | 'json';
  dataDir: string | undefined;
  frameworkInstances: number;
  /** Arguments of every framework instance (its crash-loop limit). */
  frameworkArgs: string[];
  services: DefineComponentService[];
}

interface RawComponent { count?: unknown; min?: unknown; max?: unknown; policy?: unknown; args?: unknown; labels?: unknown; spread?: unknown }

const KNOWN_KEYS = ['cluster', 'profile', 'logLevel', 'logFormat', 'dataDir', 'framework', 'components'];
const FRAMEWORK_KEYS = ['instances', 'maxFailures', 'windowMs'];

function whole(v: unknown, what: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new ConfigError(`spec: ${what} must be a whole number ${min}..${max}`);
  return v;
}

function strings(v: unknown, what: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string') || v.length > 64) throw new ConfigError(`spec: ${what} must be a list of at most 64 strings`);
  return v as string[];
}

function component(name: string, raw: RawComponent): DefineComponentService {
  const descriptor = componentNamed(name);
  if (descriptor === undefined || !ROLE_SETS.all!.includes(name)) {
    throw new ConfigError(`spec: unknown component "${name}"; use ${ROLE_SETS.all!.join(', ')}`);
  }
  // SQLite data and leased singletons have a fixed count; compute instances are hosts, added by hand.
  const fixed = descriptor.instances !== 'many' || name === 'compute';
  const args = strings(raw.args, `components.${name}.args`);
  const labels = strings(raw.labels, `components.${name}.labels`);
  const spread = raw.spread === undefined ? true : raw.spread === true;
  if (raw.count !== undefined) {
    if (raw.min !== undefined || raw.max !== undefined) throw new ConfigError(`spec: components.${name} has both count and min/max: give one`);
    const count = whole(raw.count, `components.${name}.count`, name === 'data' ? 1 : 0, name === 'data' ? 1 : 1000);
    if (raw.policy !== undefined) throw new ConfigError(`spec: components.${name} has a fixed count: a scaling policy needs min and max`);
    return { name, min: count, max: count, desired: count, fixed: true, args, labels, spread };
  }
  if (fixed) throw new ConfigError(`spec: ${name} has a fixed count (${descriptor.instances === 'many' ? 'hosts' : 'a singleton or SQLite data'}): give "count", not min/max`);
  const min = whole(raw.min ?? 1, `components.${name}.min`, 0, 1000);
  const max = whole(raw.max ?? min, `components.${name}.max`, min, 1000);
  return { name, min, max, desired: min, fixed: false, args, labels, spread,
    ...(raw.policy === undefined ? {} : { policy: raw.policy as ScalingPolicy }) };
}

export function parseSpec(text: string, file: string): UpSpec {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError(`spec ${file} is not JSON: ${(err as Error).message}`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`spec ${file} must be a JSON object`);
  const unknown = Object.keys(raw).filter((k) => !KNOWN_KEYS.includes(k));
  if (unknown.length > 0) throw new ConfigError(`spec: unknown field ${unknown.join(', ')}; known: ${KNOWN_KEYS.join(', ')}`);
  const cluster = raw.cluster ?? 'cloudstack';
  if (typeof cluster !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(cluster)) throw new ConfigError('spec: cluster must be 1-64 letters, digits, dots, dashes or underscores');
  const profile = raw.profile ?? 'default';
  if (profile !== 'default' && profile !== 'test') throw new ConfigError('spec: profile must be default or test');
  const logLevel = raw.logLevel ?? 'warn';
  if (!LOG_LEVELS.includes(logLevel as LogLevel)) throw new ConfigError(`spec: logLevel must be one of ${LOG_LEVELS.join(', ')}`);
  const logFormat = raw.logFormat ?? 'text';
  if (logFormat !== 'text' && logFormat !== 'json') throw new ConfigError('spec: logFormat must be text or json');
  if (raw.dataDir !== undefined && typeof raw.dataDir !== 'string') throw new ConfigError('spec: dataDir must be a path');
  const fw = (raw.framework ?? {}) as { instances?: unknown; maxFailures?: unknown; windowMs?: unknown };
  const badFw = Object.keys(fw).filter((k) => !FRAMEWORK_KEYS.includes(k));
  if (badFw.length > 0) throw new ConfigError(`spec: unknown framework field ${badFw.join(', ')}; known: ${FRAMEWORK_KEYS.join(', ')}`);
  const frameworkInstances = whole(fw.instances ?? 1, 'framework.instances', 1, 5);
  // The crash-loop limit, handed to every framework instance (and kept when the framework restarts one).
  const frameworkArgs = [
    ...(fw.maxFailures === undefined ? [] : ['--restart-max-failures', String(whole(fw.maxFailures, 'framework.maxFailures', 1, 1000))]),
    ...(fw.windowMs === undefined ? [] : ['--restart-window', String(whole(fw.windowMs, 'framework.windowMs', 1000, 86_400_000))]),
  ];
  const comps = raw.components;
  if (comps === null || typeof comps !== 'object' || Array.isArray(comps)) throw new ConfigError('spec: components must be an object of component name to settings');
  const entries = Object.entries(comps as Record<string, RawComponent>);
  const services = entries.map(([name, c]) => component(name, c ?? {}));
  if (!services.some((s) => s.name === 'data')) services.unshift({ name: 'data', min: 1, max: 1, desired: 1, fixed: true });
  const missing = ROLE_SETS.all!.filter((n) => !services.some((s) => s.name === n));
  if (missing.length > 0) throw new ConfigError(`spec: components ${missing.join(', ')} are missing (a cloud needs every one; "count": 0 to leave one out)`);
  services.push({ name: 'service-framework', min: frameworkInstances, max: frameworkInstances, desired: frameworkInstances, fixed: true, args: frameworkArgs });
  return { cluster, profile, logLevel: logLevel as LogLevel, logFormat, dataDir: raw.dataDir as string | undefined, frameworkInstances, frameworkArgs, services };
}

export function readSpec(file: string): UpSpec {
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch (err) { throw new ConfigError(`cannot read the spec ${file}: ${(err as Error).message}`); }
  return parseSpec(text, file);
}
