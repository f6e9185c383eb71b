export { GossipNode, GOSSIP_MESSAGE, NODE_SEED_PREFIX, type GossipNodeOptions } from './gossip-node.js';
export { RegistryLocator, defaultPathOf, instanceName, type PathOf } from './registry-locator.js';
export { ServiceClient, type ServiceAskOptions } from './service-client.js';
export { createServiceDirectory } from './service-directory.js';
export { InstanceDirectory } from './instance-directory.js';
