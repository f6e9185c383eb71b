import { createRequire } from 'node:module';
import { expect } from 'chai';
import fc from 'fast-check';
import {
  canonicalString, checkExpiry, javaUrlEncode, signParams, verifySignature, type ParamPair,
} from '../../../actors/api/signature.js';
import { parseTzDate } from '../../../actors/api/dates.js';
import { referenceJavaEncode, referenceSign } from './fixtures.js';

const require = createRequire(import.meta.url);

interface CsClientProto {
  __calculateSignature(this: { __secretKey: string }, query: Record<string, unknown>): string;
}
/** csclient's own signing function, called as the library calls it. */
function csclientSign(params: Record<string, unknown>, secretKey: string): string {
  const CloudStackClient = require('csclient') as { prototype: CsClientProto };
  return CloudStackClient.prototype.__calculateSignature.call({ __secretKey: secretKey }, params);
}

const pairs = (o: Record<string, string>): ParamPair[] => Object.entries(o);

describe('api/signature', () => {
  describe('known-answer vectors (reference 1.4)', () => {
    it('A: the Programmer Guide vector', () => {
      const params = {
        command: 'listUsers', response: 'json',
        apikey: 'plgWJfZK4gyS3mOMTVmjUVg-X-jlWlnfaUJ9GAbBbf9EdM-kAYMmAiLqzzq1ElZLYq_u38zCm0bewzGUdP66mg',
      };
      const secret = 'VDaACYb0LV9eNjTetIOElcVQkvJck_J_QljX_FcHRj87ZKiy0z0ty0ZsYBkoXkY9b7eq1EhwJaw7FF3akA3KBQ';
      const ref = referenceSign(params, secret);
      expect(ref.canonical).to.equal('apikey=plgwjfzk4gys3momtvmjuvg-x-jlwlnfauj9gabbbf9edm-kaymmailqzzq1elzlyq_u38zcm0bewzgudp66mg&command=listusers&response=json');
      expect(ref.signature).to.equal('TTpdDq/7j/J58XCRHomKoQXEQds=');
      expect(canonicalString(pairs(params))).to.equal(ref.canonical);
      expect(signParams(pairs(params), secret)).to.equal('TTpdDq/7j/J58XCRHomKoQXEQds=');
      expect(verifySignature([...pairs(params), ['signature', 'TTpdDq/7j/J58XCRHomKoQXEQds=']], 'TTpdDq/7j/J58XCRHomKoQXEQds=', secret)).to.equal(true);
    });

    it('B: spaces, parentheses and signatureVersion 3', () => {
      const params = {
        command: 'deployVirtualMachine', response: 'json', apiKey: 'demoApiKey-123', serviceofferingid: 'a1b2',
        templateid: 't-9', zoneid: 'z1', displayname: 'web 01 (test)', signatureVersion: '3', expires: '2030-01-01T00:00:00+0000',
      };
      const ref = referenceSign(params, 'demoSecret_ABC');
      expect(ref.canonical).to.equal('apikey=demoapikey-123&command=deployvirtualmachine&displayname=web%2001%20%28test%29&' +
        'expires=2030-01-01t00%3a00%3a00%2b0000&response=json&serviceofferingid=a1b2&signatureversion=3&templateid=t-9&zoneid=z1');
      expect(ref.signature).to.equal('kf6K5QNl2x36ApcFAoG0RGseOUo=');
      expect(signParams(pairs(params), 'demoSecret_ABC')).to.equal(ref.signature);
      // The same request as csclient sends it (lower-case signatureversion) signs identically.
      const { signatureVersion: _v, ...rest } = params;
      expect(csclientSign({ ...rest, signatureversion: 3 }, 'demoSecret_ABC')).to.equal('kf6K5QNl2x36ApcFAoG0RGseOUo=');
    });

    it('C: `*` and `~` diverge between Java and csclient; both are accepted in lenient mode only', () => {
      const params = { command: 'listVirtualMachines', response: 'json', apiKey: 'demoApiKey-123', keyword: 'web*01 ~x' };
      const java = referenceSign(params, 'demoSecret_ABC');
      expect(java.canonical).to.contain('keyword=web*01%20%7ex');
      const cs = csclientSign({ ...params }, 'demoSecret_ABC');
      expect(java.signature).to.not.equal(cs);
      expect(signParams(pairs(params), 'demoSecret_ABC')).to.equal(java.signature);
      expect(verifySignature(pairs(params), java.signature, 'demoSecret_ABC', false)).to.equal(true);
      expect(verifySignature(pairs(params), cs, 'demoSecret_ABC', false)).to.equal(false);
      expect(verifySignature(pairs(params), cs, 'demoSecret_ABC', true)).to.equal(true);
    });

    it("D: csclient's own unit-test vector", () => {
      expect(referenceSign({ command: 'test', param: 'test-param' }, '2222').signature).to.equal('K1u7VA0YQ729tNdGWsXuTZhnAB0=');
      expect(signParams(pairs({ command: 'test', param: 'test-param' }), '2222')).to.equal('K1u7VA0YQ729tNdGWsXuTZhnAB0=');
      expect(csclientSign({ command: 'test', param: 'test-param' }, '2222')).to.equal('K1u7VA0YQ729tNdGWsXuTZhnAB0=');
    });
  });

  describe('encoding', () => {
    it('encodes like Java URLEncoder with %20', () => {
      expect(javaUrlEncode('a b*c~d!e\'f(g)h.i-j_k')).to.equal('a%20b*c%7Ed%21e%27f%28g%29h.i-j_k');
      expect(javaUrlEncode('é€😀')).to.equal('%C3%A9%E2%82%AC%F0%9F%98%80');
      expect(javaUrlEncode('[x]=&+/')).to.equal('%5Bx%5D%3D%26%2B%2F');
    });

    it('matches the byte-wise reference encoder on arbitrary strings', () => {
      fc.assert(fc.property(fc.string({ unit: 'grapheme' }), (s) => javaUrlEncode(s) === referenceJavaEncode(s)), { numRuns: 300 });
      fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => {
        const wellFormed = Buffer.from(s, 'utf8').toString('utf8');
        return javaUrlEncode(wellFormed) === referenceJavaEncode(wellFormed);
      }), { numRuns: 300 });
    });
  });

  describe('verification', () => {
    const secret = 'sekrit';
    const base = { command: 'listZones', response: 'json', apiKey: 'k1', name: 'a b', zoneId: 'Z-1' };
    const sig = referenceSign(base, secret).signature;

    it('accepts reordered parameters and changed name case', () => {
      expect(verifySignature(pairs(base).reverse(), sig, secret)).to.equal(true);
      const renamed: ParamPair[] = pairs(base).map(([n, v]) => [n === 'zoneId' ? 'ZONEID' : n, v]);
      expect(verifySignature(renamed, sig, secret)).to.equal(true);
    });

    it('refuses a bad signature, a tampered value, a dropped or an added parameter, another secret', () => {
      expect(verifySignature(pairs(base), sig.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')), secret)).to.equal(false);
      expect(verifySignature(pairs({ ...base, name: 'a c' }), sig, secret)).to.equal(false);
      const { name: _n, ...dropped } = base;
      expect(verifySignature(pairs(dropped), sig, secret)).to.equal(false);
      expect(verifySignature(pairs({ ...base, extra: '1' }), sig, secret)).to.equal(false);
      expect(verifySignature(pairs(base), sig, 'other')).to.equal(false);
      expect(verifySignature(pairs(base), '', secret)).to.equal(false);
    });

    it('value case does not matter (the string is lower-cased), as in CloudStack', () => {
      expect(verifySignature(pairs({ ...base, name: 'A B' }), sig, secret)).to.equal(true);
    });
  });

  describe('expires (signatureVersion=3)', () => {
    const now = Date.UTC(2030, 0, 1, 0, 0, 0);
    const opts = { now, maxAheadMs: 15 * 60_000 };

    it('parses every format of DateUtil.parseTZDateString', () => {
      const t = Date.UTC(2030, 0, 1, 0, 5, 0);
      for (const text of ['2030-01-01T00:05:00+00:00', '2030-01-01T00:05:00+0000', '2030-01-01T00:05:00Z',
        '2030-01-01T00:05:00.000000Z', '2030-01-01T00:05:00.000000+0000', '2030-01-01T00:05:00Z+0000',
        '2030-01-01T01:05:00+01:00', '2029-12-31T23:05:00-0100', '2030-01-01T00:05Z']) {
        expect(parseTzDate(text), text).to.equal(t);
      }
      expect(parseTzDate('2030-01-01T00:05:00.123Z')).to.equal(t + 123);
      for (const bad of ['2030-01-01', '2030-13-01T00:00:00Z', '2030-02-30T00:00:00Z', '2030-01-01T00:00:00', 'tomorrow', '2030-01-01T24:00:00Z']) {
        expect(parseTzDate(bad), bad).to.equal(undefined);
      }
    });

    it('checks only when signatureVersion is exactly 3', () => {
      expect(checkExpiry(undefined, undefined, opts)).to.equal('ok');
      expect(checkExpiry('2', '1999-01-01T00:00:00Z', opts)).to.equal('ok');
      expect(checkExpiry('3', undefined, opts)).to.equal('missing');
      expect(checkExpiry('3', 'soon', opts)).to.equal('unparseable');
    });

    it('refuses expired and too-far-ahead timestamps, at the exact boundaries', () => {
      expect(checkExpiry('3', '2029-12-31T23:59:59+0000', opts)).to.equal('expired');
      expect(checkExpiry('3', '2030-01-01T00:00:00+0000', opts)).to.equal('ok');
      expect(checkExpiry('3', '2030-01-01T00:15:00+0000', opts)).to.equal('ok');
      expect(checkExpiry('3', '2030-01-01T00:15:01+0000', opts)).to.equal('too-far-ahead');
    });
  });
});
