/**
 * The checks of data-instances.test.ts catch what they are meant to: each is fed a small log with one
 * violation (and the same log without it), so that a pass of the system test means something.
 */
import { expect } from 'chai';
import { capacityViolations, exclusiveViolations, finalStateViolations, leaseViolations, type Entry, type FinalDb } from './data-instances-checks.js';

const ack = (op: string, sent: number, at: number, f: Record<string, unknown>): Entry => ({ t: 'ack', op, sent, at, node: 'd1', ...f });
const unknown = (op: string, sent: number, at: number, f: Record<string, unknown>): Entry =>
  ({ t: 'unknown', op, sent, at, node: 'd1', code: 'PEER_DOWN', ...f });

describe('data-instances checks', () => {
  it('an address or VNI certainly held by two items at once', () => {
    const ok = [ack('nic', 0, 10, { nic: 'a', network: 'n', ip: '10.0.0.2' }), ack('unnic', 20, 30, { nic: 'a' }),
      ack('nic', 25, 40, { nic: 'b', network: 'n', ip: '10.0.0.2' })];
    expect(exclusiveViolations(ok)).to.deep.equal([]);
    const twice = [ack('nic', 0, 10, { nic: 'a', network: 'n', ip: '10.0.0.2' }), ack('nic', 5, 15, { nic: 'b', network: 'n', ip: '10.0.0.2' })];
    expect(exclusiveViolations(twice)).to.have.length(1);
    const vni = [ack('vnet', 0, 10, { net: 'x', vni: 100 }), unknown('unvnet', 50, 60, { net: 'x' }), ack('vnet', 20, 30, { net: 'y', vni: 100 })];
    expect(exclusiveViolations(vni)).to.have.length(1);
  });

  it('reservations certainly held on a host beyond its capacity', () => {
    const hosts = new Map([['h', { cpu: 1000, memory: 1024 }]]);
    const r = (vm: string, sent: number, at: number) => ack('reserve', sent, at, { vm, host: 'h', cpu: 500, memory: 512 });
    expect(capacityViolations([r('a', 0, 1), r('b', 0, 2), ack('unreserve', 3, 4, { vm: 'a' }), r('c', 3, 5)], hosts)).to.deep.equal([]);
    expect(capacityViolations([r('a', 0, 1), r('b', 0, 2), r('c', 0, 3)], hosts)).to.have.length(1);
  });

  it('two holders of one epoch, a grant inside the previous validity, a late fenced write, a lost or a refused-but-present write', () => {
    const claim = (owner: string, epoch: number, grantedAt: number, lease = 'job:1') =>
      ack('claim', grantedAt - 1, grantedAt + 1, { lease, owner, ttl: 100, granted: true, epoch, expires: grantedAt + 100 });
    expect(leaseViolations([claim('a', 1, 0), claim('b', 2, 100)], new Set())).to.deep.equal([]);
    expect(leaseViolations([claim('a', 1, 0), claim('b', 1, 200)], new Set())).to.have.length.greaterThan(0);
    expect(leaseViolations([claim('a', 1, 0), claim('b', 2, 50)], new Set())).to.have.length(1);
    const released = ack('unlease', 20, 25, { lease: 'job:1', owner: 'a', epoch: 1, released: true });
    expect(leaseViolations([claim('a', 1, 0), released, claim('b', 2, 50)], new Set())).to.deep.equal([]);
    const fenced = (sent: number, token: string) => ack('fenced', sent, sent + 1, { lease: 'job:1', owner: 'a', epoch: 1, token });
    expect(leaseViolations([claim('a', 1, 0), claim('b', 2, 100), fenced(50, 't1')], new Set(['t1']))).to.deep.equal([]);
    expect(leaseViolations([claim('a', 1, 0), claim('b', 2, 100), fenced(150, 't1')], new Set(['t1']))).to.have.length(1);
    expect(leaseViolations([claim('a', 1, 0), fenced(50, 't1')], new Set())).to.have.length(1);
    const refused: Entry = { t: 'no', op: 'fenced', sent: 50, at: 51, node: 'd1', code: 'FENCED', lease: 'job:1', owner: 'a', epoch: 1, token: 't2' };
    expect(leaseViolations([claim('a', 1, 0), refused], new Set(['t2']))).to.have.length(1);
  });

  it('an item whose database state is not what its last acknowledged operation left', () => {
    const db: FinalDb = { reservations: new Map([['vm1', ['h']]]), nicIps: new Map([['n1', '10.0.0.2']]), networkVnis: new Map([['x', null]]) };
    const log = [ack('reserve', 0, 1, { vm: 'vm1', host: 'h' }), ack('nic', 0, 1, { nic: 'n1', ip: '10.0.0.2' }),
      ack('vnet', 0, 1, { net: 'x', vni: '100' }), ack('unvnet', 2, 3, { net: 'x' })];
    expect(finalStateViolations(log, db)).to.deep.equal([]);
    expect(finalStateViolations([...log, ack('unreserve', 5, 6, { vm: 'vm1' })], db)).to.have.length(1);
    expect(finalStateViolations([...log, unknown('unnic', 5, 6, { nic: 'n1' })], db)).to.have.length(1);
  });
});
