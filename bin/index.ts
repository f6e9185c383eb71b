/**
 * The package entry (`import { startLab } from 'cloudstackd'`): the all-in-one lab for tests and
 * tools, and the public runtime API (actors, protocols, errors, clocks, transports' interface).
 */
export * from '../src/index.js';
export { startLab, writeCredentials, CREDENTIALS_FILE, type Lab, type LabOptions } from './lab.js';
export { LAB_COMPONENTS, type LabComponent, type LabEnv, type LabStarted, type Started } from './components.js';
