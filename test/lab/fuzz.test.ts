/**
 * Fuzzes /client/api of a real lab (startLab: every command of the table over the data service):
 * random real commands with random declared and undeclared parameters (seeded ids, Unicode, control
 * characters, empty and huge values), signed as admin or user or not at all, GET or POST, JSON or XML.
 * Every reply must be a well-formed envelope whose code is one of CloudStack's and equals the HTTP
 * status, with no stack trace or file path in it, and the lab must keep answering.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import type { Lab } from '../../bin/lab.js';
import { API_ERROR_CODES } from '../../actors/api/error-map.js';
import { formPost, httpCall, referenceSign, type HttpResult } from '../actors/api/fixtures.js';
import { LabClient, testLab, userAccount, type Keys } from '../actors/api/commands/lab-client.js';

/** Tag balance and a single root; returns the root and its direct children's text. */
function checkXml(text: string): { root: string; children: Map<string, string> } {
  const prolog = '<?xml version="1.0" encoding="UTF-8"?>';
  expect(text.startsWith(prolog), 'XML prolog').to.equal(true);
  const stack: string[] = [];
  const children = new Map<string, string>();
  let root = '';
  let lastText = '';
  const token = /<(\/?)([A-Za-z_][A-Za-z0-9_.-]*)((?:\s+[A-Za-z_:-]+="[^"<&]*")*)>|([^<]+)/gy;
  const body = text.slice(prolog.length);
  let m: RegExpExecArray | null;
  let pos = 0;
  while ((m = token.exec(body)) !== null) {
    pos = token.lastIndex;
    if (m[4] !== undefined) {
      expect(m[4], 'text').to.not.match(/&(?!(?:lt|gt|amp|quot|apos);)|>/);
      lastText = m[4];
      continue;
    }
    if (m[1] === '/') {
      expect(stack.pop(), 'closing tag').to.equal(m[2]);
      if (stack.length === 1) children.set(m[2]!, lastText);
    } else {
      if (stack.length === 0) { expect(root, 'single root').to.equal(''); root = m[2]!; }
      stack.push(m[2]!);
    }
    lastText = '';
  }
  expect(pos, 'whole document tokenised').to.equal(body.length);
  expect(stack, 'all tags closed').to.deep.equal([]);
  return { root, children };
}

function checkEnvelope(r: HttpResult, command: string | undefined): void {
  expect(r.status === 200 || API_ERROR_CODES.has(r.status), `status ${r.status}: ${r.body.slice(0, 300)}`).to.equal(true);
  const type = String(r.headers['content-type']);
  if (type.startsWith('application/json')) {
    const parsed = JSON.parse(r.body) as Record<string, Record<string, unknown>>;
    const keys = Object.keys(parsed);
    expect(keys).to.have.length(1);
    expect(keys[0]).to.match(/response$/);
    const inner = parsed[keys[0]!]!;
    if (r.status === 200) expect(keys[0]).to.equal(command === 'login' ? 'loginresponse' : `${command!.toLowerCase()}response`);
    else {
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
  expect(r.body).to.not.match(/\/work\/|node_modules|\.[jt]s:\d|\n\s+at /);
}

describe('lab: fuzz of /client/api on a real lab', function () {
  this.timeout(120_000);
  let lab: Lab;
  let user: Keys;
  let commands: string[];
  let names: string[];

  before(async () => {
    lab = await testLab({ hosts: 2 });
    const admin = new LabClient(lab);
    user = (await userAccount(admin)).client.keys;
    const apis = (await admin.ok('listApis'))['api'] as { name: string; params: { name: string }[] }[];
    commands = apis.map((a) => a.name);
    names = [...new Set(apis.flatMap((a) => a.params.map((p) => p.name)))];
  });

  after(async () => {
    await lab.stop();
  });

  it('answers every request with a well-formed envelope and a matching status, and keeps serving', async () => {
    const ids = [lab.seed.zoneid, lab.seed.podid, lab.seed.clusterid, lab.seed.templateid, lab.seed.hostids[0]!, lab.seed.domainid,
      lab.seed.serviceofferings.small, '00000000-0000-4000-8000-000000000000'];
    const value = fc.oneof(
      fc.constantFrom(...ids),
      fc.string({ unit: 'grapheme', maxLength: 30 }),
      fc.string({ unit: 'binary', maxLength: 20 }),
      fc.constantFrom('', 'true', 'FALSE', '-1', '0', '1', '2147483648', 'executable', 'all', 'self', 'Simulator', 'Advanced',
        'http://sim/c0/h9', 'nfs://10.0.0.1/x', 'QCOW2', '2024-05-01', 'a,b,,c', '<&>"\'', '%', '\u0000', '\u{1F600}'),
      fc.integer({ min: 256, max: 20_000 }).map((n) => 'x'.repeat(n)),
    );
    const request = fc.record({
      command: fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...commands) }, { weight: 1, arbitrary: fc.string({ maxLength: 12 }) }),
      response: fc.constantFrom('json', 'json', 'xml', undefined),
      params: fc.dictionary(fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...names) }, { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 8 }) }),
        value, { maxKeys: 6 }),
      as: fc.constantFrom<'admin' | 'user' | 'none'>('admin', 'admin', 'user', 'none'),
      post: fc.boolean(),
    });
    const seen = new Map<number, number>();
    const port = Number(new URL(lab.endpoint).port);
    await fc.assert(fc.asyncProperty(request, async (req) => {
      const params: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.params)) if (!['signature', 'apikey', 'sessionkey'].includes(k.toLowerCase())) params[k] = v;
      params['command'] = req.command;
      if (req.response !== undefined) params['response'] = req.response;
      const keys = req.as === 'admin' ? lab : req.as === 'user' ? user : undefined;
      if (keys !== undefined) {
        params['apiKey'] = keys.apiKey;
        params['signature'] = referenceSign(params, keys.secretKey).signature;
      }
      const encoded = Object.entries(params).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
      const r = req.post ? await formPost(port, '/client/api', encoded) : await httpCall(port, { path: `/client/api?${encoded}` });
      checkEnvelope(r, req.command);
      seen.set(r.status, (seen.get(r.status) ?? 0) + 1);
    }), { numRuns: 300, seed: 20250601 });
    // The run got past authentication into the commands and their parameter checks.
    expect([...seen.keys()]).to.include.members([200, 401, 431]);
    const alive = await new LabClient(lab).ok('listZones');
    expect(alive['count']).to.be.at.least(1);
  });
});
