import { expect } from 'chai';
import { SimulatedClock } from '../../../src/clock.js';
import { ConfigError, InternalError } from '../../../src/errors.js';
import { DOMAIN_LIST_PARAMS, createCommandTable, defineCommand, roleAllows, type HandledCommand } from '../../../actors/api/command-table.js';
import { buildCommandTable } from '../../../actors/api/http-server.js';
import { ADMIN, USER, fakeCommands } from './fixtures.js';

const ok = async () => ({ kind: 'success' as const });

describe('api/command-table', () => {
  it('fills in defaults and paging parameters', () => {
    const def = defineCommand({
      name: 'listThings', description: 'd', isAsync: false, access: 'user', paged: true, objectName: 'thing',
      params: [{ name: 'id', type: 'uuid', description: 'id' }], handler: ok,
    });
    expect(def.responseName).to.equal('listthingsresponse');
    expect(def.params.map((p) => p.name)).to.deep.equal(['id', 'keyword', 'page', 'pagesize']);
    expect(Object.isFrozen(def)).to.equal(true);
    const scoped = defineCommand({
      name: 'listVolumes', description: 'd', isAsync: false, access: 'user', paged: true, params: DOMAIN_LIST_PARAMS, handler: ok,
    });
    expect(scoped.params.map((p) => p.name)).to.deep.equal(['listall', 'domainid', 'isrecursive', 'account', 'projectid', 'keyword', 'page', 'pagesize']);
  });

  it('refuses malformed declarations at start-up, naming the problem', () => {
    const spec = { name: 'x', description: 'd', isAsync: false, access: 'user' as const, handler: ok };
    expect(() => defineCommand({ ...spec, name: 'bad name', params: [] })).to.throw(ConfigError, /letters/);
    expect(() => defineCommand({ ...spec, params: [{ name: 'Zone', type: 'string', description: '' }] })).to.throw(ConfigError, /lower case/);
    expect(() => defineCommand({ ...spec, params: [{ name: 'a', type: 'string', description: '' }, { name: 'a', type: 'uuid', description: '' }] }))
      .to.throw(ConfigError, /twice/);
    expect(() => defineCommand({ ...spec, params: [{ name: 'a', type: 'string', collectionType: 'uuid', description: '' }] })).to.throw(ConfigError, /collectionType/);
    expect(() => defineCommand({ ...spec, paged: true, params: [{ name: 'page', type: 'integer', description: '' }] })).to.throw(ConfigError, /twice/);
    expect(() => createCommandTable([defineCommand({ ...spec, params: [] }), defineCommand({ ...spec, params: [] })])).to.throw(ConfigError, /twice/);
  });

  it('checks that async commands return jobs and synchronous ones do not', async () => {
    const clock = new SimulatedClock();
    const ctx = { caller: ADMIN, params: {}, clock, requestId: 'r' };
    const lying = defineCommand({ name: 'a', description: '', isAsync: true, access: 'user', params: [], handler: ok });
    await lying.invoke(ctx).then(() => expect.fail('should throw'), (e: unknown) => expect(e).to.be.instanceOf(InternalError));
    const needsCaller = defineCommand({ name: 'b', description: '', isAsync: false, access: 'user', params: [], handler: ok });
    await needsCaller.invoke({ ...ctx, caller: undefined }).then(() => expect.fail('should throw'), (e: unknown) => expect(e).to.be.instanceOf(InternalError));
  });

  it('ranks roles: admin ⊇ domainadmin ⊇ user; anonymous is open', () => {
    expect(roleAllows('admin', 'admin')).to.equal(true);
    expect(roleAllows('admin', 'domainadmin')).to.equal(false);
    expect(roleAllows('domainadmin', 'admin')).to.equal(true);
    expect(roleAllows('user', 'user')).to.equal(true);
    expect(roleAllows('user', undefined)).to.equal(false);
    expect(roleAllows('anonymous', undefined)).to.equal(true);
  });

  describe('listApis', () => {
    const table = buildCommandTable(fakeCommands());
    const listApis = table.get('listApis') as HandledCommand;
    const run = async (caller = ADMIN, params = {}) =>
      listApis.invoke({ caller, params, clock: new SimulatedClock(), requestId: 'r' });

    it('lists every command of the table, itself included, with correct isasync', async () => {
      const result = await run();
      if (result.kind !== 'list') throw new Error('expected a list');
      const names = result.items.map((i) => i['name']);
      expect(names).to.deep.equal(table.all().map((d) => d.name));
      expect(names).to.include.members(['listApis', 'login', 'logout', 'deployVirtualMachine', 'listZones']);
      expect(result.count).to.equal(names.length);
      const byName = new Map(result.items.map((i) => [i['name'], i]));
      expect(byName.get('deployVirtualMachine')!['isasync']).to.equal(true);
      expect(byName.get('stopVirtualMachine')!['isasync']).to.equal(true);
      expect(byName.get('listZones')!['isasync']).to.equal(false);
      expect(byName.get('login')!['isasync']).to.equal(false);
    });

    it('describes parameters from the same definitions the server validates with', async () => {
      const result = await run(ADMIN, { name: 'deployVirtualMachine' });
      if (result.kind !== 'list') throw new Error('expected a list');
      expect(result.items).to.have.length(1);
      expect(result.items[0]!['params']).to.deep.equal([
        { name: 'zoneid', description: 'zone', type: 'uuid', length: 255, required: true, since: undefined },
        { name: 'displayname', description: 'name', type: 'string', length: 255, required: false, since: undefined },
      ]);
      const zones = await run(ADMIN, { name: 'listZones' });
      if (zones.kind !== 'list') throw new Error('expected a list');
      expect((zones.items[0]!['params'] as { name: string }[]).map((p) => p.name)).to.include.members(['page', 'pagesize', 'keyword']);
    });

    it('shows a user only the commands the role allows', async () => {
      const result = await run(USER);
      if (result.kind !== 'list') throw new Error('expected a list');
      const names = result.items.map((i) => i['name']);
      expect(names).to.not.include('createZone');
      expect(names).to.include('listZones');
    });

    it('answers an unknown name with CloudStack\'s discovery error', async () => {
      await run(ADMIN, { name: 'noSuchApi' }).then(() => expect.fail('should throw'), (e: Error) => expect(e.message).to.contain('unable to find an api'));
    });
  });
});
