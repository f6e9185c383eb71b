/**
 * One API benchmark case per process, printing one JSON summary line:
 *   node dist/bench/api-case.js startlab --runs N
 *       N times: startLab() then one signed listZones; ms from the call to the answer, and to stop().
 *   node dist/bench/api-case.js load --endpoint URL --api-key K --secret-key S --command C [--params k=v&..] --clients 50
 *       50 concurrent clients, each sending signed requests back to back on its own keep-alive
 *       connection, for WARMUP_MS + DURATION_MS; requests/s and latency percentiles of the window.
 */
import { Agent, request } from 'node:http';
import { silentLogger } from '../src/logger.js';
import { signParams } from '../actors/api/signature.js';
import { startLab } from '../bin/lab.js';
import { WindowMeter, percentiles } from './lib.js';

const flag = (name: string, def: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : def;
};

function signedPath(endpoint: string, params: [string, string][], apiKey: string, secretKey: string): string {
  const all: [string, string][] = [...params, ['response', 'json'], ['apiKey', apiKey]];
  all.push(['signature', signParams(all, secretKey)]);
  return `${new URL(endpoint).pathname}?${new URLSearchParams(all).toString().replace(/\+/g, '%20')}`;
}

function get(url: URL, path: string, agent: Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function startLabCase(runs: number): Promise<void> {
  const toAnswer: number[] = [];
  const toStopped: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const lab = await startLab({ logger: silentLogger, hosts: 4 });
    const agent = new Agent({ keepAlive: false });
    const status = await get(new URL(lab.endpoint), signedPath(lab.endpoint, [['command', 'listZones']], lab.apiKey, lab.secretKey), agent);
    const t1 = performance.now();
    if (status !== 200) throw new Error(`listZones answered ${status}`);
    await lab.stop();
    toAnswer.push(t1 - t0);
    toStopped.push(performance.now() - t1);
  }
  const sorted = [...toAnswer].sort((a, b) => a - b);
  console.log(JSON.stringify({ first_ms: toAnswer[0], p50_ms: sorted[Math.floor(sorted.length / 2)], max_ms: sorted[sorted.length - 1],
    stop_p50_ms: [...toStopped].sort((a, b) => a - b)[Math.floor(toStopped.length / 2)], runs }));
}

async function loadCase(): Promise<void> {
  const endpoint = flag('endpoint', '');
  const apiKey = flag('api-key', '');
  const secretKey = flag('secret-key', '');
  const command = flag('command', 'listZones');
  const extra = [...new URLSearchParams(flag('params', ''))] as [string, string][];
  const clients = Number(flag('clients', '50'));
  const url = new URL(endpoint);
  const meter = new WindowMeter();
  const latencies: number[] = [];
  let errors = 0;
  const client = async (): Promise<void> => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    let n = 0;
    while (!meter.finished) {
      // A fresh signature per request, as a real client computes one (a cache-buster makes each distinct).
      const path = signedPath(endpoint, [['command', command], ...extra, ['_', String(n++)]], apiKey, secretKey);
      const t0 = performance.now();
      const status = await get(url, path, agent).catch(() => 0);
      if (meter.measuring) {
        latencies.push(performance.now() - t0);
        if (status !== 200) errors++;
      }
      meter.tick();
    }
    agent.destroy();
  };
  const all = Promise.all(Array.from({ length: clients }, client));
  const { rate } = await meter.done;
  await all;
  const p = percentiles(latencies);
  console.log(JSON.stringify({ rps: rate, p50_ms: p.p50, p99_ms: p.p99, requests: latencies.length, errors, clients }));
}

const mode = process.argv[2];
if (mode === 'startlab') await startLabCase(Number(flag('runs', '10')));
else if (mode === 'load') await loadCase();
else throw new Error('usage: api-case.js startlab --runs N | load --endpoint URL --api-key K --secret-key S --command C --clients N');
