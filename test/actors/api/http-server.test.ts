import { connect } from 'node:net';
import { expect } from 'chai';
import { SimulatedClock } from '../../../src/clock.js';
import { silentLogger } from '../../../src/logger.js';
import { defineCommand } from '../../../actors/api/command-table.js';
import { createApiServer, type ApiServer } from '../../../actors/api/http-server.js';
import {
  ADMIN_KEYS, JOB_ID, USER_KEYS, VM_ID, fakeCommands, fakeCredentials, formPost, httpCall, referenceSign, signedQuery, type HttpResult,
} from './fixtures.js';

const NOW = Date.UTC(2030, 0, 1, 0, 0, 0);
const UNAUTHORIZED = 'unable to verify user credentials and/or request signature';

interface Gate {
  promise: Promise<void>;
  open(): void;
  entered: Promise<void>;
  enter(): void;
}
function gate(): Gate {
  let open!: () => void;
  let enter!: () => void;
  const promise = new Promise<void>((r) => { open = r; });
  const entered = new Promise<void>((r) => { enter = r; });
  return { promise, open, entered, enter };
}

describe('api/http-server', function () {
  this.timeout(10_000);
  let server: ApiServer;
  let port: number;
  let slow: Gate;
  let clock: SimulatedClock;

  beforeEach(async () => {
    slow = gate();
    clock = new SimulatedClock(NOW);
    const slowCommand = defineCommand({
      name: 'slowCommand', description: 'waits for the test', isAsync: false, access: 'user', params: [],
      handler: async () => {
        slow.enter();
        await slow.promise;
        return { kind: 'success' };
      },
    });
    server = createApiServer({
      port: 0, commands: [...fakeCommands(), slowCommand], credentials: fakeCredentials(), clock, logger: silentLogger,
      limits: { maxBodyBytes: 4096, maxDrainBytes: 64 * 1024, maxHeaderBytes: 2048 },
    });
    port = (await server.listen()).port;
  });

  afterEach(async () => {
    slow.open();
    await server.close();
  });

  const get = (params: Record<string, string>, keys = ADMIN_KEYS) => httpCall(port, { path: `/client/api?${signedQuery(params, keys)}` });
  const json = (r: HttpResult) => JSON.parse(r.body) as Record<string, Record<string, unknown>>;

  describe('envelopes', () => {
    it('renders a list as JSON with the total count', async () => {
      const r = await get({ command: 'listZones', response: 'json', page: '2', pagesize: '2' });
      expect(r.status).to.equal(200);
      expect(r.headers['content-type']).to.equal('application/json; charset=UTF-8');
      expect(r.body).to.equal('{"listzonesresponse":{"count":3,"zone":[{"id":"aaaaaaaa-0000-4000-8000-000000000003",' +
        '"name":"zone-3 <&>","networktype":"Basic","allocationstate":"Enabled","tags":[]}]}}');
    });

    it('renders an empty list as {}', async () => {
      const r = await get({ command: 'listZones', response: 'json', keyword: 'nothing' });
      expect(r.body).to.equal('{"listzonesresponse":{}}');
    });

    it('answers in XML when response is absent', async () => {
      const r = await get({ command: 'listZones', id: 'aaaaaaaa-0000-4000-8000-000000000003' });
      expect(r.status).to.equal(200);
      expect(r.headers['content-type']).to.equal('text/xml; charset=UTF-8');
      expect(r.body).to.equal('<?xml version="1.0" encoding="UTF-8"?><listzonesresponse cloud-stack-version="4.20.0.0"><count>1</count>' +
        '<zone><id>aaaaaaaa-0000-4000-8000-000000000003</id><name>zone-3 &lt;&amp;&gt;</name><networktype>Basic</networktype>' +
        '<allocationstate>Enabled</allocationstate></zone></listzonesresponse>');
    });

    it('renders async, success and job results', async () => {
      expect(json(await get({ command: 'deployVirtualMachine', response: 'json', zoneid: 'aaaaaaaa-0000-4000-8000-000000000001' })))
        .to.deep.equal({ deployvirtualmachineresponse: { id: VM_ID, jobid: JOB_ID } });
      expect(json(await get({ command: 'stopVirtualMachine', response: 'json', id: VM_ID }))).to.deep.equal({ stopvirtualmachineresponse: { jobid: JOB_ID } });
      expect(json(await get({ command: 'deleteThing', response: 'json', id: 'dddddddd-0000-4000-8000-000000000001' })))
        .to.deep.equal({ deletethingresponse: { success: true, displaytext: 'deleted' } });
      const job = json(await get({ command: 'queryAsyncJobResult', response: 'json', jobid: JOB_ID }))['queryasyncjobresultresponse']!;
      expect(job['jobstatus']).to.equal(1);
      expect(job['jobresult']).to.deep.equal({ virtualmachine: { id: VM_ID, name: 'vm-1', state: 'Running', nic: [] } });
      const failed = json(await get({ command: 'queryAsyncJobResult', response: 'json', jobid: 'bbbbbbbb-0000-4000-8000-00000000000f' }))['queryasyncjobresultresponse']!;
      expect(failed['jobstatus']).to.equal(2);
      expect(failed['jobresult']).to.deep.equal({ errorcode: 533, errortext: 'Unable to create a deployment for VM' });
    });

    it('lists the table in listApis with boolean isasync, as csclient asks for it', async () => {
      const r = json(await get({ command: 'listApis', response: 'json', listall: 'true', filter: 'name,isasync' }))['listapisresponse']!;
      const apis = r['api'] as { name: string; isasync: boolean }[];
      expect(r['count']).to.equal(apis.length);
      expect(apis.find((a) => a.name === 'deployVirtualMachine')!.isasync).to.equal(true);
      expect(apis.find((a) => a.name === 'listZones')!.isasync).to.equal(false);
      expect(apis.map((a) => a.name)).to.include.members(['listApis', 'login', 'logout', 'slowCommand']);
    });
  });

  describe('parameters', () => {
    it('treats parameter names case-insensitively, for the command name too', async () => {
      const r = await get({ COMMAND: 'echoParams', Response: 'JSON', NAME: 'n', ZoneId: 'AAAAAAAA-0000-4000-8000-000000000001', Flag: 'TRUE' });
      expect(r.status).to.equal(200);
      expect(json(r)['echoparamsresponse']!['echo']).to.deep.equal({ name: 'n', flag: true, zoneid: 'aaaaaaaa-0000-4000-8000-000000000001', caller: 'admin' });
    });

    it('unpacks map parameters sent with brackets (encoded or not)', async () => {
      const r = await get({ command: 'echoParams', response: 'json', name: 'n', 'details[0].key': 'cpu', 'details[0].value': '2', 'details[1].key': 'ram' });
      expect(json(r)['echoparamsresponse']!['echo']).to.deep.include({ details: [{ key: 'cpu', value: '2' }, { key: 'ram' }] });
    });

    it('merges a POST form body with the query; the signature covers both', async () => {
      const all = { command: 'echoParams', response: 'json', name: 'from body', apiKey: ADMIN_KEYS.apiKey };
      const { signature } = referenceSign(all, ADMIN_KEYS.secretKey);
      const r = await formPost(port, `/client/api?command=echoParams&response=json&apiKey=${ADMIN_KEYS.apiKey}`,
        `name=from+body&signature=${encodeURIComponent(signature)}`);
      expect(r.status).to.equal(200);
      expect(json(r)['echoparamsresponse']!['echo']).to.include({ name: 'from body' });
    });

    it('answers a missing parameter with 431 and CloudStack\'s text', async () => {
      const r = await get({ command: 'echoParams', response: 'json' });
      expect(r.status).to.equal(431);
      expect(json(r)).to.deep.equal({ echoparamsresponse: { uuidList: [], errorcode: 431, cserrorcode: 9999, errortext: 'Unable to execute API command echoparams due to missing parameter name' } });
      expect(r.headers['x-description']).to.equal('Unable to execute API command echoparams due to missing parameter name');
    });

    it('answers malformed map syntax with 430 and a bad value with 431', async () => {
      expect((await get({ command: 'echoParams', response: 'json', name: 'n', 'details[0]': 'x' })).status).to.equal(430);
      const bad = await get({ command: 'echoParams', response: 'json', name: 'n', count: 'many' });
      expect(bad.status).to.equal(431);
      expect(json(bad)['echoparamsresponse']!['errortext']).to.contain('parameter count');
    });
  });

  describe('errors', () => {
    it('maps component errors to codes with the matching HTTP status', async () => {
      const notFound = await get({ command: 'stopVirtualMachine', response: 'json', id: 'eeeeeeee-0000-4000-8000-000000000001' });
      expect(notFound.status).to.equal(431);
      expect(json(notFound)['stopvirtualmachineresponse']).to.include({ errorcode: 431, cserrorcode: 4350 });
      const inUse = await get({ command: 'deleteThing', response: 'json', id: VM_ID });
      expect(inUse.status).to.equal(536);
      expect(json(inUse)['deletethingresponse']).to.include({ errorcode: 536, errortext: 'thing is still attached to a VM' });
    });

    it('never leaks a stack trace or a file path', async () => {
      for (const response of ['json', 'xml']) {
        const r = await get({ command: 'brokenCommand', response });
        expect(r.status).to.equal(530);
        expect(r.body).to.contain('Internal error executing command, please contact your cloud administrator');
        expect(r.body).to.not.match(/\/work\/|ENOENT|\.ts|\bat /);
      }
    });

    it('refuses a command the role does not allow with 401', async () => {
      const r = await get({ command: 'createZone', response: 'json', name: 'z' }, USER_KEYS);
      expect(r.status).to.equal(401);
      expect((await get({ command: 'createZone', response: 'json', name: 'z' }, ADMIN_KEYS)).status).to.equal(200);
    });

    it('answers other paths with 404 and other methods with 405', async () => {
      expect((await httpCall(port, { path: '/client/other' })).status).to.equal(404);
      const put = await httpCall(port, { method: 'PUT', path: '/client/api?command=listZones&response=json' });
      expect(put.status).to.equal(405);
      expect(json(put)['listzonesresponse']).to.include({ errorcode: 405 });
    });
  });

  describe('API-key authentication', () => {
    const base = { command: 'listZones', response: 'json', signatureVersion: '3' };
    const at = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, '+0000');
    const unauthorized = { listzonesresponse: { uuidList: [], errorcode: 401, errortext: UNAUTHORIZED } };

    it('accepts a fresh signatureVersion=3 request and reordered parameters', async () => {
      const q = signedQuery({ ...base, expires: at(NOW + 5 * 60_000) }, ADMIN_KEYS);
      expect((await httpCall(port, { path: `/client/api?${q}` })).status).to.equal(200);
      const reordered = q.split('&').reverse().join('&');
      expect((await httpCall(port, { path: `/client/api?${reordered}` })).status).to.equal(200);
    });

    it('accepts a changed parameter-name case', async () => {
      const q = signedQuery({ ...base, expires: at(NOW + 60_000) }, ADMIN_KEYS).replace('command=', 'COMMAND=').replace('signatureVersion=', 'SignatureVersion=');
      expect((await httpCall(port, { path: `/client/api?${q}` })).status).to.equal(200);
    });

    it('gives the same 401 body for a bad signature and an unknown key', async () => {
      const good = signedQuery({ ...base, expires: at(NOW + 60_000) }, ADMIN_KEYS);
      const badSig = await httpCall(port, { path: `/client/api?${good.replace(/signature=[^&]+/, 'signature=AAAAAAAAAAAAAAAAAAAAAAAAAAA%3D')}` });
      const unknownKey = await httpCall(port, { path: `/client/api?${signedQuery({ ...base, expires: at(NOW + 60_000) }, { apiKey: 'nobody', secretKey: 'x' })}` });
      expect(badSig.status).to.equal(401);
      expect(unknownKey.status).to.equal(401);
      expect(badSig.body).to.equal(unknownKey.body);
      expect(JSON.parse(badSig.body)).to.deep.equal(unauthorized);
    });

    it('refuses expired, too-far-ahead, tampered, dropped-parameter and unsigned requests', async () => {
      const cases = [
        signedQuery({ ...base, expires: at(NOW - 1000) }, ADMIN_KEYS),
        signedQuery({ ...base, expires: at(NOW + 16 * 60_000) }, ADMIN_KEYS),
        signedQuery({ ...base, expires: at(NOW + 60_000), keyword: 'zone' }, ADMIN_KEYS).replace('keyword=zone', 'keyword=zonf'),
        signedQuery({ ...base, expires: at(NOW + 60_000), keyword: 'zone' }, ADMIN_KEYS).replace('&keyword=zone', ''),
        signedQuery({ ...base }, ADMIN_KEYS), // version 3 without expires
        `command=listZones&response=json&apiKey=${ADMIN_KEYS.apiKey}`,
        'command=listZones&response=json',
      ];
      for (const q of cases) {
        const r = await httpCall(port, { path: `/client/api?${q}` });
        expect(r.status, q).to.equal(401);
        expect(JSON.parse(r.body), q).to.deep.equal(unauthorized);
      }
    });

    it('answers an unknown or missing command with the plain 401 as errorresponse', async () => {
      const r = await get({ command: 'noSuchCommand', response: 'json' });
      expect(r.status).to.equal(401);
      expect(JSON.parse(r.body)).to.deep.equal({ errorresponse: { uuidList: [], errorcode: 401, errortext: UNAUTHORIZED } });
      expect((await get({ response: 'json' })).status).to.equal(401);
    });
  });

  describe('session login', () => {
    const login = (form: string) => formPost(port, '/client/api', form);
    const cookiesOf = (r: HttpResult) => (r.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]!).join('; ');

    it('needs POST (405) and the right password (531)', async () => {
      const viaGet = await httpCall(port, { path: '/client/api?command=login&username=admin&password=password&response=json' });
      expect(viaGet.status).to.equal(405);
      expect(json(viaGet)['loginresponse']).to.include({ errorcode: 405, errortext: 'Please use HTTP POST to authenticate using this API' });
      const wrong = await login('command=login&username=admin&password=nope&response=json');
      expect(wrong.status).to.equal(531);
      expect(json(wrong)['loginresponse']!['errortext']).to.equal('Failed to authenticate user admin in domain /; please provide valid credentials');
      expect((await login('command=login&password=x&response=json')).status).to.equal(431);
    });

    it('opens a session used through the JSESSIONID cookie and the sessionkey, until logout', async () => {
      const r = await login('command=login&username=alice&password=s3cret&domain=child&response=json');
      expect(r.status).to.equal(200);
      const body = json(r)['loginresponse']!;
      expect(body).to.include({ username: 'alice', account: 'alice', type: '0', timeout: '1800' });
      const key = body['sessionkey'] as string;
      const cookie = cookiesOf(r);
      expect(cookie).to.match(/JSESSIONID=[^;]+; sessionkey=/);

      const withSession = (q: string, c = cookie) => httpCall(port, { path: `/client/api?${q}`, headers: { Cookie: c } });
      const ok = await withSession(`command=listZones&response=json&sessionkey=${encodeURIComponent(key)}`);
      expect(ok.status).to.equal(200);
      expect(json(ok)['listzonesresponse']!['count']).to.equal(3);
      // CookieAndParameter: the key must come as a parameter too; a role-restricted command is refused.
      expect((await withSession(`command=createZone&response=json&name=z&sessionkey=${encodeURIComponent(key)}`)).status).to.equal(401);
      const unknown = await withSession(`command=noSuchCommand&response=json&sessionkey=${encodeURIComponent(key)}`);
      expect(unknown.status).to.equal(432);
      expect(json(unknown)['errorresponse']).to.include({ errorcode: 432 });
      expect((await withSession(`response=json&sessionkey=${encodeURIComponent(key)}`)).status).to.equal(400);

      const out = await withSession('command=logout&response=json');
      expect(json(out)).to.deep.equal({ logoutresponse: { description: 'success' } });
      expect((await withSession(`command=listZones&response=json&sessionkey=${encodeURIComponent(key)}`)).status).to.equal(401);
    });

    it('serves the API at /client/api/ too (the UI calls it with the slash)', async () => {
      const r = await formPost(port, '/client/api/', 'command=login&username=admin&password=password&response=json');
      expect(r.status).to.equal(200);
      const key = json(r)['loginresponse']!['sessionkey'] as string;
      const zones = await httpCall(port, { path: `/client/api/?command=listZones&response=json&sessionkey=${encodeURIComponent(key)}`,
        headers: { Cookie: cookiesOf(r) } });
      expect(zones.status).to.equal(200);
      expect((await httpCall(port, { path: '/client/apix?command=listZones' })).status).to.equal(404);
    });

    it('answers a logout without a session as ApiServlet does: 431, and no cookie expired', async () => {
      for (const cookie of [undefined, 'JSESSIONID=unknown-session; sessionkey=whatever']) {
        const r = await httpCall(port, { path: '/client/api/?command=logout&response=json', ...(cookie === undefined ? {} : { headers: { Cookie: cookie } }) });
        expect(r.status).to.equal(431);
        expect(json(r)['logoutresponse']).to.include({ errorcode: 431, errortext: 'Session not found for the logout process.' });
        expect(r.headers['set-cookie']).to.equal(undefined);
      }
    });

    it('a cookie-less logout racing a login does not end the new session', async () => {
      // The UI fires logout and then login without waiting: the logout may be answered last.
      const [out, r] = await Promise.all([
        httpCall(port, { path: '/client/api/?command=logout&response=json' }),
        login('command=login&username=admin&password=password&response=json'),
      ]);
      expect(out.status).to.equal(431);
      expect(out.headers['set-cookie']).to.equal(undefined);
      const key = json(r)['loginresponse']!['sessionkey'] as string;
      // A second cookie-less logout, answered after the login, changes nothing either.
      expect((await httpCall(port, { path: '/client/api/?command=logout&response=json' })).headers['set-cookie']).to.equal(undefined);
      const ok = await httpCall(port, { path: `/client/api?command=listZones&response=json&sessionkey=${encodeURIComponent(key)}`,
        headers: { Cookie: cookiesOf(r) } });
      expect(ok.status).to.equal(200);
      // A logout with the session's cookie ends it and expires the cookies.
      const end = await httpCall(port, { path: '/client/api?command=logout&response=json', headers: { Cookie: cookiesOf(r) } });
      expect(end.status).to.equal(200);
      expect(end.headers['set-cookie']!.join(';')).to.match(/JSESSIONID=;.*Max-Age=0/);
    });

    it("answers every field of CloudStack's LoginCmdResponse, timezone and its offset included", async () => {
      const admin = json(await login('command=login&username=admin&password=password&response=json'))['loginresponse']!;
      expect(Object.keys(admin).sort()).to.deep.equal(['account', 'domainid', 'firstname', 'is2faenabled', 'is2faverified', 'lastname',
        'registered', 'sessionkey', 'timeout', 'timezone', 'timezoneoffset', 'type', 'userid', 'username']);
      // A user without a zone: CloudStack's defaults, which the UI JSON-parses.
      expect(admin).to.include({ timezone: 'UTC', timezoneoffset: '0.0', firstname: 'Admin', lastname: 'User', type: '1' });
      expect(JSON.parse(String(admin['timezoneoffset']))).to.equal(0);
      const alice = json(await login('command=login&username=alice&password=s3cret&domain=child&response=json'))['loginresponse']!;
      expect(alice).to.include({ timezone: 'Asia/Kolkata', timezoneoffset: '5.5', firstname: 'Alice' });
    });

    it('invalidates a session presented with a wrong or missing sessionkey', async () => {
      const r = await login('command=login&username=admin&password=password&response=json');
      const key = json(r)['loginresponse']!['sessionkey'] as string;
      const jsession = cookiesOf(r).split('; ')[0]!;
      const missing = await httpCall(port, { path: `/client/api?command=listZones&response=json&sessionkey=${encodeURIComponent(key)}`, headers: { Cookie: jsession } });
      expect(missing.status).to.equal(401);
      expect(json(missing)['listzonesresponse']!['errortext']).to.equal('unable to verify user credentials');
      const after = await httpCall(port, { path: `/client/api?command=listZones&response=json&sessionkey=${encodeURIComponent(key)}`, headers: { Cookie: cookiesOf(r) } });
      expect(after.status).to.equal(401);
    });
  });

  describe('limits and lifecycle', () => {
    it('refuses an oversized body with an envelope and closes the connection', async () => {
      const q = signedQuery({ command: 'echoParams', response: 'json' }, ADMIN_KEYS);
      const r = await formPost(port, `/client/api?${q}`, `name=${'x'.repeat(10_000)}`);
      expect(r.status).to.equal(431);
      expect(r.headers['connection']).to.equal('close');
      expect(json(r)['echoparamsresponse']!['errortext']).to.equal('The request body is larger than 4096 bytes; send less data per request');
      // A body far beyond what is worth draining is answered at once and the connection is cut, so the
      // client sees the reply or, if it was still sending, a reset.
      const huge = await formPost(port, `/client/api?${q}`, Buffer.alloc(200 * 1024, 'a')).then(
        (res) => res.status, (e: NodeJS.ErrnoException) => e.code);
      expect(huge).to.be.oneOf([431, 'ECONNRESET', 'EPIPE']);
      // The server still serves afterwards.
      expect((await get({ command: 'listZones', response: 'json' })).status).to.equal(200);
    });

    it('answers an oversized request head with a 431 envelope', async () => {
      const r = await httpCall(port, { path: `/client/api?command=listZones&response=json&x=${'y'.repeat(4000)}` });
      expect(r.status).to.equal(431);
      expect(r.body).to.contain('<errorcode>431</errorcode>');
    });

    it('answers a malformed request with 400 and stays up', async () => {
      const reply = await new Promise<string>((resolve, reject) => {
        const s = connect(port, '127.0.0.1', () => s.end('NOT HTTP AT ALL\r\n\r\n'));
        let data = '';
        s.on('data', (d) => { data += d.toString(); });
        s.on('end', () => resolve(data));
        s.on('error', reject);
      });
      expect(reply).to.match(/^HTTP\/1\.1 400/);
      expect((await get({ command: 'listZones', response: 'json' })).status).to.equal(200);
    });

    it('closes gracefully: an in-flight request finishes, then close() resolves', async () => {
      const inFlight = get({ command: 'slowCommand', response: 'json' });
      await slow.entered;
      let closed = false;
      const closing = server.close().then(() => { closed = true; });
      await new Promise((r) => setImmediate(r));
      expect(closed).to.equal(false);
      slow.open();
      const r = await inFlight;
      expect(r.status).to.equal(200);
      expect(json(r)).to.deep.equal({ slowcommandresponse: { success: true } });
      await closing;
      expect(closed).to.equal(true);
      await httpCall(port, { path: '/client/api' }).then(() => expect.fail('server should be closed'), (e: NodeJS.ErrnoException) => expect(e.code).to.equal('ECONNREFUSED'));
    });

    it('bounds a graceful close: after closeTimeoutMs the remaining connections are cut', async () => {
      const inFlight = get({ command: 'slowCommand', response: 'json' }).then(() => 'answered', (e: NodeJS.ErrnoException) => e.code);
      await slow.entered;
      const closing = server.close();
      clock.advance(10_000); // limits.closeTimeoutMs default
      await closing;
      expect(await inFlight).to.equal('ECONNRESET');
    });

    it('reports a port in use as a ConfigError naming the port', async () => {
      const other = createApiServer({ port, commands: [], credentials: fakeCredentials(), logger: silentLogger });
      await other.listen().then(() => expect.fail('should not listen'), (e: Error) => expect(e.message).to.contain(`port ${port}`));
      await other.close();
    });
  });
});

describe('api/auth: time zone offsets', () => {
  it("reports a zone's offset at the login time as Java's Float.toString of hours", async () => {
    const { formatOffsetHours, zoneOffsetHours } = await import('../../../actors/api/auth.js');
    const winter = new Date(Date.UTC(2030, 0, 15));
    const summer = new Date(Date.UTC(2030, 6, 15));
    expect(formatOffsetHours(zoneOffsetHours('UTC', winter))).to.equal('0.0');
    expect(formatOffsetHours(zoneOffsetHours('America/New_York', winter))).to.equal('-5.0');
    expect(formatOffsetHours(zoneOffsetHours('America/New_York', summer))).to.equal('-4.0');
    expect(formatOffsetHours(zoneOffsetHours('Asia/Kathmandu', winter))).to.equal('5.75');
    // Java's TimeZone.getTimeZone falls back to GMT for a name it does not know.
    expect(formatOffsetHours(zoneOffsetHours('Not/AZone', winter))).to.equal('0.0');
  });
});
