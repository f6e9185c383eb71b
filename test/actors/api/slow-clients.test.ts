/**
 * Issue 17 against `startLab()` on its default limits (headersTimeoutMs 10 s, keepAliveTimeoutMs 5 s
 * + 1 s grace, maxConnections 1,024, maxConnectionsPerAddress 512), with real sockets: a head
 * trickling in one byte a second is cut at headersTimeoutMs; and 2,000 slow-head plus 500 idle
 * keep-alive clients from one address — the signed client's own — that reopen whatever is closed two
 * seconds later, run in another process for 30 s while a signed listZones goes out every 100 ms: at
 * least 99 % are answered, no slow head lives longer than its timeout plus a small margin from its
 * accept (the server's log lines say how long the longest lived), and no idle client longer than the
 * keep-alive time after its answer. *
 * Open files: the attacking process gets its soft limit raised to what its 2,500 sockets need (see
 * open-files.ts); this process, which holds the server's side (at most maxConnections plus the
 * connections being closed), is checked for 1,024 + 1,000 and raised the same way if needed.
 */
import { expect } from 'chai';
import { request } from 'node:http';
import { connect } from 'node:net';
import { startLab, type Lab } from '../../../bin/lab.js';
import { createLogger } from '../../../src/logger.js';
import { DEFAULT_LIMITS } from '../../../actors/api/limits.js';
import { sign } from '../../helpers/cs-api.js';
import { onCleanup } from '../../helpers/global-hooks.js';
import { ensureOpenFiles, listenOverflows } from '../../helpers/open-files.js';
import { startSlowClients, type GroupReport } from '../../helpers/slow-clients.js';
import { sleep } from '../../helpers/wait.js';

/**
 * Slack on a deadline as the server sees it (from its accept to its close): its timers run late on a
 * shared 2-core machine under a connection flood.
 */
const SERVER_MARGIN_MS = 1_000;
/**
 * Slack on a deadline as a client sees it: the server's lateness plus the attacking process's own.
 * Only connections that have been answered are measured this way; a connection's life before the
 * server accepted it (in the kernel's queue) is not the server's to bound.
 */
const CLIENT_MARGIN_MS = 1_500;
const ATTACK_MS = 30_000;
const CALL_EVERY_MS = 100;
/**
 * The attackers reopen what is closed after this long. With 2,000 clients against a cap of 512 per
 * address that is a flood of up to 1,000 new connections a second. Reopening at once saturates what
 * this shared 2-core machine can accept; the kernel's accept queue then overflows and connections
 * wait there, in SYN-ACK retransmits, for up to half a minute before the server ever sees them, which
 * no server-side policy can shorten (and which makes client-measured lifetimes meaningless). The
 * test prints the kernel's overflow count.
 */
const REOPEN_AFTER_MS = 2_000;
/** A call not answered within this long counts as unanswered. */
const CALL_TIMEOUT_MS = 5_000;

/** One signed listZones on a fresh connection each time (what a CLI does); resolves true when answered with zones. */
function listZones(lab: Lab): Promise<boolean> {
  const url = new URL(lab.endpoint);
  const p: Record<string, string> = { command: 'listZones', response: 'json', apiKey: lab.apiKey };
  const query = Object.entries(p).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
  const path = `${url.pathname}?${query}&signature=${encodeURIComponent(sign(p, lab.secretKey))}`;
  return new Promise((resolve) => {
    const req = request({ host: url.hostname, port: url.port, path, agent: false, timeout: CALL_TIMEOUT_MS }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => { body += d.toString(); });
      res.on('end', () => resolve(res.statusCode === 200 && body.includes('listzonesresponse')));
      res.on('error', () => resolve(false));
    });
    req.on('timeout', () => req.destroy(new Error('no answer in time')));
    req.on('error', () => resolve(false));
    req.end();
  });
}

function describeGroup(g: GroupReport): string {
  return `${g.kind}: opened ${g.opened}, closed by the server ${g.closedByServer} (p50 ${g.lifetimeP50} ms, max ${g.lifetimeMax} ms), `
    + `connect errors ${g.connectErrors}, replies ${JSON.stringify(g.statuses)}`;
}

