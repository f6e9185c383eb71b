/**
 * Test fixtures for the API: fake credentials, a fake command table, an independent implementation of
 * CloudStack's signing (written from the reference, not from actors/api/signature.ts), and a small
 * HTTP client that always opens a fresh connection.
 */
import { createHmac } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { InsufficientCapacityError, NotFoundError, ResourceInUseError } from '../../../src/errors.js';
import { asyncJobResponse } from '../../../actors/api/async-job.js';
import { defineCommand, type CommandDefinition } from '../../../actors/api/command-table.js';
import { getString } from '../../../actors/api/params.js';
import type { Caller, Credentials, ResponseObject, UserProfile } from '../../../actors/api/types.js';

export const ADMIN: Caller = {
  accountId: '11111111-1111-4111-8111-111111111111', userId: '22222222-2222-4222-8222-222222222222',
  domainId: '33333333-3333-4333-8333-333333333333', domainPath: 'ROOT', role: 'admin', accountName: 'admin',
};
export const USER: Caller = {
  accountId: '44444444-4444-4444-8444-444444444444', userId: '55555555-5555-4555-8555-555555555555',
  domainId: '66666666-6666-4666-8666-666666666666', domainPath: 'ROOT/child', role: 'user', accountName: 'alice',
};
export const ADMIN_KEYS = { apiKey: 'adminApiKey-123', secretKey: 'adminSecret_XYZ' };
export const USER_KEYS = { apiKey: 'userApiKey-456', secretKey: 'userSecret_ABC' };

export function fakeCredentials(): Credentials {
  const keys = new Map([[ADMIN_KEYS.apiKey, { secretKey: ADMIN_KEYS.secretKey, caller: ADMIN }],
    [USER_KEYS.apiKey, { secretKey: USER_KEYS.secretKey, caller: USER }]]);
  const passwords = new Map<string, { password: string; caller: Caller; profile: UserProfile }>([
    ['/|admin', { password: 'password', caller: ADMIN, profile: { firstname: 'Admin', lastname: 'User' } }],
    ['/child/|alice', { password: 's3cret', caller: USER, profile: { firstname: 'Alice', lastname: 'Liddell', timezone: 'Asia/Kolkata' } }]]);
  return {
    findByApiKey: async (apiKey) => keys.get(apiKey),
    checkPassword: async (username, password, domainPath) => {
      const entry = passwords.get(`${domainPath}|${username}`);
      return entry !== undefined && entry.password === password ? { caller: entry.caller, profile: entry.profile } : undefined;
    },
  };
}

export const ZONES: ResponseObject[] = [
  { id: 'aaaaaaaa-0000-4000-8000-000000000001', name: 'zone-1', networktype: 'Advanced', allocationstate: 'Enabled', tags: [] },
  { id: 'aaaaaaaa-0000-4000-8000-000000000002', name: 'zone-2', networktype: 'Advanced', allocationstate: 'Disabled', tags: [] },
  { id: 'aaaaaaaa-0000-4000-8000-000000000003', name: 'zone-3 <&>', networktype: 'Basic', allocationstate: 'Enabled', tags: [] },
];

export const JOB_ID = 'bbbbbbbb-0000-4000-8000-000000000001';
export const VM_ID = 'cccccccc-0000-4000-8000-000000000001';

