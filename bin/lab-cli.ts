/**
 * `cloudstackd` with the default role: runs the lab in the foreground. Prints what it did (seeded or
 * reused the data directory), the endpoint and the credentials file, and a line containing `ready` once
 * a signed request has been answered; stops cleanly on SIGINT/SIGTERM. Every start-up failure is one
 * line on stderr and exit code 1.
 */
import { request } from 'node:http';
import { createLogger, jsonSink, stderrSink } from '../src/logger.js';
import { signParams } from '../actors/api/signature.js';
import type { CliConfig } from './cli-options.js';
import { startLab, type Lab } from './lab.js';
import { runUntilSignal } from './until-signal.js';

/** How long the ready probe waits for the API's answer, ms. */
const PROBE_TIMEOUT_MS = 10_000;

/** One signed listZones with the admin's keys; resolves with the HTTP status. */
export function probe(endpoint: string, apiKey: string, secretKey: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<number> {
  const params: [string, string][] = [['command', 'listZones'], ['response', 'json'], ['apiKey', apiKey]];
  params.push(['signature', signParams(params, secretKey)]);
  const url = `${endpoint}?${new URLSearchParams(params).toString().replace(/\+/g, '%20')}`;
  return new Promise((resolvePromise, reject) => {
    const req = request(url, { agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolvePromise(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error(`the API did not answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function fatal(message: string): never {
  process.stderr.write(`cloudstackd: ${message}\n`);
  process.exit(1);
}

export async function runLabCli(config: CliConfig): Promise<void> {
  const log = createLogger(config.logLevel, config.logFormat === 'json' ? jsonSink : stderrSink);
  let lab: Lab;
  try {
    lab = await startLab({ bind: config.bind, port: config.port, dataDir: config.dataDir, hosts: config.hosts, logger: log,
      strict: config.strict, nodeName: config.nodeName, profile: config.heartbeatProfile });
  } catch (err) {
    fatal((err as Error).message);
  }
  say(lab.seeded ? `seeded a new lab in ${config.dataDir}: one Advanced zone with ${lab.seed.hostids.length} simulator hosts, admin user "admin"`
    : `reusing the lab in ${config.dataDir}`);
  say(`endpoint: ${lab.endpoint}`);
  say(`credentials: ${lab.credentialsFile ?? '(none)'}`);
  try {
    const status = await probe(lab.endpoint, lab.apiKey, lab.secretKey);
    if (status !== 200) throw new Error(`a signed listZones answered HTTP ${status}`);
  } catch (err) {
    await lab.stop();
    fatal(`the API does not answer: ${(err as Error).message}`);
  }
  say(`ready endpoint=${lab.endpoint}`);

  runUntilSignal(log, () => lab.stop());
}
