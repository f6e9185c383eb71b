import { createHash, generateKeyPairSync } from 'node:crypto';
import { InvalidParameterError } from '../../../../src/errors.js';
import { uniquely, type StoreContext } from '../context.js';
import { compact } from '../format.js';
import { listResources, scanResources, type ListParams, type ListSpec } from '../list-query.js';
import type { ListResult, ScanChunk, ScanWindow } from '../pagination.js';
import { SYSTEM, type Scope } from '../scoping.js';
import { OWNER_COLUMNS, OWNER_JOINS, getOwned, ownerFields, ownerFor, type OwnedRow, type OwnerColumns } from './common.js';

/** listSSHKeyPairs' `sshkeypair` object (`privatekey` only in createSSHKeyPair's answer). */
export interface SshKeyPair {
  id: string;
  name: string;
  fingerprint: string;
  account: string;
  domainid: string;
  domain: string;
  domainpath: string;
  privatekey?: string;
}

interface KeyRow extends OwnedRow, OwnerColumns {
  uuid: string;
  name: string;
  fingerprint: string;
}

const SPEC: ListSpec<KeyRow, SshKeyPair> = {
  table: 'ssh_keypair',
  columns: `${OWNER_COLUMNS}, t.uuid, t.name, t.fingerprint`,
  joins: OWNER_JOINS,
  scope: 'owned',
  filters: { name: { eq: 'name' }, fingerprint: { eq: 'fingerprint' } },
  keyword: ['name'],
  map: (r) => compact<SshKeyPair>({ id: r.uuid, name: r.name, fingerprint: r.fingerprint, ...ownerFields(r) }),
};

/** The MD5 fingerprint CloudStack shows (colon-separated hex of the decoded OpenSSH key blob). */
export function fingerprintOf(publicKey: string): string {
  const parts = publicKey.trim().split(/\s+/);
  const blob = parts.length >= 2 ? Buffer.from(parts[1]!, 'base64') : Buffer.alloc(0);
  if (blob.length === 0 || !/^(ssh-|ecdsa-|sk-)/.test(parts[0] ?? '')) {
    throw new InvalidParameterError('Public key is invalid: expected an OpenSSH public key such as "ssh-rsa AAAA..."');
  }
  return createHash('md5').update(blob).digest('hex').match(/../g)!.join(':');
}

/** An RSA key pair in OpenSSH public / PEM private form. */
function generatePair(): { publicKey: string; privateKey: string } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = publicKey.export({ format: 'jwk' });
  const mpint = (b64: string): Buffer => {
    let b = Buffer.from(b64, 'base64url');
    if ((b[0] ?? 0) & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
    return b;
  };
  const str = (b: Buffer): Buffer => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    return Buffer.concat([len, b]);
  };
  const blob = Buffer.concat([str(Buffer.from('ssh-rsa')), str(mpint(jwk.e!)), str(mpint(jwk.n!))]);
  return { publicKey: `ssh-rsa ${blob.toString('base64')}`,
    privateKey: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString() };
}

export class SshKeyRepository {
  constructor(private readonly ctx: StoreContext) {}

  /** A key pair by name within the caller's account (or `accountid` for admins). */
  get(scope: Scope, name: string, accountid?: string): SshKeyPair {
    const owner = ownerFor(this.ctx, scope, accountid, 'ssh key pair');
    const row = this.ctx.one<{ uuid: string }>('SELECT uuid FROM ssh_keypair WHERE account_id = ? AND name = ?',
      owner.accountId, name);
    return getOwned(this.ctx, SPEC, scope, 'ssh key pair', row?.uuid ?? name, '1').item;
  }

  /** The public key of a pair (for user data / deploy). */
  publicKey(scope: Scope, name: string, accountid?: string): string {
    const kp = this.get(scope, name, accountid);
    return this.ctx.one<{ public_key: string }>('SELECT public_key FROM ssh_keypair WHERE uuid = ?', kp.id)!.public_key;
  }

  list(scope: Scope, params: ListParams = {}): ListResult<SshKeyPair> {
    return listResources(this.ctx, SPEC, scope, params);
  }

  /** Every match of `list`, chunk by chunk (see pagination.ts). */
  scan(scope: Scope, params: ListParams, window: ScanWindow = {}): ScanChunk<SshKeyPair> {
    return scanResources(this.ctx, SPEC, scope, params, window);
  }

  /** registerSSHKeyPair: stores a caller-supplied public key. */
  register(scope: Scope, name: string, publicKey: string, accountid?: string): SshKeyPair {
    const fingerprint = fingerprintOf(publicKey);
    return this.ctx.tx(() => this.insert(scope, name, publicKey.trim(), fingerprint, accountid));
  }

  /** createSSHKeyPair: generates the pair; the private key is returned once and never stored. */
  create(scope: Scope, name: string, accountid?: string): SshKeyPair {
    const pair = generatePair();
    return this.ctx.tx(() => ({ ...this.insert(scope, name, pair.publicKey, fingerprintOf(pair.publicKey), accountid),
      privatekey: pair.privateKey }));
  }

  /** deleteSSHKeyPair. */
  delete(scope: Scope, name: string, accountid?: string): void {
    this.ctx.tx(() => {
      const kp = this.get(scope, name, accountid);
      this.ctx.run('DELETE FROM ssh_keypair WHERE uuid = ?', kp.id);
    });
  }

  private insert(scope: Scope, name: string, publicKey: string, fingerprint: string, accountid?: string): SshKeyPair {
    const owner = ownerFor(this.ctx, scope, accountid, 'ssh key pair');
    const uuid = this.ctx.uuid();
    uniquely(`A key pair with name '${name}' already exists.`, () => this.ctx.run(`INSERT INTO ssh_keypair (uuid, name,
      account_id, domain_id, fingerprint, public_key, created) VALUES (?, ?, ?, ?, ?, ?, ?)`, uuid, name, owner.accountId,
    owner.domainId, fingerprint, publicKey, this.ctx.now()));
    return getOwned(this.ctx, SPEC, SYSTEM, 'ssh key pair', uuid, '1').item;
  }
}
