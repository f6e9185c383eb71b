import type { Caller, Scope } from './caller.js';
import type { AffinityConstraints, HostPickQuery, VmVolume } from './deploy-operations.js';
import type { ComponentService, DefineComponentService, Network, Nic, PublicIpAddress, Snapshot, Volume } from './records.js';
import type { Caller as StoreCaller, DataStore, Scope as StoreScope } from './store/index.js';

/**
 * Compile-time only: the store's repositories return exactly the records the data contract declares
 * (records.ts). A repository whose return type gains, loses or retypes a field fails to compile here,
 * naming the record, rather than changing what other components receive without anyone noticing. When
 * that happens, change the record in records.ts (a contract change other components see) or the store.
 */

/** True when A and B are assignable both ways and have the same keys (an extra optional field counts). */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export type Exact<A, B> = Same<A, B> extends true ? Same<keyof A, keyof B> : false;
/** For a request: every wire value is a valid store argument, and the two name the same fields. */
export type Accepts<StoreArg, Wire> = [Wire] extends [StoreArg] ? Same<keyof StoreArg, keyof Wire> : false;
type Returns<R extends keyof DataStore, M extends keyof DataStore[R]> = DataStore[R][M] extends (...a: never[]) => infer T ? T : never;
type Check<Name extends string, Ok extends true> = [Name, Ok];

export type StoreMatchesContract = [
  Check<'Network', Exact<Returns<'networks', 'get'>, Network>>,
  Check<'Nic', Exact<Returns<'nics', 'get'>, Nic>>,
  Check<'PublicIpAddress', Exact<Returns<'ipAddresses', 'get'>, PublicIpAddress>>,
  Check<'Volume', Exact<Returns<'volumes', 'get'>, Volume>>,
  Check<'Snapshot', Exact<Returns<'snapshots', 'get'>, Snapshot>>,
  Check<'ComponentService', Exact<Returns<'componentServices', 'get'>, ComponentService>>,
  Check<'DefineComponentService', Accepts<Parameters<DataStore['componentServices']['define']>[0], DefineComponentService>>,
  Check<'VmVolume', Exact<Returns<'orchestration', 'vmVolumes'>[number], VmVolume>>,
  Check<'AffinityConstraints', Exact<Returns<'affinityGroups', 'constraints'>, AffinityConstraints>>,
  Check<'HostPickQuery', Accepts<Parameters<DataStore['orchestration']['hostCandidates']>[0], HostPickQuery>>,
  Check<'Caller', Exact<StoreCaller, Caller>>,
  Check<'Scope', Exact<StoreScope, Scope>>,
];
