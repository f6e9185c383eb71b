import { expect } from 'chai';
import { InsufficientCapacityError } from '../../../src/errors.js';
import { asyncJobResponse } from '../../../actors/api/async-job.js';
import { errorPayload, renderEnvelope, responseFormat, resultPayload } from '../../../actors/api/envelope.js';
import { renderJson } from '../../../actors/api/render-json.js';
import { escapeXmlText, renderXml, xmlName } from '../../../actors/api/render-xml.js';
import type { CommandResult } from '../../../actors/api/types.js';

const json = (name: string, r: CommandResult, objectName?: string) => renderJson(name, resultPayload(r, { objectName }));
const xml = (name: string, r: CommandResult, objectName?: string) => renderXml(name, resultPayload(r, { objectName }), '4.20.0.0');
const XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>';

describe('api/render', () => {
  it('picks XML unless response=json (any case)', () => {
    expect(responseFormat(undefined)).to.equal('xml');
    expect(responseFormat('JSON')).to.equal('json');
    expect(responseFormat('yaml')).to.equal('xml');
  });

  describe('JSON', () => {
    it('renders lists with the total count, and {} when empty', () => {
      expect(json('listzonesresponse', { kind: 'list', count: 7, items: [{ id: 'z1', name: 'a' }] }, 'zone'))
        .to.equal('{"listzonesresponse":{"count":7,"zone":[{"id":"z1","name":"a"}]}}');
      expect(json('listzonesresponse', { kind: 'list', count: 0, items: [] }, 'zone')).to.equal('{"listzonesresponse":{}}');
      expect(json('listzonesresponse', { kind: 'list', count: 3, items: [] }, 'zone')).to.equal('{"listzonesresponse":{"count":3}}');
    });

    it('wraps single objects in their object name, omits null fields, keeps empty arrays', () => {
      expect(json('registeruserkeysresponse', { kind: 'object', objectName: 'userkeys', object: { apikey: 'a', secretkey: 'b', email: null, x: undefined } }))
        .to.equal('{"registeruserkeysresponse":{"userkeys":{"apikey":"a","secretkey":"b"}}}');
      expect(json('deployvirtualmachineresponse', { kind: 'object', object: { id: 'v', nic: [], securitygroup: [], tags: [], n: [1, null, 2] } }, 'virtualmachine'))
        .to.equal('{"deployvirtualmachineresponse":{"virtualmachine":{"id":"v","nic":[],"securitygroup":[],"tags":[],"n":[1,2]}}}');
    });

    it('renders success, async and raw results', () => {
      expect(json('deletevolumeresponse', { kind: 'success' })).to.equal('{"deletevolumeresponse":{"success":true}}');
      expect(json('deletevolumeresponse', { kind: 'success', displaytext: 'ok' })).to.equal('{"deletevolumeresponse":{"success":true,"displaytext":"ok"}}');
      expect(renderJson('x', resultPayload({ kind: 'success' }, { successAsString: true }))).to.equal('{"x":{"success":"true"}}');
      expect(json('stopvirtualmachineresponse', { kind: 'async', jobid: 'j' })).to.equal('{"stopvirtualmachineresponse":{"jobid":"j"}}');
      expect(json('deployvirtualmachineresponse', { kind: 'async', jobid: 'j', id: 'v' })).to.equal('{"deployvirtualmachineresponse":{"id":"v","jobid":"j"}}');
      expect(json('raw', { kind: 'raw', body: { a: 1 } })).to.equal('{"raw":{"a":1}}');
    });

    it('writes dates in CloudStack\'s format, numbers and booleans as JSON, characters unescaped', () => {
      expect(renderJson('r', { created: new Date(Date.UTC(2024, 4, 1, 10, 20, 30, 999)), n: 3, b: false, s: '<&> é "q"', bad: Number.NaN }))
        .to.equal('{"r":{"created":"2024-05-01T10:20:30+0000","n":3,"b":false,"s":"<&> é \\"q\\""}}');
    });

    it('needs an object name for list and object results', () => {
      expect(() => resultPayload({ kind: 'object', object: {} })).to.throw(/objectName/);
    });
  });

  describe('XML', () => {
    it('renders lists as repeated elements with the count', () => {
      expect(xml('listzonesresponse', { kind: 'list', count: 2, items: [{ id: 'a', tags: [] }, { id: 'b', tags: [{ key: 'k' }] }] }, 'zone'))
        .to.equal(`${XML_HEAD}<listzonesresponse cloud-stack-version="4.20.0.0"><count>2</count><zone><id>a</id></zone>` +
          '<zone><id>b</id><tags><key>k</key></tags></zone></listzonesresponse>');
      expect(xml('listzonesresponse', { kind: 'list', count: 0, items: [] }, 'zone'))
        .to.equal(`${XML_HEAD}<listzonesresponse cloud-stack-version="4.20.0.0"></listzonesresponse>`);
    });

    it('renders objects, success and async results, escaping text', () => {
      expect(xml('createzoneresponse', { kind: 'object', object: { name: `a<b>&"c'`, ok: true } }, 'zone'))
        .to.equal(`${XML_HEAD}<createzoneresponse cloud-stack-version="4.20.0.0"><zone><name>a&lt;b&gt;&amp;&quot;c&apos;</name><ok>true</ok></zone></createzoneresponse>`);
      expect(xml('deletezoneresponse', { kind: 'success' })).to.contain('<deletezoneresponse cloud-stack-version="4.20.0.0"><success>true</success></deletezoneresponse>');
      expect(xml('deployvirtualmachineresponse', { kind: 'async', jobid: 'j', id: 'v' })).to.contain('<id>v</id><jobid>j</jobid>');
    });

    it('replaces characters XML cannot carry and invalid element names', () => {
      expect(escapeXmlText('a\u0000b\u001bc\ud800d😀')).to.equal('a\uFFFDb\uFFFDc\uFFFDd😀');
      expect(xmlName('cpuNumber')).to.equal('cpuNumber');
      expect(xmlName('1 bad<name>')).to.equal('_1_bad_name_');
    });

    it('renders errors with uuidList omitted when empty', () => {
      const payload = errorPayload({ uuidList: [], errorcode: 431, cserrorcode: 9999, errortext: 'bad <x>' });
      expect(renderEnvelope('xml', 'listzonesresponse', payload, '4.20.0.0').body)
        .to.equal(`${XML_HEAD}<listzonesresponse cloud-stack-version="4.20.0.0"><errorcode>431</errorcode><cserrorcode>9999</cserrorcode><errortext>bad &lt;x&gt;</errortext></listzonesresponse>`);
      expect(renderEnvelope('json', 'listzonesresponse', payload, '4.20.0.0').body)
        .to.equal('{"listzonesresponse":{"uuidList":[],"errorcode":431,"cserrorcode":9999,"errortext":"bad <x>"}}');
    });
  });

  describe('async job objects (queryAsyncJobResult)', () => {
    const base = {
      jobid: 'j1', accountid: 'a1', userid: 'u1', cmd: 'DeployVMCmd', created: new Date(Date.UTC(2024, 0, 1)),
      jobinstancetype: 'VirtualMachine', jobinstanceid: 'v1',
    };

    it('pending: numeric status 0 and no result', () => {
      expect(renderJson('queryasyncjobresultresponse', asyncJobResponse({ ...base, state: 'pending' }, { callerIsAdmin: true })))
        .to.equal('{"queryasyncjobresultresponse":{"accountid":"a1","userid":"u1","cmd":"DeployVMCmd","jobstatus":0,"jobprocstatus":0,' +
          '"jobresultcode":0,"jobinstancetype":"VirtualMachine","jobinstanceid":"v1","created":"2024-01-01T00:00:00+0000","jobid":"j1"}}');
    });

    it('succeeded: status 1 and the result wrapped in its object name', () => {
      const body = asyncJobResponse({ ...base, state: 'succeeded', outcome: { kind: 'object', objectName: 'virtualmachine', object: { id: 'v1', nic: [] } } }, { callerIsAdmin: false });
      const parsed = JSON.parse(renderJson('q', body)).q;
      expect(parsed.jobstatus).to.equal(1);
      expect(parsed.jobresultcode).to.equal(0);
      expect(parsed.jobresulttype).to.equal('object');
      expect(parsed.jobresult).to.deep.equal({ virtualmachine: { id: 'v1', nic: [] } });
      const success = asyncJobResponse({ ...base, state: 'succeeded', outcome: { kind: 'success' } }, { callerIsAdmin: false });
      expect(JSON.parse(renderJson('q', success)).q.jobresult).to.deep.equal({ success: true });
    });

    it('failed: status 2 and {errorcode, errortext} from the error map', () => {
      const failed = { ...base, state: 'failed' as const, outcome: { kind: 'error' as const, error: new InsufficientCapacityError('no host in zone z1') } };
      const admin = JSON.parse(renderJson('q', asyncJobResponse(failed, { callerIsAdmin: true }))).q;
      expect(admin.jobstatus).to.equal(2);
      expect(admin.jobresultcode).to.equal(533);
      expect(admin.jobresult).to.deep.equal({ errorcode: 533, errortext: 'no host in zone z1' });
      const user = JSON.parse(renderJson('q', asyncJobResponse(failed, { callerIsAdmin: false }))).q;
      expect(user.jobresult.errortext).to.equal('Internal error executing command, please contact your cloud administrator');
      expect(renderXml('q', asyncJobResponse(failed, { callerIsAdmin: true }), '4').toString())
        .to.contain('<jobstatus>2</jobstatus>').and.contain('<jobresult><errorcode>533</errorcode>');
    });
  });
});
