import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { progress } from './lib.js';

/** One summary line printed by a peer script of ../shared/peers. */
export interface PeerResult {
  name: string;
  metric: string;
  value: number;
  unit: string;
  [extra: string]: number | string;
}

const SHARED_PEERS = resolve(process.cwd(), '../shared/peers');
const CACHE = resolve(process.cwd(), '.bench-cache/peers');

/**
 * Copies ../shared/peers into .bench-cache (never writing into shared/) and installs its
 * dependencies once, so the peer programs run beside ours in the same bench run.
 */
export function preparePeers(withMoleculer: boolean): string | undefined {
  if (!existsSync(SHARED_PEERS)) {
    progress(`peer programs not found at ${SHARED_PEERS}; peer baselines are skipped`);
    return undefined;
  }
  if (!existsSync(CACHE)) {
    mkdirSync(CACHE, { recursive: true });
    cpSync(SHARED_PEERS, CACHE, { recursive: true, filter: (src) => !src.includes('node_modules') && !src.includes('/results') });
  }
  const install = (dir: string): void => {
    if (existsSync(join(dir, 'node_modules'))) return;
    progress(`installing peer dependencies in ${dir}`);
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  };
  install(CACHE);
  if (withMoleculer) install(join(CACHE, 'moleculer'));
  return CACHE;
}

/** Runs one peer script and returns its JSON summary line, or undefined (with the reason printed). */
export function runPeer(script: string, args: string[], env: Record<string, string> = {}): PeerResult | undefined {
  const dir = preparePeers(script.startsWith('moleculer/'));
  if (dir === undefined) return undefined;
  progress(`peer: node ${script} ${args.join(' ')}`);
  const r = spawnSync(process.execPath, [script, ...args], {
    cwd: dir, encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...env },
  });
  const last = r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (r.status !== 0 || last === undefined) {
    progress(`peer ${script} failed (status ${r.status}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    return undefined;
  }
  return JSON.parse(last) as PeerResult;
}
