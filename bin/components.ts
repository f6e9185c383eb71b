/**
 * The one table of components. Every node — the all-in-one lab, `--role=management`, a process running
 * one component, a compute host — starts the components it was asked for from this table, in this
 * order (each after what it depends on), and stops them in reverse.
 */
import type { AnyComponent } from '../src/component.js';
import { apiComponent } from '../actors/api/component.js';
import { computeComponent } from '../actors/compute/component.js';
import { dataComponent } from '../actors/data/component.js';
import { echoComponent } from '../actors/echo/component.js';
import { fabricAdminComponent } from '../actors/fabric-admin/component.js';
import { fabricMonitorComponent } from '../actors/fabric-monitor/component.js';
import { launcherComponent } from '../actors/launcher/component.js';
import { networkComponent } from '../actors/network/component.js';
import { orchestratorComponent } from '../actors/orchestrator/component.js';
import { serviceFrameworkComponent } from '../actors/service-framework/component.js';
import { storageComponent } from '../actors/storage/component.js';

/** In dependency order: data first, the API last (it takes requests only once what it calls is up). */
export const COMPONENT_TABLE: readonly AnyComponent[] = [
  dataComponent, networkComponent, storageComponent, orchestratorComponent, computeComponent, fabricMonitorComponent,
  fabricAdminComponent, apiComponent, serviceFrameworkComponent, echoComponent, launcherComponent,
];

/** Components that are not part of the cloud itself: diagnostics, and the machinery that runs the others. */
const OUTSIDE_CLOUD = ['echo', 'launcher', 'service-framework'];
const CLOUD = COMPONENT_TABLE.map((c) => c.name).filter((n) => !OUTSIDE_CLOUD.includes(n));

/** Named sets of roles: `all` is the whole cloud; `management` is every component but compute. */
export const ROLE_SETS: Readonly<Record<string, readonly string[]>> = {
  all: CLOUD,
  management: CLOUD.filter((n) => n !== 'compute'),
  compute: ['compute'],
};

export const COMPONENT_NAMES: readonly string[] = COMPONENT_TABLE.map((c) => c.name);

export function componentNamed(name: string): AnyComponent | undefined {
  return COMPONENT_TABLE.find((c) => c.name === name);
}

/** The roles in table order, without duplicates. */
export function inStartOrder(roles: readonly string[]): string[] {
  return COMPONENT_NAMES.filter((n) => roles.includes(n));
}

/** The services these roles provide. */
export function servicesOf(roles: readonly string[]): string[] {
  return roles.flatMap((r) => componentNamed(r)?.provides.map((p) => p.name) ?? []);
}
