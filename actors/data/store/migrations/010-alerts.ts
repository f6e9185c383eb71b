import type { Migration } from '../migrations.js';

/**
 * CloudStack's alert table: what needs an administrator's attention (a host gone Down or into Alert),
 * with its AlertManager type number, kept until an administrator archives or deletes it. Events can be
 * archived too (archiveEvents): they stay, but listEvents no longer shows them.
 *
 * List filters on text compare case-insensitively (as MySQL's default collation, which clients rely
 * on): the indexes those filters used get NOCASE twins, so that they keep serving.
 */
export const alerts: Migration = {
  version: 10,
  name: 'alerts and archived events',
  sql: `
CREATE TABLE alert (
  id INTEGER PRIMARY KEY,
  uuid TEXT NOT NULL UNIQUE,
  type INTEGER NOT NULL,
  name TEXT NOT NULL,
  subject TEXT NOT NULL,
  zone_id INTEGER REFERENCES zone(id),
  pod_id INTEGER REFERENCES pod(id),
  cluster_id INTEGER REFERENCES cluster(id),
  archived INTEGER NOT NULL DEFAULT 0,
  created INTEGER NOT NULL
) STRICT;
CREATE INDEX alert_type ON alert(type);
ALTER TABLE event ADD COLUMN archived INTEGER NOT NULL DEFAULT 0;
CREATE INDEX vm_state_nocase ON vm_instance(state COLLATE NOCASE) WHERE removed IS NULL;
CREATE INDEX vm_name_nocase ON vm_instance(name COLLATE NOCASE) WHERE removed IS NULL;
CREATE INDEX volume_state_nocase ON volume(state COLLATE NOCASE) WHERE removed IS NULL;
CREATE INDEX host_state_nocase ON host(state COLLATE NOCASE, resource_state);
CREATE INDEX host_name_nocase ON host(name COLLATE NOCASE);
CREATE INDEX event_type_nocase ON event(type COLLATE NOCASE);
`,
};
