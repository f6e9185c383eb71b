import type { Migration } from '../migrations.js';
import { identity } from './001-identity.js';
import { infrastructure } from './002-infrastructure.js';
import { catalog } from './003-catalog.js';
import { compute } from './004-compute.js';
import { network } from './005-network.js';
import { operations } from './006-operations.js';
import { orchestration } from './007-orchestration.js';
import { leases } from './008-leases.js';
import { clientResources } from './009-client-resources.js';
import { alerts } from './010-alerts.js';
import { componentServices } from './011-component-services.js';
import { resourceLimits } from './012-resource-limits.js';
import { listPaging } from './013-list-paging.js';

/**
 * Every schema migration, in order. Append new ones at the end with the next version number; never edit
 * one that has shipped (a deployed database has already run it).
 */
export const MIGRATIONS: readonly Migration[] = [identity, infrastructure, catalog, compute, network, operations,
  orchestration, leases, clientResources, alerts, componentServices, resourceLimits, listPaging];
