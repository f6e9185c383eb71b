/**
 * restartNetwork (the Networks page's Restart action): the network element is given every rule set of
 * the network again; a network not in use cannot be restarted; another account's network is not found.
 */
import { expect } from 'chai';
import type { Lab } from '../../../../bin/lab.js';
import type { CsApi, Json } from '../../../helpers/cs-api.js';
import { type ClientLab, fails, ok, publicIp, startClientLab, tenant, type Tenant } from './client-fixture.js';

describe('api/commands: restartNetwork', function () {
  this.timeout(30_000);
  let lab: Lab;
  let admin: CsApi;
  let cl: ClientLab;
  let a: Tenant;
  let b: Tenant;

  before(async () => {
    cl = await startClientLab();
    ({ lab, admin } = cl);
    a = await tenant(lab, cl.client);
    b = await tenant(lab, cl.client);
  });

  after(async () => {
    admin.close();
    a.api.close();
    b.api.close();
    await lab.stop();
  });

  it('gives the element every rule set of the network again', async () => {
    const ip = await publicIp(a.api, a.networkId);
    const pf = await ok(a.api, 'createPortForwardingRule', { ipaddressid: ip, protocol: 'tcp', privateport: 22, publicport: 2222,
      virtualmachineid: a.vmId });
    const before = await cl.elementState(a.networkId);
    const ips = ((await a.api.call('listPublicIpAddresses', { associatednetworkid: a.networkId }))['publicipaddress'] as Json[]).length;
    const result = await ok(a.api, 'restartNetwork', { id: a.networkId });
    expect(result['network']).to.include({ id: a.networkId, state: 'Implemented' });
    const after = await cl.elementState(a.networkId);
    // Four ingress sets per public address (firewall, port forwarding, load balancing, static NAT) and the egress set.
    expect(after.applies - before.applies).to.equal(ips * 4 + 1);
    expect(after.sets[`PortForwarding/Ingress/${ip}`]!.rules.map((r) => r.id)).to.deep.equal([(pf['portforwardingrule'] as Json)['id']]);
  });

  it('refuses a network that is not in use, and another account\'s network', async () => {
    const net = (await a.api.call('createNetwork', { name: 'idle', displaytext: 'idle', zoneid: lab.seed.zoneid,
      networkofferingid: lab.seed.networkofferingid }))['network'] as Json;
    expect(await fails(431, a.api, 'restartNetwork', { id: String(net['id']) })).to.match(/not in the right state to be restarted/);
    await fails(431, b.api, 'restartNetwork', { id: a.networkId });
  });
});
