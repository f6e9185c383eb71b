/**
 * Fuzzes /client/api over real HTTP: random commands, parameter names and values (Unicode, control
 * characters, empty, huge), GET or POST, JSON or XML, signed or not. Every reply must be a well-formed
 * envelope whose errorcode is one of CloudStack's and equals the HTTP status, and the server must stay up.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { SimulatedClock } from '../../../src/clock.js';
import { silentLogger } from '../../../src/logger.js';
import { API_ERROR_CODES } from '../../../actors/api/error-map.js';
import { createApiServer, type ApiServer } from '../../../actors/api/http-server.js';
import { ADMIN_KEYS, fakeCommands, fakeCredentials, formPost, httpCall, referenceSign, type HttpResult } from './fixtures.js';

/** A small XML well-formedness check: balanced tags, only known entities, one root. Returns the root's children. */
function checkXml(text: string): { root: string; children: Map<string, string> } {
  const prolog = '<?xml version="1.0" encoding="UTF-8"?>';
  expect(text.startsWith(prolog), 'XML prolog').to.equal(true);
  const body = text.slice(prolog.length);
  const stack: string[] = [];
  const children = new Map<string, string>();
  let root = '';
  const token = /<(\/?)([A-Za-z_][A-Za-z0-9_.-]*)((?:\s+[A-Za-z_:-]+="[^"<&]*")*)>|([^<]+)/gy;
  let m: RegExpExecArray | null;
  let pos = 0;
  let lastText = '';
  while ((m = token.exec(body)) !== null) {
    pos = token.lastIndex;
    if (m[4] !== undefined) {
      expect(m[4], 'text').to.not.match(/&(?!(?:lt|gt|amp|quot|apos);)/);
      expect(m[4], 'text').to.not.match(/>/);
      lastText = m[4];
      continue;
    }
    const [, close, name] = m;
    if (close === '/') {
      expect(stack.pop(), 'closing tag').to.equal(name);
      if (stack.length === 1) children.set(name!, lastText);
    } else {
      if (stack.length === 0) {
        expect(root, 'single root').to.equal('');
        root = name!;
      }
      stack.push(name!);
    }
    lastText = '';
  }
  expect(pos, 'whole document tokenised').to.equal(body.length);
  expect(stack, 'all tags closed').to.deep.equal([]);
  return { root, children };
}

function checkEnvelope(r: HttpResult, command: string | undefined): void {
  expect(r.status === 200 || API_ERROR_CODES.has(r.status), `status ${r.status}`).to.equal(true);
  const type = String(r.headers['content-type']);
  if (type.startsWith('application/json')) {
    const parsed = JSON.parse(r.body) as Record<string, Record<string, unknown>>;
    const keys = Object.keys(parsed);
    expect(keys).to.have.length(1);
    expect(keys[0]).to.match(/response$/);
    const inner = parsed[keys[0]!]!;
    if (r.status === 200) {
      expect(keys[0]).to.equal(`${command!.toLowerCase()}response`);
    } else {
      expect(inner['errorcode']).to.equal(r.status);
      expect(inner['errortext']).to.be.a('string');
      expect(inner['uuidList']).to.be.an('array');
    }
  } else {
    expect(type).to.equal('text/xml; charset=UTF-8');
    const { root, children } = checkXml(r.body);
    expect(root).to.match(/response$/);
    if (r.status !== 200) expect(children.get('errorcode')).to.equal(String(r.status));
  }
  expect(r.body).to.not.match(/\/work\/|node_modules|\.ts:\d|\n\s+at /);
}

const COMMANDS = ['listZones', 'echoParams', 'deleteThing', 'deployVirtualMachine', 'stopVirtualMachine', 'queryAsyncJobResult',
  'createZone', 'listApis', 'login', 'logout', 'brokenCommand'];
const NAMES = ['name', 'id', 'zoneid', 'flag', 'count', 'big', 'when', 'ids', 'names', 'page', 'pagesize', 'keyword', 'jobid',
  'username', 'password', 'domain', 'details[0].key', 'details[1].value', 'details[0]', 'x[a].b', 'a[0][1].c', 'NAME', 'ZoneId'];

const unicode = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }).map((s) => Buffer.from(s, 'utf8').toString('utf8')),
  fc.constantFrom('', 'true', 'TRUE', '-1', '0', '2147483648', 'aaaaaaaa-0000-4000-8000-000000000001', '2024-05-01', 'a,b,,c', '<&>"\''),
  fc.integer({ min: 1, max: 20_000 }).map((n) => 'x'.repeat(n)),
);

const requestArb = fc.record({
  command: fc.option(fc.oneof(fc.constantFrom(...COMMANDS), fc.string({ unit: 'grapheme', maxLength: 12 })), { nil: undefined }),
  response: fc.constantFrom<string | undefined>('json', 'xml', 'JSON', undefined, 'yaml'),
  params: fc.dictionary(fc.oneof(fc.constantFrom(...NAMES), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 })), unicode, { maxKeys: 6 }),
  signed: fc.boolean(),
  post: fc.boolean(),
});

describe('api/fuzz', function () {
  this.timeout(60_000);
  let server: ApiServer;
  let port: number;

  before(async () => {
    server = createApiServer({
      port: 0, commands: fakeCommands(), credentials: fakeCredentials(), clock: new SimulatedClock(Date.UTC(2030, 0, 1)),
      logger: silentLogger, limits: { maxBodyBytes: 16 * 1024, maxHeaderBytes: 8 * 1024 },
    });
    port = (await server.listen()).port;
  });

  after(async () => {
    await server.close();
  });

  it('answers every request with a well-formed envelope and a matching status, and stays up', async () => {
    const seen = new Map<number, number>();
    await fc.assert(fc.asyncProperty(requestArb, async (req) => {
      const params: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.params)) if (k.toLowerCase() !== 'signature') params[k] = v;
      if (req.command !== undefined) params['command'] = req.command;
      if (req.response !== undefined) params['response'] = req.response;
      if (req.signed) {
        params['apiKey'] = ADMIN_KEYS.apiKey;
        params['signature'] = referenceSign(params, ADMIN_KEYS.secretKey).signature;
      }
      const encoded = Object.entries(params).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
      const r = req.post ? await formPost(port, '/client/api', encoded) : await httpCall(port, { path: `/client/api?${encoded}` });
      checkEnvelope(r, req.command);
      seen.set(r.status, (seen.get(r.status) ?? 0) + 1);
    }), { numRuns: 250, seed: 20240501 });
    // The run reached the handlers and the parameter checks, not only the authentication wall.
    expect([...seen.keys()]).to.include.members([200, 401, 430, 431]);
    const alive = await httpCall(port, { path: '/client/api?command=listZones&response=json' });
    expect(alive.status).to.equal(401);
  });
});
