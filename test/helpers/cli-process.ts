import { spawn, type ChildProcess } from 'node:child_process';
import { onCleanup } from './global-hooks.js';
import { cliPath, projectRoot } from './paths.js';
import { sleep } from './wait.js';

/** CLOUDSTACKD_CLI runs another build of the CLI (a .ts entry is run through tsx). */
export const CLI = process.env.CLOUDSTACKD_CLI ?? cliPath();

export interface CliProcess {
  name: string;
  child: ChildProcess;
  /** The first capture group of the ready pattern (e.g. the address it printed). */
  ready: string;
  kill(signal: NodeJS.Signals): Promise<void>;
}

/**
 * Starts `cloudstackd` with `args` as a child process and waits for the stdout line matching `readyLine`
 * (at most `timeoutMs`); the process is killed at the end of the run even when a test fails.
 */
export async function startCli(name: string, args: string[], readyLine: RegExp, timeoutMs = 20_000): Promise<CliProcess> {
  const child = spawn(process.execPath, [...(/\.m?ts$/.test(CLI) ? ['--import', 'tsx'] : []), CLI, ...args],
    { cwd: projectRoot(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-4_000); });
  const kill = async (signal: NodeJS.Signals): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
  };
  onCleanup(() => kill('SIGKILL'));
  const ready = new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = readyLine.exec(out);
      if (m) resolve(m[1] ?? m[0]);
    });
    child.once('exit', (code) => reject(new Error(`cloudstackd ${name} exited (${code}) before ready: ${err}`)));
  });
  const line = await Promise.race([ready, sleep(timeoutMs).then((): never => {
    throw new Error(`cloudstackd ${name} printed no ready line within ${timeoutMs} ms: ${err}`);
  })]);
  return { name, child, ready: line, kill };
}
