import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { projectRoot } from '../../helpers/paths.js';
import { DataStore, SYSTEM, type Caller } from '../../../actors/data/store/index.js';
import { seedLab, type SeedOptions, type SeedResult } from '../../../actors/data/store/seed.js';
import { openTestStore } from '../../helpers/test-store.js';

export interface Lab {
  store: DataStore;
  lab: SeedResult;
  admin: Caller;
}

/** An in-memory store with the lab seeded (2 hosts unless told otherwise). */
export function memoryLab(options: SeedOptions = {}): Lab {
  const store = openTestStore();
  const lab = seedLab(store, { hosts: 2, ...options });
  return { store, lab, admin: store.users.callerFor(lab.adminUserId) };
}

/** A temporary data directory, removed by the returned function. */
export function tempDir(prefix = 'csd-data-'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Creates an account with one user in a domain and returns the user's Caller. */
export function account(store: DataStore, name: string, domainid: string, accounttype: 0 | 1 | 2): Caller {
  const a = store.accounts.create(SYSTEM, { username: name, password: 'pw', accounttype, domainid });
  return store.users.callerFor(a.user[0]!.id);
}

const here = fileURLToPath(import.meta.url);

/**
 * Starts a fixture script (fixtures/<name>) in a child Node process: the .ts file through tsx when the
 * tests run from source, the compiled .js when they run from dist.
 */
export function spawnFixture(name: string, args: readonly string[]): ChildProcessWithoutNullStreams {
  const ext = extname(here);
  const script = join(here, '..', 'fixtures', `${name}${ext}`);
  // `--import tsx` resolves from the working directory, hence the project root as cwd.
  const loader = ext === '.ts' ? ['--import', 'tsx'] : [];
  return spawn(process.execPath, [...loader, script, ...args], { stdio: ['pipe', 'pipe', 'pipe'], cwd: projectRoot() });
}

/** Calls `onLine` for each stdout line of a child process. */
export function lines(child: ChildProcessWithoutNullStreams, onLine: (line: string) => void): void {
  createInterface({ input: child.stdout }).on('line', onLine);
}

/** Resolves with the exit code (or signal) once the child has exited. */
export function exited(child: ChildProcessWithoutNullStreams): Promise<number | string> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  if (child.signalCode !== null) return Promise.resolve(child.signalCode);
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
}

/** UUID v4 shape: every public id the store returns must look like this. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Every field named id or ending in "id" (recursively) holds a UUID (or is a known non-uuid such as deviceid). */
export function assertNoInternalIds(value: unknown, path = '$'): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => assertNoInternalIds(v, `${path}[${i}]`));
    return;
  }
  if (value === null || typeof value !== 'object') return;
  for (const [k, v] of Object.entries(value)) {
    const idField = (k === 'id' || k.endsWith('id') || k === 'jobid') && !['deviceid', 'rootdeviceid'].includes(k);
    if (idField && !(typeof v === 'string' && UUID.test(v))) {
      throw new Error(`${path}.${k} is not a UUID: ${JSON.stringify(v)}`);
    }
    if (k.startsWith('_')) throw new Error(`${path}.${k} is an internal field`);
    assertNoInternalIds(v, `${path}.${k}`);
  }
}
