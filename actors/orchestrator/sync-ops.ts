import { InvalidParameterError } from '../../src/errors.js';
import { parseMockValue, type MockConfig } from '../compute/protocol.js';
import type { Components } from './components.js';
import type { SyncRequest } from './protocol.js';
import type { KeyedSerializer } from '../../src/keyed-serializer.js';
import { SYSTEM, vmState } from './vm-state.js';
import { removeVolumeFiles } from './volume-files.js';

type Mock = Awaited<ReturnType<Components['data']['mocks']['get']>>;

/**
 * Synchronous commands that act through the components: recoverVirtualMachine (under the VM's lock),
 * deleteVolume (storage refuses an attached volume with 536; then the hosts remove its file), and the simulator's mock commands,
 * which store the mock and push the live set to every compute agent.
 */
export async function executeSync(c: Components, locks: KeyedSerializer, req: SyncRequest, key: string): Promise<Record<string, unknown>> {
  switch (req.op) {
    case 'recoverVm':
      await c.data.vms.get(req.caller, req.vmid);
      return locks.run(req.vmid, async () => ({ ...(await vmState(c.data, req.vmid, 'RecoveryRequested', { from: 'Destroyed', to: 'Stopped' }, req.caller)) }));
    case 'deleteVolume': {
      const vol = await c.data.volumes.get(req.caller, req.volumeid);
      await locks.run(vol.virtualmachineid ?? vol.id, async () => {
        await c.storage('deleteVolume', { key, volumeid: vol.id, scope: req.caller });
        // After the record: storage refuses an attached volume, whose file must stay.
        await removeVolumeFiles(c, vol.id, vol.storageid, `${key}:files`);
      });
      return {};
    }
    case 'configureSimulator': {
      const { problems } = parseMockValue(req.value);
      if (problems.length > 0) throw new InvalidParameterError(`invalid simulator mock value "${req.value}": ${problems.join('; ')}`);
      const { op: _op, ...input } = req;
      const mock = await c.data.mocks.create(input);
      await pushMocks(c);
      return { ...mock };
    }
    case 'querySimulatorMock':
      return { ...(await withRemaining(c, await c.data.mocks.get(req.id))) };
    case 'enableStaticNat':
      return enableStaticNat(c, req, key);
    case 'cleanupSimulatorMock':
      await c.data.mocks.get(req.id);
      await c.data.mocks.remove(req.id);
      await pushMocks(c);
      return {};
  }
}

/**
 * enableStaticNat (synchronous in CloudStack): the address is mapped in the data service, then the
 * element applies it; if the element refuses, the mapping is undone and the error returned.
 */
async function enableStaticNat(c: Components, req: Extract<SyncRequest, { op: 'enableStaticNat' }>, key: string): Promise<Record<string, unknown>> {
  const target = await c.data.ruleSets.staticNatTarget(req.caller, req.ipid);
  const before = await c.data.ipAddresses.get(req.caller, req.ipid);
  await c.data.ruleSets.enableStaticNat(req.caller, req.ipid, req.vmid, req.vmguestip);
  try {
    await c.network('applyRules', { key, target });
  } catch (err) {
    if (!before.isstaticnat) await c.data.ruleSets.disableStaticNat(SYSTEM, req.ipid);
    throw err;
  }
  return {};
}

/** Gives every compute agent the live mocks (agents sharing a table keep the counts already spent). */
export async function pushMocks(c: Components): Promise<void> {
  // Every live mock: bounded by configureSimulator (the agents refuse more than MAX_MOCKS per setMocks).
  const live = await c.data.mocks.all({});
  const mocks: MockConfig[] = live.map((m) => {
    const cfg: MockConfig = { id: m.id, name: m.name, value: m.value, revision: 0 };
    if (m.count !== undefined) cfg.count = m.count;
    if (m.zoneid !== undefined) cfg.zoneId = m.zoneid;
    if (m.podid !== undefined) cfg.podId = m.podid;
    if (m.clusterid !== undefined) cfg.clusterId = m.clusterid;
    if (m.hostid !== undefined) cfg.hostId = m.hostid;
    return cfg;
  });
  const hosts = c.computeHosts();
  const results = await Promise.allSettled(hosts.map((h) => c.compute(h, 'setMocks', { mocks })));
  const failed = results.filter((r) => r.status === 'rejected').length;
  if (failed > 0) c.log.warn('some compute agents did not take the simulator mocks', { failed, hosts: hosts.length });
}

/** The mock with `count` = the uses left, as the agents report it (absent: unlimited). */
async function withRemaining(c: Components, mock: Mock): Promise<Mock> {
  for (const h of c.computeHosts()) {
    try {
      const found = (await c.compute(h, 'listMocks', {})).mocks.find((m) => m.id === mock.id);
      if (found === undefined) continue;
      const { count: _count, ...rest } = mock;
      return found.remaining === null ? rest : { ...rest, count: found.remaining };
    } catch {
      // an agent that cannot answer: ask the next one
    }
  }
  return mock;
}
