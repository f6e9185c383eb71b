/** The service registry over the gossip membership: lookups, change stream, instance selection. */
export {
  ServiceRegistry, createServiceRegistry, type MembershipView, type ServiceInstance, type RegistryEvent,
  type RemovalReason, type SelectOptions, type RegistryOptions,
} from './registry.js';
export type { BalancePolicy } from './selection.js';
