import type { ActorContext, ActorDefinition } from '../../src/actor-types.js';
import { ConflictError, IllegalStateError, NotFoundError, ResourceInUseError } from '../../src/errors.js';
import type { ServiceLocator } from '../../src/locator.js';
import { KeyedSerializer } from '../../src/keyed-serializer.js';
import type { Fence } from '../../src/lease.js';
import { replyLater } from '../../src/reply-later.js';
import { DataProtocol, dataClient, fencedDataClient, type DataApi, type DataCall, type Scope, SYSTEM, waitingDataCall } from '../data/protocol.js';
import type { NetworkElement } from './element.js';
import { applyTarget, clearAddress } from './rules.js';
import { createSimulatorElement } from './simulator-element.js';
import { NetworkProtocol, type Network, type NetworkProtocolType, type Nic, type PublicIpAddress } from './protocol.js';

export interface NetworkActorOptions {
  /** Finds the data service. */
  locator: ServiceLocator;
  /** Times a guest address reservation is retried when a concurrent one took the same address. Default 5. */
  nicRetries?: number;
  /** The network element rules are applied to. Default: the simulator's, which records what it is told. */
  element?: (data: DataApi) => NetworkElement;
}

export interface NetworkState {
  data: DataApi;
  call: (body: DataCall) => Promise<unknown>;
  serial: KeyedSerializer;
  element: NetworkElement;
}

type Ctx = ActorContext<NetworkState>;
/** Deadline of one data service call, ms. SQLite answers in microseconds; 15 s only covers a stall. */
const DATA_TIMEOUT_MS = 15_000;

/** Runs a command after the earlier ones on the same object (`net:<id>`, `nic:<id>`, `ip:<id>`), replying when done. */
function keyed<T>(ctx: Ctx, key: string, work: () => Promise<T>): T {
  return replyLater(ctx, () => ctx.state.serial.run(key, work));
}

/**
 * The network component. Commands on different objects run at once (each mostly waits on the data
 * service); those on one network run in order, so two VMs starting on a network that is not implemented
 * yet never implement it twice; the data service's atomic allocation makes sure no address or VLAN/VNI
 * is handed out twice even across instances of this component.
 */
export function networkActor(options: NetworkActorOptions): ActorDefinition<NetworkProtocolType, NetworkState> {
  const nicRetries = options.nicRetries ?? 5;
  return {
    protocol: NetworkProtocol,
    init: (ctx) => {
      const call = waitingDataCall((body: DataCall) => options.locator.ref(DataProtocol).ask('call', body, { timeoutMs: DATA_TIMEOUT_MS }), ctx.clock);
      const data = dataClient(call);
      return { call, data, serial: new KeyedSerializer(), element: (options.element ?? createSimulatorElement)(data) };
    },
    handlers: {
      // Every VM start asks for its network: an implemented one answers at once, without queueing.
      implementNetwork: ({ networkid, fence }, ctx) => replyLater(ctx, async () => {
        const data = dataFor(ctx, fence);
        const net = await data.networks.get(SYSTEM, networkid);
        if (net.state === 'Implemented' || net.state === 'Setup') return net;
        return ctx.state.serial.run(`net:${networkid}`, () => implement(data, networkid, ctx));
      }),
      prepareNic: ({ nicid, ipaddress, fence }, ctx) => keyed(ctx, `nic:${nicid}`, async () => {
        const data = dataFor(ctx, fence);
        for (let attempt = 0; ; attempt++) {
          try {
            return await data.addresses.reserveNicIp(nicid, ipaddress);
          } catch (err) {
            // Another command took the same address between our read and our write: pick again.
            if (!(err instanceof ConflictError) || attempt >= nicRetries) throw err;
          }
        }
      }),
      releaseNic: ({ nicid, fence }, ctx) => keyed(ctx, `nic:${nicid}`, (): Promise<Nic> => dataFor(ctx, fence).addresses.releaseNicIp(nicid)),
      applyPublicIp: ({ ipid, fence }, ctx) => keyed(ctx, `ip:${ipid}`, async () => {
        const data = dataFor(ctx, fence);
        const ip = await data.ipAddresses.get(SYSTEM, ipid);
        if (ip.state !== 'Allocated') throw new IllegalStateError(`public ip ${ip.ipaddress} is ${ip.state}, not Allocated`);
        const netid = ip.associatednetworkid;
        if (netid !== undefined) await ctx.state.serial.run(`net:${netid}`, () => implement(data, netid, ctx));
        return data.ipAddresses.get(SYSTEM, ipid);
      }),
      releasePublicIp: ({ ipid, scope, fence }, ctx) => keyed(ctx, `ip:${ipid}`, async (): Promise<PublicIpAddress> => {
        const data = dataFor(ctx, fence);
        const ip = await data.ipAddresses.get(scope, ipid);
        if (ip.state === 'Free') return ip;
        await clearAddress(data, ctx.state.element, ipid);
        return data.addresses.releasePublicIp(scope, ipid);
      }),
      // Rules of one address or network are applied in order: the element always gets a whole, current set.
      applyRules: ({ target, fence }, ctx) => keyed(ctx, `rules:${JSON.stringify(target)}`,
        async () => ({ rules: await applyTarget(dataFor(ctx, fence), ctx.state.element, target) })),
      elementState: ({ networkid }, ctx) => ctx.state.element.state(networkid),
      deleteNetwork: ({ networkid, scope, fence }, ctx) => keyed(ctx, `net:${networkid}`, async () => {
        await destroy(dataFor(ctx, fence), networkid, scope);
        return { networkid };
      }),
    },
  };
}

/** The data service for one command: a job's command writes under the job's lease (refused once it moved on). */
function dataFor(ctx: Ctx, fence: Fence | undefined): DataApi {
  return fence === undefined ? ctx.state.data : fencedDataClient(ctx.state.call, fence);
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
