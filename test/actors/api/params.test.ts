import { expect } from 'chai';
import { ApiError } from '../../../actors/api/error-map.js';
import {
  checkControlCharacters, coerceParams, getMap, lookupParam, mergeParams, resolvePage, unpackParams,
} from '../../../actors/api/params.js';
import type { ParamDef } from '../../../actors/api/types.js';

function apiErrorOf(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(ApiError);
    return err as ApiError;
  }
  throw new Error('expected an ApiError');
}

const DEFS: ParamDef[] = [
  { name: 'name', type: 'string', required: true, description: 'n' },
  { name: 'flag', type: 'boolean', description: 'f' },
  { name: 'count', type: 'integer', description: 'c' },
  { name: 'big', type: 'long', description: 'b' },
  { name: 'when', type: 'date', description: 'w' },
  { name: 'zoneid', type: 'uuid', description: 'z' },
  { name: 'ids', type: 'list', collectionType: 'uuid', description: 'i' },
  { name: 'nums', type: 'list', collectionType: 'integer', description: 'n' },
  { name: 'names', type: 'list', description: 'n' },
  { name: 'details', type: 'map', description: 'd' },
];

const coerce = (q: string) => coerceParams('echoparams', DEFS, unpackParams(mergeParams(q, undefined)));

describe('api/params', () => {
  it('merges the form body and the query, the query winning, last occurrence winning', () => {
    const merged = mergeParams('a=1&b=2&b=3', 'a=body&c=4');
    expect(Object.fromEntries(merged)).to.deep.equal({ a: '1', b: '3', c: '4' });
    expect(mergeParams('x=a+b%20c&y', undefined)).to.deep.equal([['x', 'a b c'], ['y', '']]);
  });

  it('looks names up case-insensitively', () => {
    expect(lookupParam([['Command', 'listZones'], ['RESPONSE', 'json']], 'command')).to.equal('listZones');
    expect(lookupParam([['Command', 'listZones']], 'response')).to.equal(undefined);
    const p = coerce('NAME=x&ZoneId=AAAAAAAA-0000-4000-8000-000000000001');
    expect(p['name']).to.equal('x');
    expect(p['zoneid']).to.equal('aaaaaaaa-0000-4000-8000-000000000001');
  });

  it('parses booleans as Java Boolean.valueOf: only "true" in any case', () => {
    for (const [text, want] of [['true', true], ['TRUE', true], ['True', true], ['false', false], ['1', false], ['yes', false], ['', false]] as const) {
      expect(coerce(`name=x&flag=${text}`)['flag'], text).to.equal(want);
    }
  });

  it('unpacks map parameters into arrays of objects in index order', () => {
    const p = coerce('name=x&details[1].key=b&Details[0].key=a&details[0].Value=1&details[1].value=2');
    expect(getMap(p, 'details')).to.deep.equal([{ key: 'a', Value: '1' }, { key: 'b', value: '2' }]);
  });

  it('refuses malformed map names with 430', () => {
    for (const bad of ['details[0]', 'details[0]x', 'details[a].k', 'details[0][1].k', 'details]0[.k', 'a.b[0].c', 'details[0].']) {
      const err = apiErrorOf(() => unpackParams([[bad, 'v']]));
      expect(err.errorcode, bad).to.equal(430);
      expect(err.message).to.contain('Unable to decode parameter');
    }
    expect(unpackParams([['[0].x', 'v']]).get('[0].x')).to.equal('v'); // a leading '[' is a plain name in CloudStack
  });

  it('ignores unknown parameters', () => {
    const p = coerce('name=x&filter=name,isasync&whatever=1');
    expect(Object.keys(p)).to.deep.equal(['name']);
  });

  it('reports a missing required parameter with CloudStack\'s text', () => {
    const err = apiErrorOf(() => coerce('flag=true'));
    expect(err.errorcode).to.equal(431);
    expect(err.message).to.equal('Unable to execute API command echoparams due to missing parameter name');
  });

  it('coerces integers, longs, dates and lists, and names the parameter when a value is bad', () => {
    const p = coerce('name=x&count=-42&big=9007199254740991&when=2024-05-01&names=a,,b&nums=1,2&ids=AAAAAAAA-0000-4000-8000-000000000001');
    expect(p['count']).to.equal(-42);
    expect(p['big']).to.equal(9007199254740991);
    expect((p['when'] as Date).toISOString()).to.equal('2024-05-01T00:00:00.000Z');
    expect(p['names']).to.deep.equal(['a', 'b']);
    expect(p['nums']).to.deep.equal([1, 2]);
    expect(p['ids']).to.deep.equal(['aaaaaaaa-0000-4000-8000-000000000001']);
    expect((coerce('name=x&when=2024-05-01 10:20:30')['when'] as Date).toISOString()).to.equal('2024-05-01T10:20:30.000Z');
    for (const [q, param] of [['count=1.5', 'count'], ['count=2147483648', 'count'], ['big=9007199254740993', 'big'],
      ['zoneid=not-a-uuid', 'zoneid'], ['ids=x,y', 'ids'], ['nums=1,a', 'nums'], ['details=plain', 'details'], ['name[0].x=1', 'name']] as const) {
      const err = apiErrorOf(() => coerce(`name=x&${q}`));
      expect(err.errorcode, q).to.equal(431);
      expect(err.message, q).to.contain(param);
    }
    const dateErr = apiErrorOf(() => coerce('name=x&when=2024-02-30'));
    expect(dateErr.message).to.equal('Unable to parse date 2024-02-30 for command echoparams, please pass dates in the format mentioned in the api documentation');
  });

  it('treats an empty non-string value as absent, and enforces string length', () => {
    expect(coerce('name=x&count=&zoneid=')).to.deep.equal({ name: 'x' });
    expect(coerce('name=')['name']).to.equal('');
    const err = apiErrorOf(() => coerce(`name=${'a'.repeat(256)}`));
    expect(err.message).to.contain('Value greater than max allowed length 255 for param: name');
  });

  it('refuses ASCII control characters other than LF and CR with 431', () => {
    expect(() => checkControlCharacters(unpackParams([['a', 'line\nnext\r']]))).to.not.throw();
    for (const ch of ['\u0000', '\t', '\u001b', '\u007f']) {
      const err = apiErrorOf(() => checkControlCharacters(unpackParams([['note', `x${ch}y`]])));
      expect(err.errorcode).to.equal(431);
      expect(err.message).to.contain('note');
    }
    expect(apiErrorOf(() => checkControlCharacters(unpackParams([['tags[0].key', '\u0001']]))).errorcode).to.equal(431);
  });

  describe('paging', () => {
    const page = (q: string, max = 500) => resolvePage(coerceParams('listzones', [
      { name: 'page', type: 'integer', description: '' }, { name: 'pagesize', type: 'integer', description: '' },
    ], unpackParams(mergeParams(q, undefined))), max);

    it('resolves page windows against the maximum page size', () => {
      expect(page('')).to.deep.equal({ startIndex: 0, pageSize: 500 });
      expect(page('page=3&pagesize=20')).to.deep.equal({ startIndex: 40, pageSize: 20 });
      expect(page('pagesize=-1')).to.deep.equal({ startIndex: 0, pageSize: undefined });
    });

    it('applies BaseListCmd\'s rules', () => {
      expect(apiErrorOf(() => page('pagesize=10')).message).to.equal('"page" parameter is required when "pagesize" is specified');
      expect(apiErrorOf(() => page('page=1')).message).to.equal('"pagesize" parameter is required when "page" is specified');
      expect(apiErrorOf(() => page('page=1&pagesize=501')).message).to.equal("Page size can't exceed max allowed page size value: 500");
      expect(apiErrorOf(() => page('page=1&pagesize=-1')).errorcode).to.equal(431);
      expect(apiErrorOf(() => page('page=1&pagesize=0')).errorcode).to.equal(431);
    });
  });
});
