/**
 * The real third-party client, npm `csclient` 0.6.4, against the server with the fake command table:
 * its single-executor mode (which routes on listApis' isasync), a sync list, an async deploy polled
 * through queryAsyncJobResult, map parameters, a `*` in a value (csclient encodes it as %2A), and errors.
 */
import { createRequire } from 'node:module';
import { expect } from 'chai';
import { silentLogger } from '../../../src/logger.js';
import { createApiServer, type ApiServer } from '../../../actors/api/http-server.js';
import { ADMIN_KEYS, JOB_ID, USER_KEYS, VM_ID, fakeCommands, fakeCredentials } from './fixtures.js';

const require = createRequire(import.meta.url);

type Callback = (err: (Error & { code?: number }) | null, response?: Record<string, Record<string, unknown>>) => void;
interface CsClient {
  on(event: 'ready' | 'error', fn: (err?: Error) => void): void;
  execute(cmd: string, params: Record<string, unknown>, cb: Callback): void;
}
const CloudStackClient = require('csclient') as new (options: Record<string, unknown>) => CsClient;

function call(client: CsClient, cmd: string, params: Record<string, unknown>): Promise<Record<string, Record<string, unknown>>> {
  return new Promise((resolve, reject) => client.execute(cmd, params, (err, res) => (err ? reject(err) : resolve(res!))));
}

async function failure(p: Promise<unknown>): Promise<Error & { code?: number }> {
  return p.then(() => expect.fail('expected an APIError'), (e: Error & { code?: number }) => e);
}

describe('api/csclient (real client)', function () {
  this.timeout(10_000);
  let server: ApiServer;
  let baseUrl: string;

  before(async () => {
    // The real clock: csclient stamps `expires` with the machine's time.
    server = createApiServer({ port: 0, commands: fakeCommands(), credentials: fakeCredentials(), logger: silentLogger });
    baseUrl = `http://127.0.0.1:${(await server.listen()).port}/client/api?`;
  });

  after(async () => {
    await server.close();
  });

  async function readyClient(keys = ADMIN_KEYS): Promise<CsClient> {
    const client = new CloudStackClient({ ...keys, baseUrl, singleExecutor: true, pollingTime: 10, pollingNumber: 20 });
    await new Promise<void>((resolve, reject) => {
      client.on('ready', () => resolve());
      client.on('error', (e) => reject(e));
    });
    return client;
  }

  it('starts in single-executor mode and runs sync and async commands', async () => {
    const client = await readyClient();
    const zones = (await call(client, 'listZones', {}))['listzonesresponse']!;
    expect(zones['count']).to.equal(3);
    expect((zones['zone'] as unknown[]).length).to.equal(3);
    // deployVirtualMachine is async per listApis: csclient polls queryAsyncJobResult until jobstatus 1.
    const job = (await call(client, 'deployVirtualMachine', { zoneid: 'aaaaaaaa-0000-4000-8000-000000000001' })) as unknown as Record<string, unknown>;
    expect(job['jobid']).to.equal(JOB_ID);
    expect(job['jobstatus']).to.equal(1);
    expect(job['jobresult']).to.deep.include({ virtualmachine: { id: VM_ID, name: 'vm-1', state: 'Running', nic: [] } });
  });

  it('passes map parameters and values with * and ~ (csclient\'s own encodings)', async () => {
    const client = await readyClient();
    const echo = (await call(client, 'echoParams', { name: 'web*01 ~x', details: [{ key: 'cpuNumber', value: '2' }] }))['echoparamsresponse']!['echo'];
    expect(echo).to.deep.include({ name: 'web*01 ~x', details: [{ key: 'cpuNumber', value: '2' }] });
  });

  it('surfaces errors with CloudStack codes: missing parameter, unknown id, unauthorised', async () => {
    const client = await readyClient();
    const missing = await failure(call(client, 'stopVirtualMachine', {}));
    expect(missing.code).to.equal(431);
    expect(missing.message).to.equal('Unable to execute API command stopvirtualmachine due to missing parameter id');
    const unknown = await failure(call(client, 'stopVirtualMachine', { id: 'eeeeeeee-0000-4000-8000-000000000001' }));
    expect(unknown.code).to.equal(431);
    const notAllowed = await failure(call(await readyClient(USER_KEYS), 'createZone', { name: 'z' }));
    expect(notAllowed.code).to.equal(401);
    const badKey = new CloudStackClient({ apiKey: ADMIN_KEYS.apiKey, secretKey: 'wrong', baseUrl });
    const unauthorised = await failure(call(badKey, 'listZones', {}));
    expect(unauthorised.code).to.equal(401);
    expect(unauthorised.message).to.equal('unable to verify user credentials and/or request signature');
  });
});
