import type { Migration } from '../migrations.js';

/**
 * What lets several instances of a component share one cloud:
 * - `lease`: who owns a piece of work (a job, the acting fabric monitor...) until when, with a fencing
 *   epoch. Epochs come from one counter (`lease_epoch`), so a later grant anywhere carries a higher
 *   epoch than every earlier one: an agent that has seen epoch N for a VM can refuse anything older.
 * - `async_job.sync_key`: the object a job works on (a VM, a volume). Jobs of one key run one at a
 *   time, oldest first, whichever orchestrator owns them (CloudStack's per-object sync queue).
 * - `api_session`: login sessions, so that a session made on one API instance is valid on every other
 *   and a logout anywhere ends it everywhere.
 */
export const leases: Migration = {
  version: 8,
  name: 'leases',
  sql: `
CREATE TABLE lease (
  name TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  epoch INTEGER NOT NULL,
  expires INTEGER NOT NULL,
  acquired INTEGER NOT NULL
) STRICT;
CREATE INDEX lease_expires ON lease(expires);
CREATE TABLE lease_epoch (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  value INTEGER NOT NULL
) STRICT;
INSERT INTO lease_epoch (id, value) VALUES (1, 0);

ALTER TABLE async_job ADD COLUMN sync_key TEXT;
CREATE INDEX async_job_sync ON async_job(sync_key, id) WHERE status = 0;

CREATE TABLE api_session (
  id TEXT PRIMARY KEY,
  session_key TEXT NOT NULL,
  user_uuid TEXT NOT NULL,
  username TEXT NOT NULL,
  caller TEXT NOT NULL,
  created INTEGER NOT NULL,
  last_used INTEGER NOT NULL
) STRICT;
CREATE INDEX api_session_last_used ON api_session(last_used);
`,
};
