import { expect } from 'chai';
import { InvalidParameterError, LimitExceededError, PermissionDeniedError } from '../../../src/errors.js';
import { SYSTEM, type Caller } from '../../../actors/data/store/index.js';
import { account, memoryLab, type Lab } from './fixtures.js';

describe('account resource limits at deploy', () => {
  it('refuses a user account past max.account.user.vms and counts destroyed VMs out; root admin is not limited', () => {
    const t = memoryLab();
    try {
      t.store.config.set('max.account.user.vms', '2');
      const user = account(t.store, 'limited', t.lab.domainid, 0);
      const net = t.store.networks.create(SYSTEM, { name: 'shared-l', zoneid: t.lab.zoneid, networkofferingid: t.lab.sharedNetworkOfferingId,
        accountid: t.lab.adminAccountId, gateway: '10.8.0.1', netmask: '255.255.0.0', startip: '10.8.0.10', endip: '10.8.9.250' }).id;
      const deploy = (c: Caller, name: string): string => t.store.vmOps.create(c, { zoneid: t.lab.zoneid, name,
        serviceofferingid: t.lab.serviceofferings.small, templateid: t.lab.templateid, networkids: [net] }).id;
      const first = deploy(user, 'l1');
      deploy(user, 'l2');
      expect(() => deploy(user, 'l3')).to.throw(LimitExceededError, /user_vm.*limited/);
      t.store.vmOps.transition(SYSTEM, first, 'DestroyRequested');
      expect(() => deploy(user, 'l3')).to.not.throw();
      for (let i = 0; i < 4; i++) deploy(t.admin, `admin-${i}`);
    } finally {
      t.store.close();
    }
  });

  /** A shared network every test account can deploy on, and a deploy of one small VM (1 core, 512 MiB). */
  function deployer(t: Lab): (c: Caller, name: string) => string {
    const net = t.store.networks.create(SYSTEM, { name: 'shared-rl', zoneid: t.lab.zoneid, networkofferingid: t.lab.sharedNetworkOfferingId,
      accountid: t.lab.adminAccountId, gateway: '10.9.0.1', netmask: '255.255.0.0', startip: '10.9.0.10', endip: '10.9.9.250' }).id;
    return (c, name) => t.store.vmOps.create(c, { zoneid: t.lab.zoneid, name, serviceofferingid: t.lab.serviceofferings.small,
      templateid: t.lab.templateid, networkids: [net] }).id;
  }

  it("holds an account to its own limit (updateResourceLimit) before the setting, -1 lifting it", () => {
    const t = memoryLab();
    try {
      const deploy = deployer(t);
      const user = account(t.store, 'own-limit', t.lab.domainid, 0);
      const limit = t.store.resourceLimits.update(t.admin, { accountid: user.accountId }, { type: 'user_vm', max: 1 });
      expect(limit).to.include({ resourcetype: '0', resourcetypename: 'user_vm', max: 1, account: 'own-limit', domainid: t.lab.domainid });
      expect(t.store.resourceLimits.list(t.admin, { accountid: user.accountId }).map((l) => l.max)).to.deep.equal([1, 40, 40960]);
      deploy(user, 'o1');
      expect(() => deploy(user, 'o2')).to.throw(LimitExceededError, /'user_vm' for account name=own-limit/);
      // -1 is an explicit "unlimited": the setting no longer applies to this account.
      t.store.config.set('max.account.user.vms', '0');
      t.store.resourceLimits.update(t.admin, { accountid: user.accountId }, { type: 'user_vm', max: -1 });
      expect(() => deploy(user, 'o2')).to.not.throw();
      // Memory counts MiB: two VMs of 512 MiB use 1024.
      t.store.resourceLimits.update(t.admin, { accountid: user.accountId }, { type: 'memory', max: 1500 });
      expect(() => deploy(user, 'o3')).to.throw(LimitExceededError, /'memory'.*limit 1500, would be 1536/);
      expect(() => t.store.resourceLimits.update(t.admin, { accountid: user.accountId }, { type: 'cpu', max: -2 }))
        .to.throw(InvalidParameterError, /at least '0'/);
      expect(() => t.store.resourceLimits.update(t.admin, { accountid: t.lab.adminAccountId }, { type: 'cpu', max: 4 }))
        .to.throw(InvalidParameterError, /Only -1 limit is supported for Root Admin accounts/);
    } finally {
      t.store.close();
    }
  });

  it("holds every account of a domain's subtree to the domain's limit; a sub-domain's is at most its parent's", () => {
    const t = memoryLab();
    try {
      const deploy = deployer(t);
      const top = t.store.domains.create(SYSTEM, { name: 'dept' });
      const sub = t.store.domains.create(SYSTEM, { name: 'team', parentdomainid: top.id });
      const a = account(t.store, 'in-top', top.id, 0);
      const b = account(t.store, 'in-sub', sub.id, 0);
      expect(t.store.resourceLimits.update(t.admin, { domainid: top.id }, { type: 'cpu', max: 2 })).to.include({ max: 2, domainid: top.id });
      expect(t.store.resourceLimits.list(t.admin, { domainid: top.id }, 'cpu')).to.deep.equal([{ resourcetype: '8', resourcetypename: 'cpu',
        max: 2, domainid: top.id, domain: 'dept', domainpath: 'ROOT/dept' }]);
      deploy(a, 'd1');
      deploy(b, 'd2');
      expect(() => deploy(b, 'd3')).to.throw(LimitExceededError, new RegExp(`'cpu' for domain id=${top.id}.*limit 2, would be 3`));
      expect(() => deploy(a, 'd3')).to.throw(LimitExceededError, /'cpu' for domain/);
      expect(() => t.store.resourceLimits.update(t.admin, { domainid: sub.id }, { type: 'cpu', max: 3 }))
        .to.throw(InvalidParameterError, /maximum allowed resource limit 2 for cpu/);
      // -1 on the sub-domain is accepted (as CloudStack does), but the parent's limit still holds.
      expect(t.store.resourceLimits.update(t.admin, { domainid: sub.id }, { type: 'cpu', max: -1 })).to.include({ max: -1 });
      expect(() => deploy(b, 'd3')).to.throw(LimitExceededError, /'cpu' for domain/);
      expect(() => t.store.resourceLimits.update(t.admin, { domainid: t.lab.domainid }, { type: 'cpu', max: 3 }))
        .to.throw(PermissionDeniedError, /ROOT domain/);
      // A domain admin changes neither its own domain's limits nor its own account's, but those below it.
      const da = account(t.store, 'dept-admin', top.id, 2);
      expect(() => t.store.resourceLimits.update(da, { domainid: top.id }, { type: 'cpu', max: 1 })).to.throw(PermissionDeniedError);
      expect(() => t.store.resourceLimits.update(da, { accountid: da.accountId }, { type: 'cpu', max: 1 })).to.throw(PermissionDeniedError);
      expect(t.store.resourceLimits.update(da, { domainid: sub.id }, { type: 'user_vm', max: 5 })).to.include({ max: 5 });
      expect(t.store.resourceLimits.update(da, { accountid: b.accountId }, { type: 'user_vm', max: 4 })).to.include({ max: 4 });
      const elsewhere = t.store.domains.create(SYSTEM, { name: 'other' });
      expect(() => t.store.resourceLimits.update(da, { domainid: elsewhere.id }, { type: 'cpu', max: 1 })).to.throw(PermissionDeniedError);
      // Lifting the domain's limit lets the deploy through.
      t.store.resourceLimits.update(t.admin, { domainid: top.id }, { type: 'cpu', max: -1 });
      expect(() => deploy(b, 'd3')).to.not.throw();
    } finally {
      t.store.close();
    }
  });
});
