import type { Migration } from '../migrations.js';

/**
 * The service framework's desired deployment: one row per component (how many instances, within which
 * bounds, placed where, scaled on what). Its alerts (a component that keeps crashing) go in the alert
 * table of migration 10, beside the hosts' alerts.
 * The instances themselves are not stored: the launchers report what runs, which a new acting
 * framework adopts as it finds it.
 */
export const componentServices: Migration = {
  version: 11,
  name: 'component services',
  sql: `
CREATE TABLE component_service (
  name TEXT PRIMARY KEY,
  min_instances INTEGER NOT NULL,
  max_instances INTEGER NOT NULL,
  desired INTEGER NOT NULL,
  fixed INTEGER NOT NULL DEFAULT 0,
  labels TEXT NOT NULL DEFAULT '[]',
  spread INTEGER NOT NULL DEFAULT 1,
  args TEXT NOT NULL DEFAULT '[]',
  policy TEXT,
  state TEXT NOT NULL DEFAULT 'Enabled',
  reason TEXT,
  updated INTEGER NOT NULL,
  CHECK (min_instances >= 0 AND max_instances >= min_instances AND desired >= min_instances AND desired <= max_instances)
) STRICT;
`,
  postgres: `
CREATE TABLE component_service (
  name TEXT PRIMARY KEY,
  min_instances BIGINT NOT NULL,
  max_instances BIGINT NOT NULL,
  desired BIGINT NOT NULL,
  fixed BIGINT NOT NULL DEFAULT 0,
  labels TEXT NOT NULL DEFAULT '[]',
  spread BIGINT NOT NULL DEFAULT 1,
  args TEXT NOT NULL DEFAULT '[]',
  policy TEXT,
  state TEXT NOT NULL DEFAULT 'Enabled',
  reason TEXT,
  updated BIGINT NOT NULL,
  CHECK (min_instances >= 0 AND max_instances >= min_instances AND desired >= min_instances AND desired <= max_instances)
);
`,
};
