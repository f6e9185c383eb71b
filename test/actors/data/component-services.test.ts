import { expect } from 'chai';
import { DataStore } from '../../../actors/data/store/index.js';
import { openTestStore } from '../../helpers/test-store.js';

describe('data: component services (the desired deployment)', () => {
  let store: DataStore;
  beforeEach(() => { store = openTestStore(); });
  afterEach(() => { store.close(); });

  it('keeps desired within min..max; scaling outside is refused with the bounds named', () => {
    store.componentServices.define({ name: 'api', min: 1, max: 3 });
    expect(store.componentServices.scale('api', 3).desired).to.equal(3);
    expect(() => store.componentServices.scale('api', 4)).to.throw(/1\.\.3 instances, not 4/);
    expect(store.componentServices.update('api', { max: 2 }).desired, 'desired follows a lower max').to.equal(2);
    expect(() => store.componentServices.update('api', { min: 3 })).to.throw(/min \(3\) is above max \(2\)/);
  });

  it('a fixed count cannot be scaled nor given a policy', () => {
    store.componentServices.define({ name: 'data', min: 1, max: 1, fixed: true });
    expect(() => store.componentServices.scale('data', 2)).to.throw(/fixed count of 1/);
    expect(() => store.componentServices.update('data', { policy: { metric: 'cpu', target: 50 } })).to.throw(/fixed count/);
    expect(() => store.componentServices.define({ name: 'x', min: 1, max: 2, fixed: true })).to.throw(/min and max must be equal/);
  });

  it('an Alert is cleared by an update; alerts are listed newest first', () => {
    store.componentServices.define({ name: 'storage', min: 1, max: 1 });
    store.componentServices.setState('storage', 'Alert', 'storage-1 exited 5 times');
    expect(store.componentServices.get('storage')).to.include({ state: 'Alert', reason: 'storage-1 exited 5 times' });
    store.componentServices.raiseAlert({ type: 29, name: 'A', subject: 'first' });
    store.componentServices.raiseAlert({ type: 29, name: 'B', subject: 'second' });
    expect(store.alerts.list().items.map((a) => a.description)).to.deep.equal(['second', 'first']);
    expect(store.componentServices.update('storage', {}).state).to.equal('Enabled');
  });

  it('checks a scaling policy', () => {
    expect(() => store.componentServices.define({ name: 'api', min: 1, max: 2, policy: { metric: 'disk', target: 1 } })).to.throw(/cpu, mailbox or asks/);
    expect(() => store.componentServices.define({ name: 'api', min: 1, max: 2, policy: { metric: 'cpu', target: 0 } })).to.throw(/above 0/);
  });
});
