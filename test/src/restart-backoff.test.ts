import { expect } from 'chai';
import { backoffDelay, newRecord, recordExit, RESTART_DEFAULTS } from '../../src/restart-backoff.js';

describe('service framework: restart policy', () => {
  const o = RESTART_DEFAULTS;

  it('backs off 100 ms, x1.5 per quick failure, up to 15 s', () => {
    expect([0, 1, 2, 3].map((n) => backoffDelay(n, o))).to.deep.equal([100, 150, 225, 337.5]);
    expect(backoffDelay(30, o)).to.equal(15_000);
  });

  it('resets the backoff after a run of 30 s, and gives up after maxFailures exits in the window', () => {
    let r = newRecord();
    r = recordExit(r, 1_000, 50, o);
    expect(r.nextAt).to.equal(1_100);
    r = recordExit(r, 2_000, 50, o);
    expect(r.nextAt).to.equal(2_150);
    r = recordExit(r, 40_000, 35_000, o);
    expect(r.nextAt, 'a stable run resets the delay').to.equal(40_100);
    expect(r.gaveUp).to.equal(false);
    r = recordExit(r, 41_000, 50, o);
    r = recordExit(r, 42_000, 50, o);
    expect(r.gaveUp, 'five exits within the window').to.equal(true);
    expect(r.nextAt).to.equal(Number.POSITIVE_INFINITY);
  });

  it('forgets exits older than the window', () => {
    let r = newRecord();
    for (let i = 0; i < 4; i++) r = recordExit(r, i * 1_000, 50, o);
    r = recordExit(r, 4_000 + o.windowMs, 50, o);
    expect(r.gaveUp).to.equal(false);
    expect(r.failures).to.have.length(1);
  });
});
