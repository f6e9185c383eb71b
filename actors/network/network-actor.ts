import type { ActorContext, ActorDefinition } from '../../src/actor-types.js';
import { ConflictError, IllegalStateError, NotFoundError, ResourceInUseError } from '../../src/errors.js';
import type { ServiceLocator } from '../../src/locator.js';
import { DataProtocol, dataClient, type DataApi } from '../data/protocol.js';
import { NetworkProtocol, type Network, type NetworkProtocolType, type Nic, type PublicIpAddress } from './protocol.js';

export interface NetworkActorOptions {
  /** Finds the data service. */
  locator: ServiceLocator;
  /** Times a guest address reservation is retried when a concurrent one took the same address. Default 5. */
  nicRetries?: number;
}

export interface NetworkState {
  data: DataApi;
}

type Ctx = ActorContext<NetworkState>;
type Scope = Parameters<DataApi['networks']['get']>[0];
const SYSTEM = 'system' as const;

/**
 * The network component. One actor handles one command at a time, so two VMs starting on a network
 * that is not implemented yet never implement it twice; the data service's atomic allocation makes
 * sure no address or VLAN/VNI is handed out twice even across components.
 */
export function networkActor(options: NetworkActorOptions): ActorDefinition<NetworkProtocolType, NetworkState> {
  const nicRetries = options.nicRetries ?? 5;
  return {
    protocol: NetworkProtocol,
    init: (ctx) => ({ data: dataClient((body) => ctx.ask(options.locator.ref(DataProtocol), 'call', body)) }),
    handlers: {
      implementNetwork: ({ networkid }, ctx) => implement(ctx.state.data, networkid, ctx),
      prepareNic: async ({ nicid, ipaddress }, ctx) => {
        for (let attempt = 0; ; attempt++) {
          try {
            return await ctx.state.data.addresses.reserveNicIp(nicid, ipaddress);
          } catch (err) {
            // Another component took the same address between our read and our write: pick again.
            if (!(err instanceof ConflictError) || attempt >= nicRetries) throw err;
          }
        }
      },
      releaseNic: async ({ nicid }, ctx): Promise<Nic> => ctx.state.data.addresses.releaseNicIp(nicid),
      applyPublicIp: async ({ ipid }, ctx) => {
        const data = ctx.state.data;
        const ip = await data.ipAddresses.get(SYSTEM, ipid);
        if (ip.state !== 'Allocated') throw new IllegalStateError(`public ip ${ip.ipaddress} is ${ip.state}, not Allocated`);
        if (ip.associatednetworkid !== undefined) await implement(data, ip.associatednetworkid, ctx);
        return data.ipAddresses.get(SYSTEM, ipid);
      },
      releasePublicIp: async ({ ipid, scope }, ctx): Promise<PublicIpAddress> => {
        const data = ctx.state.data;
        const ip = await data.ipAddresses.get(scope, ipid);
        if (ip.state === 'Free') return ip;
        return data.addresses.releasePublicIp(scope, ipid);
      },
      deleteNetwork: async ({ networkid, scope }, ctx) => {
        await destroy(ctx.state.data, networkid, scope);
        return { networkid };
      },
    },
  };
}

/** Allocated → Implementing → Implemented, resuming an implementation a crash left half done. */
async function implement(data: DataApi, networkid: string, ctx: Ctx): Promise<Network> {
  let net = await data.networks.get(SYSTEM, networkid);
  if (net.state === 'Implemented' || net.state === 'Setup') return net;
  if (net.state === 'Destroy') throw new IllegalStateError(`network ${networkid} has been deleted`);
  if (net.state === 'Shutdown') net = await data.networks.transition(SYSTEM, networkid, 'OperationSucceeded');
  if (net.state === 'Allocated') net = await data.networks.transition(SYSTEM, networkid, 'ImplementNetwork', { expect: 'Allocated' });
  try {
    // A network created with an explicit VLAN keeps it; otherwise it takes one from the zone's pool.
    if (net.vlan === undefined) await data.addresses.allocateVnet(networkid);
    if (net.type === 'Isolated' && (await sourceNat(data, networkid)).length === 0) {
      await data.addresses.allocatePublicIp(SYSTEM, { zoneid: net.zoneid, networkid, sourcenat: true, issystem: false });
    }
    net = await data.networks.transition(SYSTEM, networkid, 'OperationSucceeded', { expect: 'Implementing' });
    ctx.log.debug('network implemented', { network: networkid, vlan: net.vlan ?? '' });
    return net;
  } catch (err) {
    await unimplement(data, networkid, ctx);
    throw err;
  }
}

/** Undoes a failed implementation: Implementing → Shutdown, give back what it took, → Allocated. */
async function unimplement(data: DataApi, networkid: string, ctx: Ctx): Promise<void> {
  try {
    await data.networks.transition(SYSTEM, networkid, 'OperationFailed', { expect: 'Implementing' });
    for (const ip of await sourceNat(data, networkid)) await data.addresses.releasePublicIp(SYSTEM, ip.id);
    await data.addresses.releaseVnet(networkid);
    await data.networks.transition(SYSTEM, networkid, 'OperationSucceeded', { expect: 'Shutdown' });
  } catch (err) {
    ctx.log.warn('could not undo a failed network implementation', { network: networkid, error: (err as Error).message });
  }
}

async function sourceNat(data: DataApi, networkid: string): Promise<PublicIpAddress[]> {
  // A network has one source NAT address (a few while one is being replaced): read them all.
  const found = await data.ipAddresses.all(SYSTEM, { associatednetworkid: networkid, issourcenat: true });
  return found.filter((ip) => ip.state !== 'Free');
}

async function destroy(data: DataApi, networkid: string, scope: Scope): Promise<void> {
  let net: Network;
  try {
    net = await data.networks.get(scope, networkid);
  } catch (err) {
    if (err instanceof NotFoundError) return; // already deleted (a repeated step)
    throw err;
  }
  // Only the count matters: one row, and `count` covers every NIC.
  const nics = await data.nics.list(SYSTEM, { networkid, pagesize: 1, page: 1 });
  if (nics.count > 0) {
    throw new ResourceInUseError(`network ${net.name} (${networkid}) still has ${nics.count} nic(s): destroy or expunge its VMs first`);
  }
  if (net.state === 'Implemented' || net.state === 'Implementing') {
    net = await data.networks.transition(SYSTEM, networkid, 'DestroyNetwork');
  }
  // Reaching Destroy returns the VLAN/VNI and every public address of the network, and removes it.
  await data.networks.transition(SYSTEM, networkid, 'DestroyNetwork');
}