describe('api: slow and idle clients against startLab()', function () {
  this.timeout(120_000);
  let lab: Lab;
  const warnings: { msg: string; fields: Record<string, unknown> }[] = [];

  before(async () => {
    lab = await startLab({ logger: createLogger('warn', (_l, msg, fields) => { warnings.push({ msg, fields }); }) });
    onCleanup(() => lab.stop());
  });

  after(async () => {
    await lab?.stop();
  });

  it('closes a request head trickling in one byte a second after headersTimeoutMs, with 408', async () => {
    const url = new URL(lab.endpoint);
    const socket = connect({ host: url.hostname, port: Number(url.port) });
    await new Promise((resolve) => socket.once('connect', resolve));
    const opened = Date.now();
    let reply = '';
    socket.on('data', (d: Buffer) => { reply += d.toString('latin1'); });
    socket.on('error', () => undefined);
    const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - opened)));
    const head = 'GET /client/api?command=listZones HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
    let i = 0;
    const trickle = setInterval(() => { if (socket.writable) socket.write(head[i++ % head.length]!); }, 1_000);
    socket.write(head[i++]!);
    const lifetime = await closed;
    clearInterval(trickle);
    process.stdout.write(`      (closed after ${lifetime} ms, ${i} bytes sent)\n`);
    expect(reply).to.match(/^HTTP\/1\.1 408/);
    expect(lifetime).to.be.at.least(DEFAULT_LIMITS.headersTimeoutMs - 50);
    expect(lifetime).to.be.at.most(DEFAULT_LIMITS.headersTimeoutMs + CLIENT_MARGIN_MS);
  });

  it('2,000 slow-head and 500 idle keep-alive clients from one address: ≥ 99 % of signed listZones every 100 ms for 30 s are answered', async () => {
    process.stdout.write(`      (${ensureOpenFiles(DEFAULT_LIMITS.maxConnections + 1_000)})\n`);
    const url = new URL(lab.endpoint);
    const overflowsBefore = listenOverflows();
    const attack = await startSlowClients({
      host: url.hostname, port: Number(url.port), reopenAfterMs: REOPEN_AFTER_MS,
      groups: [
        { kind: 'http-slow-head', count: 2_000, localAddress: '127.0.0.1', trickleMs: 1_000 },
        { kind: 'http-idle', count: 500, localAddress: '127.0.0.1' },
      ],
    });
    onCleanup(() => attack.kill());
    const calls: Promise<boolean>[] = [];
    const t0 = Date.now();
    for (let n = 0; n < ATTACK_MS / CALL_EVERY_MS; n++) {
      await sleep(Math.max(0, t0 + n * CALL_EVERY_MS - Date.now()));
      calls.push(listZones(lab));
    }
    const answered = (await Promise.all(calls)).filter(Boolean).length;
    const report = await attack.stop();
    const [heads, idle] = report.groups as [GroupReport, GroupReport];
    const overflows = overflowsBefore === undefined ? '?' : String(listenOverflows()! - overflowsBefore);
    process.stdout.write(`      (answered ${answered}/${calls.length} in ${Date.now() - t0} ms; kernel accept-queue overflows: ${overflows})\n      (${describeGroup(heads)})\n      (${describeGroup(idle)})\n`);

    expect(answered / calls.length).to.be.at.least(0.99);
    // Counted, and logged in a few summary lines rather than a line per client.
    const lines = warnings.filter((w) => w.msg.startsWith('API connections shed or timed out'));
    const sum = (k: string): number => lines.reduce((n, l) => n + Number(l.fields[k] ?? 0), 0);
    expect(sum('evicted') + sum('headTimeouts')).to.be.greaterThan(2_000);
    expect(lines.length).to.be.at.most(Math.ceil(ATTACK_MS / DEFAULT_LIMITS.connectionLogIntervalMs) + 3);
    // Every slow head the server accepted was closed by headersTimeoutMs (or sooner, shed for a newcomer).
    const longest = Math.max(...lines.map((l) => Number(l.fields['longestLifeMs'] ?? 0)));
    process.stdout.write(`      (longest life of a shed or timed-out connection, as the server saw it: ${longest} ms)\n`);
    expect(heads.closedByServer).to.be.at.least(2_000);
    expect(longest).to.be.at.most(DEFAULT_LIMITS.headersTimeoutMs + SERVER_MARGIN_MS);
    // Every idle client was closed keepAliveTimeoutMs (+ grace) after its answer.
    const idleLimit = DEFAULT_LIMITS.keepAliveTimeoutMs + DEFAULT_LIMITS.keepAliveGraceMs + CLIENT_MARGIN_MS;
    expect(idle.closedByServer).to.be.at.least(500);
    expect(idle.lifetimeMax).to.be.at.most(idleLimit);
    expect(idle.openAgeMax).to.be.at.most(idleLimit);
  });
});
