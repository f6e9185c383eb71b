import { expect } from 'chai';
import { LimitExceededError } from '../../../src/errors.js';
import { SYSTEM, type Caller } from '../../../actors/data/store/index.js';
import { account, memoryLab } from './fixtures.js';

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
});
