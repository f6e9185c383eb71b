/**
 * The real third-party client, npm `csclient`, against a lab started by startLab(): its single-executor
 * mode (it reads listApis at start and routes on isasync), then zones, offerings, templates, accounts
 * and keys, SSH keys, and the error paths (missing parameter, unknown id → 431; unauthorised → 401).
 */
import { createRequire } from 'node:module';
import { expect } from 'chai';
import { startLab, type Lab } from '../../bin/lab.js';
import { silentLogger } from '../../src/logger.js';

const require = createRequire(import.meta.url);

type Response = Record<string, Record<string, unknown>>;
type Callback = (err: (Error & { code?: number }) | null, response?: Response) => void;
interface CsClient {
  on(event: 'ready' | 'error', fn: (err?: Error) => void): void;
  execute(cmd: string, params: Record<string, unknown>, cb: Callback): void;
}
const CloudStackClient = require('csclient') as new (options: Record<string, unknown>) => CsClient;

function call(client: CsClient, cmd: string, params: Record<string, unknown> = {}): Promise<Response> {
  return new Promise((resolve, reject) => client.execute(cmd, params, (err, res) => (err ? reject(err) : resolve(res!))));
}

async function failure(p: Promise<unknown>): Promise<Error & { code?: number }> {
  return p.then(() => expect.fail('expected an APIError'), (e: Error & { code?: number }) => e);
}

describe('lab: csclient against startLab()', function () {
  this.timeout(20_000);
  let lab: Lab;

  before(async () => {
    lab = await startLab({ logger: silentLogger, hosts: 2 });
  });

  after(async () => {
    await lab.stop();
  });

  async function client(keys: { apiKey: string; secretKey: string } = lab): Promise<CsClient> {
    const c = new CloudStackClient({ apiKey: keys.apiKey, secretKey: keys.secretKey, baseUrl: `${lab.endpoint}?`, singleExecutor: true,
      pollingTime: 20, pollingNumber: 50 });
    await new Promise<void>((resolve, reject) => {
      c.on('ready', () => resolve());
      c.on('error', (e) => reject(e));
    });
    return c;
  }

  it('starts in single-executor mode and lists zones, offerings and templates', async () => {
    const c = await client();
    const zones = (await call(c, 'listZones'))['listzonesresponse']!;
    expect(zones['count']).to.equal(1);
    expect((zones['zone'] as { id: string }[])[0]!.id).to.equal(lab.seed.zoneid);
    const so = (await call(c, 'listServiceOfferings'))['listserviceofferingsresponse']!;
    expect(so['count']).to.equal(3);
    const disk = (await call(c, 'listDiskOfferings'))['listdiskofferingsresponse']!;
    expect(disk['count']).to.equal(lab.seed.diskofferings.length);
    const templates = (await call(c, 'listTemplates', { templatefilter: 'executable', zoneid: lab.seed.zoneid }))['listtemplatesresponse']!;
    expect((templates['template'] as { id: string; isready: boolean }[]).map((t) => [t.id, t.isready])).to.deep.equal([[lab.seed.templateid, true]]);
    const apis = (await call(c, 'listApis', { name: 'listZones' }))['listapisresponse']!;
    expect((apis['api'] as { isasync: boolean }[])[0]!.isasync).to.equal(false);
  });

  it('creates an account, registers its keys, and works as that user with SSH keys', async () => {
    const admin = await client();
    const created = (await call(admin, 'createAccount', { username: 'carol', password: 's3cret', email: 'c@example.com', firstname: 'Carol',
      lastname: 'C', accounttype: 0 }))['createaccountresponse']!['account'] as { id: string; user: { id: string }[] };
    const keys = (await call(admin, 'registerUserKeys', { id: created.user[0]!.id }))['registeruserkeysresponse']!['userkeys'] as
      { apikey: string; secretkey: string };
    const carol = await client({ apiKey: keys.apikey, secretKey: keys.secretkey });
    const accounts = (await call(carol, 'listAccounts'))['listaccountsresponse']!;
    expect((accounts['account'] as { id: string }[]).map((a) => a.id)).to.deep.equal([created.id]);
    const kp = (await call(carol, 'createSSHKeyPair', { name: 'carol-key' }))['createsshkeypairresponse']!['keypair'] as Record<string, string>;
    expect(kp['privatekey']).to.contain('PRIVATE KEY');
    const listed = (await call(carol, 'listSSHKeyPairs'))['listsshkeypairsresponse']!;
    expect(listed['count']).to.equal(1);
    expect((await call(carol, 'deleteSSHKeyPair', { name: 'carol-key' }))['deletesshkeypairresponse']).to.deep.equal({ success: true });
    expect((await call(carol, 'listSSHKeyPairs'))['listsshkeypairsresponse']).to.deep.equal({});
    const got = (await call(admin, 'getUserKeys', { id: created.user[0]!.id }))['getuserkeysresponse']!['userkeys'];
    expect(got).to.deep.equal(keys);
  });

  it('surfaces the error paths with CloudStack codes', async () => {
    const c = await client();
    const missing = await failure(call(c, 'listTemplates', {}));
    expect(missing.code).to.equal(431);
    expect(missing.message).to.equal('Unable to execute API command listtemplates due to missing parameter templatefilter');
    const unknown = await failure(call(c, 'updateZone', { id: '00000000-0000-4000-8000-000000000000', name: 'x' }));
    expect(unknown.code).to.equal(431);
    const bad = new CloudStackClient({ apiKey: lab.apiKey, secretKey: 'wrong', baseUrl: `${lab.endpoint}?` });
    const unauthorised = await failure(call(bad, 'listZones'));
    expect(unauthorised.code).to.equal(401);
    expect(unauthorised.message).to.equal('unable to verify user credentials and/or request signature');
  });
});
