import { expect } from 'chai';
import * as errors from '../../../src/errors.js';
import { API_ERROR_CODES, ApiError, mapError, scrubMessage, USER_ERROR_MESSAGE } from '../../../actors/api/error-map.js';

const admin = { callerIsAdmin: true };
const user = { callerIsAdmin: false };

describe('api/error-map', () => {
  it('maps component errors by code to CloudStack codes', () => {
    const cases: [Error, number, number | undefined][] = [
      [new errors.InvalidParameterError('bad'), 431, 4350],
      [new errors.NotFoundError('no such zone'), 431, 4350],
      [new errors.IllegalStateError('VM is not stopped'), 431, 4350],
      [new errors.PermissionDeniedError('not yours'), 531, 4365],
      [new errors.LimitExceededError('too many VMs'), 532, 4280],
      [new errors.InsufficientCapacityError('no capacity'), 533, 4325],
      [new errors.ResourceUnavailableError('host down'), 534, 4380],
      [new errors.ResourceAllocationError('cannot allocate'), 535, 4370],
      [new errors.ResourceInUseError('attached'), 536, 4375],
      [new errors.UnsupportedError('not here'), 432, 4555],
      [new errors.ConflictError('busy'), 530, 4300],
      [new errors.TimeoutError('slow'), 530, 4560],
      [new errors.PeerDownError('gone'), 530, 4250],
      [new errors.AuthError('no'), 401, undefined],
    ];
    for (const [err, code, cs] of cases) {
      const { body } = mapError(err, admin);
      expect(body.errorcode, err.name).to.equal(code);
      expect(body.cserrorcode, err.name).to.equal(cs);
      expect(body.uuidList).to.deep.equal([]);
      expect(API_ERROR_CODES.has(body.errorcode)).to.equal(true);
    }
  });

  it('maps a NETWORK_RULE_CONFLICT code to 537 even before a class exists for it', () => {
    const e = new errors.InternalError('rule overlaps');
    Object.defineProperty(e, 'code', { value: 'NETWORK_RULE_CONFLICT' });
    expect(mapError(e, user).body).to.include({ errorcode: 537, cserrorcode: 4360, errortext: 'rule overlaps' });
  });

  it('hides 530/533/534 details from non-admin callers only', () => {
    const err = new errors.InsufficientCapacityError('host h1 in pod p1 has no memory');
    expect(mapError(err, admin).body.errortext).to.equal('host h1 in pod p1 has no memory');
    expect(mapError(err, user).body.errortext).to.equal(USER_ERROR_MESSAGE);
    expect(mapError(new errors.NotFoundError('no zone z1'), user).body.errortext).to.equal('no zone z1');
  });

  it('never shows a plain error\'s message, and flags it as unexpected', () => {
    const mapped = mapError(new TypeError("Cannot read properties of undefined (reading 'x') at /work/main/actors/x.ts:3"), admin);
    expect(mapped.unexpected).to.equal(true);
    expect(mapped.body).to.deep.equal({ uuidList: [], errorcode: 530, cserrorcode: 9999, errortext: USER_ERROR_MESSAGE });
    expect(mapError('a string', admin).body.errorcode).to.equal(530);
  });

  it('scrubs stack frames and file paths from component messages', () => {
    expect(scrubMessage('open failed: /var/lib/cloudstackd/data.db is locked\n    at open (/work/main/src/x.ts:1:2)'))
      .to.equal('open failed: <path> is locked');
    expect(scrubMessage('see file:///home/u/app/x.js')).to.equal('see <path>');
    expect(scrubMessage('Unable to find the domain from the path /child/sub/')).to.equal('Unable to find the domain from the path /child/sub/');
    expect(scrubMessage('x'.repeat(5000))).to.have.length(2051);
    expect(mapError(new errors.InternalError('boom in /opt/app/node_modules/x/index.js'), admin).body.errortext).to.equal('boom in <path>');
  });

  it('carries uuidList from error details', () => {
    const err = new errors.NotFoundError('no such VM', { details: { uuidList: ['u1', { uuid: 'u2', uuidProperty: 'vmId' }, 7] } });
    expect(mapError(err, user).body.uuidList).to.deep.equal([{ uuid: 'u1' }, { uuid: 'u2', uuidProperty: 'vmId' }]);
  });

  it('passes API-layer errors through with their own codes', () => {
    expect(mapError(new ApiError(401, 'nope', { cserrorcode: null }), user).body).to.deep.equal({ uuidList: [], errorcode: 401, errortext: 'nope' });
    expect(mapError(new ApiError(431, 'missing'), user).body.cserrorcode).to.equal(9999);
  });
});
