import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { AuthError, PeerDownError } from '../../../src/errors.js';
import type { WsTlsOptions } from '../../../transports/ws/tls.js';
import { waitFor } from '../../helpers/wait.js';
import { Fixture, tell } from './ws-helpers.js';

interface Pki {
  ca: Buffer;
  node: { cert: Buffer; key: Buffer };
  /** A certificate from another CA (an outsider's). */
  rogue: { cert: Buffer; key: Buffer };
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

/** A throwaway CA, a node certificate for 127.0.0.1 (server and client use) and an outsider's certificate. */
function makePki(dir: string): Pki {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n');
  for (const name of ['ca', 'rogue-ca']) {
    openssl(dir, ['req', '-x509', ...ec, '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${name}`]);
  }
  for (const [name, ca] of [['node', 'ca'], ['rogue', 'rogue-ca']] as const) {
    openssl(dir, ['req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
    openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial',
      '-out', `${name}.crt`, '-days', '2', '-extfile', 'ext.cnf']);
  }
  const read = (f: string): Buffer => readFileSync(join(dir, f));
  return { ca: read('ca.crt'), node: { cert: read('node.crt'), key: read('node.key') }, rogue: { cert: read('rogue.crt'), key: read('rogue.key') } };
}

function hasOpenssl(): boolean {
  try { execFileSync('openssl', ['version'], { stdio: 'pipe' }); return true; } catch { return false; }
}

describe('ws transport: TLS (wss)', function () {
  this.timeout(20_000);
  const fx = new Fixture();
  let dir = '';
  let pki: Pki;

  before(function () {
    // Node cannot issue X.509 certificates by itself; without openssl these tests cannot build their PKI.
    if (!hasOpenssl()) {
      process.stdout.write('      (skipped: openssl is not installed, so no test certificates can be made)\n');
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'ws-tls-'));
    pki = makePki(dir);
  });
  after(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });
  afterEach(() => fx.cleanup());

  const tls = (extra: Partial<WsTlsOptions> = {}): WsTlsOptions => ({ cert: pki.node.cert, key: pki.node.key, ca: pki.ca, ...extra });

  it('carries traffic over wss:// between nodes sharing a CA', async () => {
    const a = await fx.transport('a', { tls: tls() });
    const b = await fx.transport('b', { tls: tls() });
    expect(a.t.address()).to.match(/^wss:\/\/127\.0\.0\.1:\d+$/);
    expect(await a.t.dial(b.t.address()!)).to.equal('b');
    a.t.send('b', tell('a', 'b'));
    b.t.send('a', tell('b', 'a'));
    await waitFor(() => a.rec.envelopes.length === 1 && b.rec.envelopes.length === 1, 5_000);
  });

  it('a dialer that does not trust the server certificate does not connect', async () => {
    const b = await fx.transport('b', { tls: tls() });
    const a = await fx.transport('a', { tls: { cert: pki.rogue.cert, key: pki.rogue.key } });
    const err = await a.t.dial(b.t.address()!).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(PeerDownError);
    expect(String((err as Error).message)).to.match(/certificate/i);
    expect(b.rec.ups).to.deep.equal([]);
  });

  describe('with requireClientCert', () => {
    it('refuses a client without a certificate', async () => {
      const s = await fx.transport('s', { tls: tls({ requireClientCert: true }) });
      const ws = new WebSocket(s.t.address()!, { ca: pki.ca });
      const outcome = await new Promise<string>((resolve) => {
        ws.on('message', () => resolve('got a challenge'));
        ws.on('error', (err) => resolve(`error: ${err.message}`));
        ws.on('close', (code) => resolve(`closed ${code}`));
      });
      ws.terminate();
      expect(outcome).to.not.equal('got a challenge');
      await waitFor(() => s.t.stats().authFailures === 1, 5_000, 'TLS refusal counted');
      expect(s.rec.ups).to.deep.equal([]);
    });

    it('refuses a client whose certificate another CA signed, accepts one from the cluster CA', async () => {
      const s = await fx.transport('s', { tls: tls({ requireClientCert: true }) });
      const rogue = await fx.transport('rogue', { tls: { cert: pki.rogue.cert, key: pki.rogue.key, ca: pki.ca } });
      const err = await rogue.t.dial(s.t.address()!).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(PeerDownError);
      expect(err).to.not.be.instanceOf(AuthError);
      await waitFor(() => s.t.stats().authFailures === 1, 5_000, 'TLS refusal counted');
      const member = await fx.transport('member', { tls: tls() });
      expect(await member.t.dial(s.t.address()!)).to.equal('s');
      expect(s.rec.ups).to.deep.equal(['member']);
    });
  });
});
