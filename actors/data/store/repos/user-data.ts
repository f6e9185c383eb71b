import { InvalidParameterError, ResourceInUseError } from '../../../../src/errors.js';
import { uniquely, type StoreContext } from '../context.js';
import { compact } from '../format.js';
import { listResources, scanResources, type ListParams, type ListSpec } from '../list-query.js';
import type { ListResult, ScanChunk, ScanWindow } from '../pagination.js';
import { SYSTEM, assertVisible, type Scope } from '../scoping.js';
import { OWNER_COLUMNS, OWNER_JOINS, getOwned, ownerFields, ownerFor, type OwnedRow, type OwnerColumns } from './common.js';

/**
 * Largest user data accepted, in characters of its base64 form: CloudStack's `vm.userdata.max.length`
 * default (32768) — the most a POST may carry to a VM's metadata service.
 */
export const MAX_USER_DATA_LENGTH = 32_768;

/** listUserData's `userdata` object. */
export interface UserData {
  id: string;
  name: string;
  userdata: string;
  params?: string;
  account: string;
  accountid: string;
  domainid: string;
  domain: string;
  domainpath: string;
}

/** getVirtualMachineUserData's `virtualmachineuserdata` object. */
export interface VmUserData {
  virtualmachineid: string;
  userdata?: string;
  userdataid?: string;
  userdataname?: string;
}

export interface RegisterUserDataInput {
  name: string;
  /** base64 text. */
  userdata: string;
  /** Comma-separated names of the variables the user data uses. */
  params?: string;
  accountid?: string;
}

interface Row extends OwnedRow, OwnerColumns {
  uuid: string;
  name: string;
  user_data: string;
  params: string | null;
}

const SPEC: ListSpec<Row, UserData> = {
  table: 'user_data',
  columns: `${OWNER_COLUMNS}, t.uuid, t.name, t.user_data, t.params`,
  joins: OWNER_JOINS,
  scope: 'owned',
  filters: { name: { eq: 'name' } },
  keyword: ['name'],
  map: (r) => compact<UserData>({ id: r.uuid, name: r.name, userdata: r.user_data, params: r.params, ...ownerFields(r),
    accountid: r.o_accountid }),
};

/** CloudStack accepts user data as base64 only; anything else is refused before it reaches a VM. */
export function checkUserData(text: string): string {
  const compactText = text.replace(/\s+/g, '');
  if (compactText.length === 0) throw new InvalidParameterError('User data cannot be empty');
  if (compactText.length > MAX_USER_DATA_LENGTH) {
    throw new InvalidParameterError(`User data is too long: ${compactText.length} characters of base64, at most ${MAX_USER_DATA_LENGTH}`);
  }
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(compactText) || compactText.length % 4 === 1) {
    throw new InvalidParameterError('User data is not base64 encoded: encode it (e.g. base64 -w0) before sending it');
  }
  return compactText;
}

/** Registered user data (registerUserData/listUserData/deleteUserData) and a VM's user data. */
export class UserDataRepository {
  constructor(private readonly ctx: StoreContext) {}

  get(scope: Scope, uuid: string): UserData {
    return getOwned(this.ctx, SPEC, scope, 'user data', uuid, '1').item;
  }

  list(scope: Scope, params: ListParams = {}): ListResult<UserData> {
    return listResources(this.ctx, SPEC, scope, params);
  }

  /** Every match of `list`, chunk by chunk (see pagination.ts). */
  scan(scope: Scope, params: ListParams, window: ScanWindow = {}): ScanChunk<UserData> {
    return scanResources(this.ctx, SPEC, scope, params, window);
  }

  register(scope: Scope, input: RegisterUserDataInput): UserData {
    const text = checkUserData(input.userdata);
    return this.ctx.tx(() => {
      const owner = ownerFor(this.ctx, scope, input.accountid, 'user data');
      const uuid = this.ctx.uuid();
      uniquely(`A userdata with name ${input.name} already exists for this account`, () => this.ctx.run(`INSERT INTO user_data
        (uuid, name, account_id, domain_id, user_data, params, created) VALUES (?, ?, ?, ?, ?, ?, ?)`, uuid, input.name,
      owner.accountId, owner.domainId, text, input.params ?? null, this.ctx.now()));
      return this.get(SYSTEM, uuid);
    });
  }

  /** deleteUserData: refused while a live VM uses it (CloudStack's "in use" check). */
  delete(scope: Scope, uuid: string): void {
    this.ctx.tx(() => {
      const found = getOwned(this.ctx, SPEC, scope, 'user data', uuid, '1');
      const used = this.ctx.one<{ n: number }>('SELECT count(*) AS n FROM vm_instance WHERE user_data_id = ? AND removed IS NULL',
        found.row._id)?.n ?? 0;
      if (used > 0) throw new ResourceInUseError(`User data ${found.item.name} is used by ${used} instance(s); update or remove them first`);
      this.ctx.run('DELETE FROM user_data WHERE id = ?', found.row._id);
    });
  }

  /** getVirtualMachineUserData: the user data the VM was deployed or updated with. */
  forVm(scope: Scope, vmUuid: string): VmUserData {
    const vm = this.ctx.one<{ account_id: number; domain_id: number; user_data: string | null; ud_uuid: string | null; ud_name: string | null }>(
      `SELECT v.account_id, v.domain_id, v.user_data, ud.uuid AS ud_uuid, ud.name AS ud_name FROM vm_instance v
       LEFT JOIN user_data ud ON ud.id = v.user_data_id WHERE v.uuid = ? AND v.removed IS NULL`, vmUuid);
    getOwnedVm(this.ctx, scope, vmUuid, vm);
    return compact<VmUserData>({ virtualmachineid: vmUuid, userdata: vm!.user_data, userdataid: vm!.ud_uuid, userdataname: vm!.ud_name });
  }

  /**
   * Sets a VM's user data from registered user data (`userdataid`) or from text; the registered one's
   * text is copied onto the VM, as CloudStack does, so later changes to it do not alter the VM.
   */
  setForVm(scope: Scope, vmUuid: string, input: { userdata?: string; userdataid?: string }): void {
    this.ctx.tx(() => {
      const vm = this.ctx.one<{ id: number; account_id: number; domain_id: number }>(
        'SELECT id, account_id, domain_id FROM vm_instance WHERE uuid = ? AND removed IS NULL', vmUuid);
      getOwnedVm(this.ctx, scope, vmUuid, vm);
      if (input.userdataid !== undefined && input.userdata !== undefined) {
        throw new InvalidParameterError('Both userdata and userdataid are specified; give only one');
      }
      if (input.userdataid !== undefined) {
        const ud = getOwned(this.ctx, SPEC, scope, 'user data', input.userdataid, '1');
        if (ud.row._aid !== vm!.account_id) {
          throw new InvalidParameterError(`User data ${input.userdataid} belongs to another account than the instance`);
        }
        this.ctx.run('UPDATE vm_instance SET user_data = ?, user_data_id = ? WHERE id = ?', ud.item.userdata, ud.row._id, vm!.id);
      } else if (input.userdata !== undefined) {
        this.ctx.run('UPDATE vm_instance SET user_data = ?, user_data_id = NULL WHERE id = ?', checkUserData(input.userdata), vm!.id);
      }
    });
  }
}

function getOwnedVm(ctx: StoreContext, scope: Scope, uuid: string, vm: { account_id: number; domain_id: number } | undefined): void {
  assertVisible(ctx, scope, 'virtual machine', uuid, vm);
}
