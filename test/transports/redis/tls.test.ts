/** Redis over TLS (rediss://), with the server requiring client certificates. */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ResourceUnavailableError } from '../../../src/errors.js';
import { silentLogger } from '../../../src/logger.js';
import { Node } from '../../../src/node.js';
import type { RedisTransport } from '../../../transports/redis/redis-transport.js';
import { EchoProtocol, echoActor } from '../../fixtures/echo-protocol.js';
import { freePort, requireRedis, startRedis, type RedisServer } from '../../helpers/redis-server.js';
import { allConnected, testCluster } from './fixture.js';

/** A throwaway CA, a server certificate for 127.0.0.1/localhost and a client certificate. */
function makeCerts(dir: string): void {
  const ossl = (...args: string[]): void => { execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' }); };
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ossl('req', '-x509', ...key, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=cloudstackd-test-ca');
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  for (const who of ['server', 'client']) {
    ossl('req', ...key, '-keyout', `${who}.key`, '-out', `${who}.csr`, '-subj', `/CN=${who}`);
    ossl('x509', '-req', '-in', `${who}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${who}.crt`, '-days', '1', '-extfile', 'san.ext');
  }
}

describe('redis transport: TLS', function () {
  this.timeout(30_000);
  let server: RedisServer | undefined;
  let dir = '';
  let tlsPort = 0;
  let nodes: Node[] = [];
  const file = (f: string): Buffer => readFileSync(join(dir, f));

  before(async function () {
    requireRedis(this);
    if (process.env.REDIS_URL) this.skip(); // needs a server of our own, configured for TLS
    try { execFileSync('openssl', ['version'], { stdio: 'ignore' }); } catch { process.stdout.write('      (skipped: openssl not found)\n'); this.skip(); }
    dir = mkdtempSync(join(tmpdir(), 'cloudstackd-tls-'));
    makeCerts(dir);
    tlsPort = await freePort();
    server = await startRedis({ args: ['--tls-port', String(tlsPort), '--tls-cert-file', join(dir, 'server.crt'),
      '--tls-key-file', join(dir, 'server.key'), '--tls-ca-cert-file', join(dir, 'ca.crt'), '--tls-auth-clients', 'yes'] });
  });
  after(async () => { await server?.dispose(); if (dir) rmSync(dir, { recursive: true, force: true }); });
  afterEach(async () => { for (const n of nodes) await n.stop().catch(() => undefined); nodes = []; });

  it('carries traffic over rediss:// with a client certificate', async () => {
    const c = testCluster(`rediss://127.0.0.1:${tlsPort}`);
    const tls = { ca: file('ca.crt'), cert: file('client.crt'), key: file('client.key') };
    nodes = ['a', 'b'].map((id) => new Node({ nodeId: id, transport: c.transport(id, { tls }), logger: silentLogger }));
    nodes[1]!.system.spawn('/echo', echoActor());
    for (const n of nodes) await n.start();
    await allConnected(nodes.map((n) => n.transport!));
    expect(await nodes[0]!.system.ref({ node: 'b', path: '/echo' }, EchoProtocol).ask('echo', { text: 'over tls' })).to.deep.equal({ text: 'over tls' });
    await (nodes[0]!.transport as RedisTransport).sendDurable('b', { kind: 'tell', id: 'tls-1', toNode: 'b', to: '/echo', fromNode: 'a', from: '', type: 'record', body: { seq: 1, from: 'a' } });
  });

  it('fails to start with a clear error when the server refuses it (no client certificate, or an unknown CA)', async () => {
    const c = testCluster(`rediss://127.0.0.1:${tlsPort}`);
    for (const tls of [{ ca: file('ca.crt') }, { cert: file('client.crt'), key: file('client.key') }]) {
      const t = c.transport('a', { tls, connectTimeoutMs: 1_500 });
      const err = await t.start({ onEnvelope() {}, onPeerUp() {}, onPeerDown() {}, onUndeliverable() {} }).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(ResourceUnavailableError);
      expect((err as Error).message).to.match(/cannot connect to redis at rediss:\/\/127\.0\.0\.1/).and.match(/tls options/);
      expect(t.isConnected()).to.equal(false);
    }
  });
});
