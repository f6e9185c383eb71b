/**
 * The package entry (`import { startLab } from 'cloudstackd'`): the all-in-one lab for tests and
 * tools, and the public runtime API (actors, protocols, errors, clocks, transports' interface).
 */
export * from '../src/index.js';
export { startLab, writeCredentials, CREDENTIALS_FILE, type Lab, type LabHandles, type LabOptions } from './lab.js';
export { COMPONENT_TABLE, ROLE_SETS } from './components.js';
export type { ComponentDescriptor, ComponentEnv, RunningComponent, ServiceDirectory, TimingProfile } from '../src/component.js';
