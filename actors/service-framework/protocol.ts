import { ask, defineProtocol } from '../../src/protocol.js';
import { t } from '../../src/schema.js';
import type { ComponentService } from '../data/protocol.js';
import type { InstanceInfo } from '../launcher/protocol.js';

/** One component service as the acting framework sees it: wanted, running, restarted. */
export interface ServiceView extends ComponentService {
  running: number;
  starting: number;
  restarts: number;
}

export interface InstanceView extends InstanceInfo {
  node: string;
}

export interface FrameworkStatus {
  /** The node of the acting instance, and its lease epoch. */
  acting: string;
  epoch: number;
  services: ServiceView[];
  instances: InstanceView[];
  launchers: { node: string; labels: string[]; capacity: number; free: number }[];
  counters: { launches: number; restarts: number; stops: number; scaleChanges: number; crashLoops: number; rounds: number };
}

/** The service framework, as published by its acting instance only. */
export const ServiceFrameworkProtocol = defineProtocol('service-framework', '1.0', {
  /** What is wanted and what runs, from the last round (status, listComponentServiceInstances). */
  status: ask(t.object({}), t.type<FrameworkStatus>()),
  /** Runs a round now (after a change of the deployment) and answers when it is done. */
  reconcile: ask(t.object({}), t.type<FrameworkStatus>()),
});

export const SERVICE_FRAMEWORK_PATH = '/service-framework';