/** A fake command table covering every result kind and error path. */
export function fakeCommands(): CommandDefinition[] {
  return [
    defineCommand({
      name: 'listZones', description: 'Lists zones', isAsync: false, access: 'user', objectName: 'zone', paged: true,
      params: [{ name: 'id', type: 'uuid', description: 'the zone id' }, { name: 'available', type: 'boolean', description: 'available' }],
      async handler({ params, page }) {
        const id = getString(params, 'id');
        const keyword = getString(params, 'keyword');
        const matches = ZONES.filter((z) => (id === undefined || z['id'] === id) && (keyword === undefined || String(z['name']).includes(keyword)));
        const start = page?.startIndex ?? 0;
        const items = page?.pageSize === undefined ? matches.slice(start) : matches.slice(start, start + page.pageSize);
        return { kind: 'list', count: matches.length, items };
      },
    }),
    defineCommand({
      name: 'echoParams', description: 'Returns its typed parameters', isAsync: false, access: 'user', objectName: 'echo',
      params: [
        { name: 'name', type: 'string', required: true, description: 'a name', length: 4096 },
        { name: 'flag', type: 'boolean', description: 'a flag' },
        { name: 'count', type: 'integer', description: 'a count' },
        { name: 'big', type: 'long', description: 'a long' },
        { name: 'when', type: 'date', description: 'a date' },
        { name: 'ids', type: 'list', collectionType: 'uuid', description: 'uuids' },
        { name: 'names', type: 'list', description: 'names' },
        { name: 'details', type: 'map', description: 'details' },
        { name: 'zoneid', type: 'uuid', description: 'a zone' },
      ],
      async handler({ params, caller }) {
        return { kind: 'object', object: { ...(params as ResponseObject), caller: caller.accountName } };
      },
    }),
    defineCommand({
      name: 'deleteThing', description: 'Deletes a thing', isAsync: false, access: 'user',
      params: [{ name: 'id', type: 'uuid', required: true, description: 'the thing' }],
      async handler({ params }) {
        if (getString(params, 'id') === VM_ID) throw new ResourceInUseError('thing is still attached to a VM');
        return { kind: 'success', displaytext: 'deleted' };
      },
    }),
    defineCommand({
      name: 'deployVirtualMachine', description: 'Creates a VM', isAsync: true, access: 'user', objectName: 'virtualmachine',
      params: [{ name: 'zoneid', type: 'uuid', required: true, description: 'zone' }, { name: 'displayname', type: 'string', description: 'name' }],
      async handler() {
        return { kind: 'async', id: VM_ID, jobid: JOB_ID };
      },
    }),
    defineCommand({
      name: 'stopVirtualMachine', description: 'Stops a VM', isAsync: true, access: 'user', objectName: 'virtualmachine',
      params: [{ name: 'id', type: 'uuid', required: true, description: 'vm' }, { name: 'forced', type: 'boolean', description: 'force' }],
      async handler({ params }) {
        if (getString(params, 'id') !== VM_ID) throw new NotFoundError(`Unable to find a virtual machine with id ${getString(params, 'id')}`);
        return { kind: 'async', jobid: JOB_ID };
      },
    }),
    defineCommand({
      name: 'queryAsyncJobResult', description: 'Retrieves the current status of asynchronous job.', isAsync: false, access: 'user',
      params: [{ name: 'jobid', type: 'uuid', required: true, description: 'the job' }],
      async handler({ params, caller }) {
        const failed = getString(params, 'jobid') !== JOB_ID;
        return {
          kind: 'raw',
          body: asyncJobResponse({
            jobid: getString(params, 'jobid')!, accountid: caller.accountId, userid: caller.userId,
            cmd: 'org.apache.cloudstack.api.command.user.vm.DeployVMCmd', state: failed ? 'failed' : 'succeeded',
            created: new Date(Date.UTC(2024, 4, 1, 10, 20, 30)), completed: new Date(Date.UTC(2024, 4, 1, 10, 20, 31)),
            jobinstancetype: 'VirtualMachine', jobinstanceid: VM_ID,
            outcome: failed
              ? { kind: 'error', error: new InsufficientCapacityError('Unable to create a deployment for VM') }
              : { kind: 'object', objectName: 'virtualmachine', object: { id: VM_ID, name: 'vm-1', state: 'Running', nic: [] } },
          }, { callerIsAdmin: caller.role === 'admin' }),
        };
      },
    }),
    defineCommand({
      name: 'createZone', description: 'Creates a zone (admin only)', isAsync: false, access: 'admin', objectName: 'zone',
      params: [{ name: 'name', type: 'string', required: true, description: 'zone name' }],
      async handler({ params }) {
        return { kind: 'object', object: { id: 'aaaaaaaa-0000-4000-8000-000000000009', name: getString(params, 'name') ?? '' } };
      },
    }),
    defineCommand({
      name: 'brokenCommand', description: 'Fails with a plain Error naming a file', isAsync: false, access: 'user',
      params: [],
      async handler() {
        throw new Error("ENOENT: no such file or directory, open '/work/main/data/secret.db'");
      },
    }),
  ];
}

// ---- Independent signing, written from reference section 1.3 ----

/** Java URLEncoder.encode(v, "UTF-8") then '+' → %20, one UTF-8 byte at a time. */
export function referenceJavaEncode(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const ch = String.fromCharCode(byte);
    if (/[A-Za-z0-9.\-*_]/.test(ch)) out += ch;
    else if (ch === ' ') out += '%20';
    else out += '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

export function referenceSign(params: Record<string, string>, secret: string): { canonical: string; signature: string } {
  const names = Object.keys(params).filter((n) => n.toLowerCase() !== 'signature').sort();
  const canonical = names.map((n) => `${n}=${referenceJavaEncode(params[n]!)}`).join('&').toLowerCase();
  return { canonical, signature: createHmac('sha1', secret).update(canonical).digest('base64') };
}

/** A query string with every parameter and its signature, encoded the way CloudStack's own UI does. */
export function signedQuery(params: Record<string, string>, keys: { apiKey: string; secretKey: string }): string {
  const all = { ...params, apiKey: keys.apiKey };
  const { signature } = referenceSign(all, keys.secretKey);
  const entries: [string, string][] = [...Object.entries(all), ['signature', signature]];
  return entries.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
}

export interface HttpResult {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export function httpCall(port: number, opts: { method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer }): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method: opts.method ?? 'GET', path: opts.path, headers: opts.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

export function formPost(port: number, path: string, form: string | Buffer, headers: Record<string, string> = {}): Promise<HttpResult> {
  return httpCall(port, { method: 'POST', path, body: form, headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers } });
}
