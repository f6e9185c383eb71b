import type { Migration } from '../migrations.js';

/**
 * Operational records: async jobs (with the orchestrator's durable progress), events, simulator mock
 * configurations, resource tags and global configuration values.
 */
export const operations: Migration = {
  version: 6,
  name: 'operations',
  sql: `
CREATE TABLE async_job (
  id INTEGER PRIMARY KEY,
  uuid TEXT NOT NULL UNIQUE,
  account_id INTEGER NOT NULL REFERENCES account(id),
  domain_id INTEGER NOT NULL REFERENCES domain(id),
  user_id INTEGER REFERENCES app_user(id),
  cmd TEXT NOT NULL,
  cmd_info TEXT,
  status INTEGER NOT NULL DEFAULT 0 CHECK (status IN (0, 1, 2, 3)),
  process_status INTEGER NOT NULL DEFAULT 0,
  result_code INTEGER NOT NULL DEFAULT 0,
  result_type TEXT NOT NULL DEFAULT 'object',
  result TEXT,
  instance_type TEXT,
  instance_uuid TEXT,
  progress TEXT,
  idempotency_key TEXT,
  owner_node TEXT,
  created INTEGER NOT NULL,
  last_updated INTEGER NOT NULL,
  completed INTEGER
) STRICT;
CREATE INDEX async_job_status ON async_job(status);
CREATE INDEX async_job_account ON async_job(account_id);
CREATE INDEX async_job_domain ON async_job(domain_id);
CREATE INDEX async_job_instance ON async_job(instance_type, instance_uuid);
CREATE UNIQUE INDEX async_job_idempotency ON async_job(idempotency_key) WHERE idempotency_key IS NOT NULL;

CREATE TABLE event (
  id INTEGER PRIMARY KEY,
  uuid TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  level TEXT NOT NULL DEFAULT 'INFO' CHECK (level IN ('INFO', 'WARN', 'ERROR')),
  state TEXT NOT NULL DEFAULT 'Completed' CHECK (state IN ('Created', 'Scheduled', 'Started', 'Completed')),
  description TEXT NOT NULL,
  account_id INTEGER NOT NULL REFERENCES account(id),
  domain_id INTEGER NOT NULL REFERENCES domain(id),
  user_id INTEGER REFERENCES app_user(id),
  resource_type TEXT,
  resource_uuid TEXT,
  parent_uuid TEXT,
  created INTEGER NOT NULL
) STRICT;
CREATE INDEX event_account ON event(account_id);
CREATE INDEX event_domain ON event(domain_id);
CREATE INDEX event_type ON event(type);
CREATE INDEX event_resource ON event(resource_uuid);

CREATE TABLE simulator_mock (
  id INTEGER PRIMARY KEY,
  uuid TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  value TEXT NOT NULL DEFAULT '',
  count INTEGER,
  zone_id INTEGER REFERENCES zone(id),
  pod_id INTEGER REFERENCES pod(id),
  cluster_id INTEGER REFERENCES cluster(id),
  host_id INTEGER REFERENCES host(id),
  json_response TEXT,
  created INTEGER NOT NULL,
  removed INTEGER
) STRICT;
CREATE INDEX simulator_mock_name ON simulator_mock(name);

CREATE TABLE resource_tag (
  id INTEGER PRIMARY KEY,
  uuid TEXT NOT NULL UNIQUE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  resource_type TEXT NOT NULL,
  resource_id INTEGER NOT NULL,
  resource_uuid TEXT NOT NULL,
  account_id INTEGER REFERENCES account(id),
  domain_id INTEGER REFERENCES domain(id),
  customer TEXT,
  created INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX resource_tag_key ON resource_tag(resource_type, resource_id, key);
CREATE INDEX resource_tag_account ON resource_tag(account_id);

CREATE TABLE configuration (
  name TEXT PRIMARY KEY,
  value TEXT,
  default_value TEXT,
  category TEXT NOT NULL DEFAULT 'Advanced',
  description TEXT,
  updated INTEGER
) STRICT;
`,
};
