/**
 * A signed JSON client for a started lab (signing written independently of the server, in
 * ../fixtures.ts), and helpers that create a user account with its own keys.
 */
import { expect } from 'chai';
import { startLab, type Lab, type LabOptions } from '../../../../bin/lab.js';
import { silentLogger } from '../../../../src/logger.js';
import { freshPostgresDatabase, testBackend } from '../../../helpers/test-store.js';
import { formPost, httpCall, signedQuery, type HttpResult } from '../fixtures.js';

export interface Keys {
  apiKey: string;
  secretKey: string;
}

export interface Reply {
  status: number;
  /** The object inside `<command>response`. */
  body: Record<string, unknown>;
  raw: HttpResult;
}

/** What a client needs of a lab. */
export type LabAddress = Pick<Lab, 'endpoint' | 'apiKey' | 'secretKey'>;

export class LabClient {
  constructor(readonly lab: LabAddress, readonly keys: Keys = lab) {}

  get port(): number {
    return Number(new URL(this.lab.endpoint).port);
  }

  as(keys: Keys): LabClient {
    return new LabClient(this.lab, keys);
  }

  /** Calls a command (GET, or POST with `post`), signed with this client's keys. */
  async call(command: string, params: Record<string, string> = {}, opts: { post?: boolean } = {}): Promise<Reply> {
    const query = signedQuery({ command, response: 'json', ...params }, this.keys);
    const raw = opts.post === true ? await formPost(this.port, '/client/api', query) : await httpCall(this.port, { path: `/client/api?${query}` });
    const parsed = JSON.parse(raw.body) as Record<string, Record<string, unknown>>;
    const keys = Object.keys(parsed);
    expect(keys, raw.body).to.have.length(1);
    return { status: raw.status, body: parsed[keys[0]!]!, raw };
  }

  /** Calls and expects HTTP 200; returns the body. */
  async ok(command: string, params: Record<string, string> = {}, opts: { post?: boolean } = {}): Promise<Record<string, unknown>> {
    const r = await this.call(command, params, opts);
    expect(r.status, `${command}: ${r.raw.body}`).to.equal(200);
    return r.body;
  }

  /** Calls and expects an error with `code` (HTTP status and errorcode); returns the errortext. */
  async fails(code: number, command: string, params: Record<string, string> = {}): Promise<string> {
    const r = await this.call(command, params);
    expect(r.status, `${command}: ${r.raw.body}`).to.equal(code);
    expect(r.body['errorcode']).to.equal(code);
    return String(r.body['errortext']);
  }

  /** The items of a list reply (empty list replies are `{}`). */
  async list(command: string, objectName: string, params: Record<string, string> = {}): Promise<Record<string, unknown>[]> {
    const body = await this.ok(command, params);
    if (Object.keys(body).length === 0) return [];
    const items = body[objectName] as Record<string, unknown>[];
    expect(body['count'], `${command} count`).to.be.at.least(items.length);
    return items;
  }
}

/** A lab for a command test: on a fresh PostgreSQL database under `npm run test:postgres`, else SQLite. */
export async function testLab(options: LabOptions = {}): Promise<Lab> {
  const store = testBackend() === 'postgres' && options.databaseUrl === undefined ? { databaseUrl: freshPostgresDatabase() } : {};
  return startLab({ logger: silentLogger, hosts: 2, ...store, ...options });
}

let counter = 0;

/** Creates an account (default type 0, user) in `domainid` (default ROOT) and registers its user's keys. */
export async function userAccount(admin: LabClient, opts: { domainid?: string; accounttype?: string } = {}):
  Promise<{ client: LabClient; accountId: string; userId: string; name: string }> {
  const name = `user${++counter}`;
  const params: Record<string, string> = { username: name, password: 'pw-' + name, email: `${name}@example.com`,
    firstname: 'Test', lastname: 'User', accounttype: opts.accounttype ?? '0' };
  if (opts.domainid !== undefined) params['domainid'] = opts.domainid;
  const account = (await admin.ok('createAccount', params))['account'] as { id: string; user: { id: string }[] };
  const userId = account.user[0]!.id;
  const keys = (await admin.ok('registerUserKeys', { id: userId }))['userkeys'] as { apikey: string; secretkey: string };
  return { client: admin.as({ apiKey: keys.apikey, secretKey: keys.secretkey }), accountId: account.id, userId, name };
}
