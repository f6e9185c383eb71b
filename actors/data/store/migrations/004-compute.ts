import type { Migration } from '../migrations.js';

/**
 * Virtual machines, their capacity reservations, volumes, snapshots and SSH key pairs. VM sizing
 * (cpu_number, cpu_speed, memory) is copied from the offering at create/scale time so that a VM keeps
 * its size even if the offering changes, and so that list responses need no offering join for it.
 * account_id and domain_id are denormalised on every owned row: ownership scoping is then one indexed
 * column test, never a join.
 */
export const compute: Migration = {
  version: 4,
  name: 'compute',
  sql: `
CREATE TABLE vm_instance (
  id INTEGER PRIMARY KEY,
  uuid TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  display_name TEXT,
  instance_name TEXT NOT NULL,
  vm_type TEXT NOT NULL DEFAULT 'User',
  account_id INTEGER NOT NULL REFERENCES account(id),
  domain_id INTEGER NOT NULL REFERENCES domain(id),
  user_id INTEGER REFERENCES app_user(id),
  zone_id INTEGER NOT NULL REFERENCES zone(id),
  pod_id INTEGER REFERENCES pod(id),
  cluster_id INTEGER REFERENCES cluster(id),
  host_id INTEGER REFERENCES host(id),
  last_host_id INTEGER REFERENCES host(id),
  service_offering_id INTEGER NOT NULL REFERENCES service_offering(id),
  template_id INTEGER REFERENCES template(id),
  iso_id INTEGER REFERENCES template(id),
  disk_offering_id INTEGER REFERENCES disk_offering(id),
  os_type_id INTEGER REFERENCES os_type(id),
  hypervisor TEXT,
  state TEXT NOT NULL,
  power_state TEXT NOT NULL DEFAULT 'PowerUnknown',
  power_state_updated INTEGER,
  ha_enabled INTEGER NOT NULL DEFAULT 0,
  cpu_number INTEGER NOT NULL,
  cpu_speed INTEGER NOT NULL,
  memory INTEGER NOT NULL,
  group_name TEXT,
  keypair TEXT,
  password TEXT,
  user_data TEXT,
  details TEXT,
  is_dynamically_scalable INTEGER NOT NULL DEFAULT 0,
  update_count INTEGER NOT NULL DEFAULT 0,
  created INTEGER NOT NULL,
  removed INTEGER
) STRICT;
-- Partial indexes over live VMs: lists always filter on removed IS NULL, so counts are index-only.
CREATE INDEX vm_account ON vm_instance(account_id) WHERE removed IS NULL;
CREATE INDEX vm_domain ON vm_instance(domain_id) WHERE removed IS NULL;
CREATE INDEX vm_zone ON vm_instance(zone_id) WHERE removed IS NULL;
CREATE INDEX vm_pod ON vm_instance(pod_id) WHERE removed IS NULL;
CREATE INDEX vm_cluster ON vm_instance(cluster_id) WHERE removed IS NULL;
CREATE INDEX vm_host ON vm_instance(host_id) WHERE removed IS NULL;
CREATE INDEX vm_state ON vm_instance(state) WHERE removed IS NULL;
CREATE INDEX vm_name ON vm_instance(name) WHERE removed IS NULL;
CREATE INDEX vm_service_offering ON vm_instance(service_offering_id) WHERE removed IS NULL;
CREATE INDEX vm_template ON vm_instance(template_id) WHERE removed IS NULL;

-- A VM holds capacity on the host it runs on, and briefly on two hosts while it migrates.
-- Keyword search (substring, as CloudStack's LIKE '%kw%') through a trigram index instead of scanning
-- every VM: an external-content FTS5 table kept in step by triggers.
CREATE VIRTUAL TABLE vm_search USING fts5(name, display_name, content = 'vm_instance', content_rowid = 'id',
  tokenize = 'trigram', detail = 'none');
CREATE TRIGGER vm_search_insert AFTER INSERT ON vm_instance BEGIN
  INSERT INTO vm_search (rowid, name, display_name) VALUES (new.id, new.name, new.display_name);
END;
CREATE TRIGGER vm_search_delete AFTER DELETE ON vm_instance BEGIN
  INSERT INTO vm_search (vm_search, rowid, name, display_name) VALUES ('delete', old.id, old.name, old.display_name);
END;
CREATE TRIGGER vm_search_update AFTER UPDATE OF name, display_name ON vm_instance BEGIN
  INSERT INTO vm_search (vm_search, rowid, name, display_name) VALUES ('delete', old.id, old.name, old.display_name);
  INSERT INTO vm_search (rowid, name, display_name) VALUES (new.id, new.name, new.display_name);
END;

CREATE TABLE capacity_reservation (
  vm_id INTEGER NOT NULL REFERENCES vm_instance(id),
  host_id INTEGER NOT NULL REFERENCES host(id),
  cpu INTEGER NOT NULL,
  memory INTEGER NOT NULL,
  created INTEGER NOT NULL,
  PRIMARY KEY (vm_id, host_id)
) STRICT;
CREATE INDEX capacity_reservation_host ON capacity_reservation(host_id);

CREATE TABLE volume (
  id INTEGER PRIMARY KEY,
  uuid TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  volume_type TEXT NOT NULL CHECK (volume_type IN ('ROOT', 'DATADISK', 'SWAP', 'ISO', 'UNKNOWN')),
  account_id INTEGER NOT NULL REFERENCES account(id),
  domain_id INTEGER NOT NULL REFERENCES domain(id),
  zone_id INTEGER NOT NULL REFERENCES zone(id),
  pod_id INTEGER REFERENCES pod(id),
  pool_id INTEGER REFERENCES storage_pool(id),
  vm_id INTEGER REFERENCES vm_instance(id),
  device_id INTEGER,
  state TEXT NOT NULL,
  size INTEGER NOT NULL DEFAULT 0,
  min_iops INTEGER,
  max_iops INTEGER,
  disk_offering_id INTEGER REFERENCES disk_offering(id),
  template_id INTEGER REFERENCES template(id),
  snapshot_id INTEGER,
  provisioning_type TEXT NOT NULL DEFAULT 'thin',
  format TEXT,
  path TEXT,
  attached INTEGER,
  created INTEGER NOT NULL,
  removed INTEGER
) STRICT;
CREATE INDEX volume_account ON volume(account_id) WHERE removed IS NULL;
CREATE INDEX volume_domain ON volume(domain_id) WHERE removed IS NULL;
CREATE INDEX volume_zone ON volume(zone_id) WHERE removed IS NULL;
CREATE INDEX volume_vm ON volume(vm_id);
CREATE INDEX volume_pool ON volume(pool_id);
CREATE INDEX volume_state ON volume(state) WHERE removed IS NULL;
CREATE VIRTUAL TABLE volume_search USING fts5(name, content = 'volume', content_rowid = 'id', tokenize = 'trigram',
  detail = 'none');
CREATE TRIGGER volume_search_insert AFTER INSERT ON volume BEGIN
  INSERT INTO volume_search (rowid, name) VALUES (new.id, new.name);
END;
CREATE TRIGGER volume_search_delete AFTER DELETE ON volume BEGIN
  INSERT INTO volume_search (volume_search, rowid, name) VALUES ('delete', old.id, old.name);
END;
CREATE TRIGGER volume_search_update AFTER UPDATE OF name ON volume BEGIN
  INSERT INTO volume_search (volume_search, rowid, name) VALUES ('delete', old.id, old.name);
  INSERT INTO volume_search (rowid, name) VALUES (new.id, new.name);
END;
CREATE UNIQUE INDEX volume_vm_device ON volume(vm_id, device_id) WHERE vm_id IS NOT NULL AND device_id IS NOT NULL AND removed IS NULL;

CREATE TABLE snapshot (
  id INTEGER PRIMARY KEY,
  uuid TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  volume_id INTEGER NOT NULL REFERENCES volume(id),
  account_id INTEGER NOT NULL REFERENCES account(id),
  domain_id INTEGER NOT NULL REFERENCES domain(id),
  zone_id INTEGER NOT NULL REFERENCES zone(id),
  snapshot_type TEXT NOT NULL DEFAULT 'MANUAL',
  interval_type TEXT,
  state TEXT NOT NULL,
  physical_size INTEGER,
  virtual_size INTEGER,
  created INTEGER NOT NULL,
  removed INTEGER
) STRICT;
CREATE INDEX snapshot_account ON snapshot(account_id);
CREATE INDEX snapshot_domain ON snapshot(domain_id);
CREATE INDEX snapshot_volume ON snapshot(volume_id);

CREATE TABLE ssh_keypair (
  id INTEGER PRIMARY KEY,
  uuid TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  account_id INTEGER NOT NULL REFERENCES account(id),
  domain_id INTEGER NOT NULL REFERENCES domain(id),
  fingerprint TEXT NOT NULL,
  public_key TEXT NOT NULL,
  created INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX ssh_keypair_account_name ON ssh_keypair(account_id, name);
CREATE INDEX ssh_keypair_domain ON ssh_keypair(domain_id);
`,
  postgres: `
CREATE TABLE vm_instance (
  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  uuid TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  display_name TEXT,
  instance_name TEXT NOT NULL,
  vm_type TEXT NOT NULL DEFAULT 'User',
  account_id BIGINT NOT NULL REFERENCES account(id),
  domain_id BIGINT NOT NULL REFERENCES domain(id),
  user_id BIGINT REFERENCES app_user(id),
  zone_id BIGINT NOT NULL REFERENCES zone(id),
  pod_id BIGINT REFERENCES pod(id),
  cluster_id BIGINT REFERENCES cluster(id),
  host_id BIGINT REFERENCES host(id),
  last_host_id BIGINT REFERENCES host(id),
  service_offering_id BIGINT NOT NULL REFERENCES service_offering(id),
  template_id BIGINT REFERENCES template(id),
  iso_id BIGINT REFERENCES template(id),
  disk_offering_id BIGINT REFERENCES disk_offering(id),
  os_type_id BIGINT REFERENCES os_type(id),
  hypervisor TEXT,
  state TEXT NOT NULL,
  power_state TEXT NOT NULL DEFAULT 'PowerUnknown',
  power_state_updated BIGINT,
  ha_enabled BIGINT NOT NULL DEFAULT 0,
  cpu_number BIGINT NOT NULL,
  cpu_speed BIGINT NOT NULL,
  memory BIGINT NOT NULL,
  group_name TEXT,
  keypair TEXT,
  password TEXT,
  user_data TEXT,
  details TEXT,
  is_dynamically_scalable BIGINT NOT NULL DEFAULT 0,
  update_count BIGINT NOT NULL DEFAULT 0,
  created BIGINT NOT NULL,
  removed BIGINT
);
-- Partial indexes over live VMs: lists always filter on removed IS NULL, so counts are index-only.
CREATE INDEX vm_account ON vm_instance(account_id) WHERE removed IS NULL;
CREATE INDEX vm_domain ON vm_instance(domain_id) WHERE removed IS NULL;
CREATE INDEX vm_zone ON vm_instance(zone_id) WHERE removed IS NULL;
CREATE INDEX vm_pod ON vm_instance(pod_id) WHERE removed IS NULL;
CREATE INDEX vm_cluster ON vm_instance(cluster_id) WHERE removed IS NULL;
CREATE INDEX vm_host ON vm_instance(host_id) WHERE removed IS NULL;
CREATE INDEX vm_state ON vm_instance(state) WHERE removed IS NULL;
CREATE INDEX vm_name ON vm_instance(name) WHERE removed IS NULL;
CREATE INDEX vm_service_offering ON vm_instance(service_offering_id) WHERE removed IS NULL;
CREATE INDEX vm_template ON vm_instance(template_id) WHERE removed IS NULL;

-- Keyword search (substring, as CloudStack's LIKE '%kw%'). SQLite keeps vm_search, an external-content
-- FTS5 trigram table over (name, display_name) synchronised by three triggers; PostgreSQL needs neither
-- table nor triggers: keyword search is \`name ILIKE '%kw%' OR display_name ILIKE '%kw%'\` on vm_instance
-- itself, which these pg_trgm GIN indexes serve (keywords of 3+ characters, as with FTS5's trigrams).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX vm_name_trgm ON vm_instance USING gin (name gin_trgm_ops);
CREATE INDEX vm_display_name_trgm ON vm_instance USING gin (display_name gin_trgm_ops);

-- A VM holds capacity on the host it runs on, and briefly on two hosts while it migrates.
CREATE TABLE capacity_reservation (
  vm_id BIGINT NOT NULL REFERENCES vm_instance(id),
  host_id BIGINT NOT NULL REFERENCES host(id),
  cpu BIGINT NOT NULL,
  memory BIGINT NOT NULL,
  created BIGINT NOT NULL,
  PRIMARY KEY (vm_id, host_id)
);
CREATE INDEX capacity_reservation_host ON capacity_reservation(host_id);

CREATE TABLE volume (
  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  uuid TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  volume_type TEXT NOT NULL CHECK (volume_type IN ('ROOT', 'DATADISK', 'SWAP', 'ISO', 'UNKNOWN')),
  account_id BIGINT NOT NULL REFERENCES account(id),
  domain_id BIGINT NOT NULL REFERENCES domain(id),
  zone_id BIGINT NOT NULL REFERENCES zone(id),
  pod_id BIGINT REFERENCES pod(id),
  pool_id BIGINT REFERENCES storage_pool(id),
  vm_id BIGINT REFERENCES vm_instance(id),
  device_id BIGINT,
  state TEXT NOT NULL,
  size BIGINT NOT NULL DEFAULT 0,
  min_iops BIGINT,
  max_iops BIGINT,
  disk_offering_id BIGINT REFERENCES disk_offering(id),
  template_id BIGINT REFERENCES template(id),
  snapshot_id BIGINT,
  provisioning_type TEXT NOT NULL DEFAULT 'thin',
  format TEXT,
  path TEXT,
  attached BIGINT,
  created BIGINT NOT NULL,
  removed BIGINT
);
CREATE INDEX volume_account ON volume(account_id) WHERE removed IS NULL;
CREATE INDEX volume_domain ON volume(domain_id) WHERE removed IS NULL;
CREATE INDEX volume_zone ON volume(zone_id) WHERE removed IS NULL;
CREATE INDEX volume_vm ON volume(vm_id);
CREATE INDEX volume_pool ON volume(pool_id);
CREATE INDEX volume_state ON volume(state) WHERE removed IS NULL;
-- Keyword search on volumes: SQLite's volume_search (FTS5 trigram over name, kept by triggers) becomes
-- \`name ILIKE '%kw%'\` served by this trigram index.
CREATE INDEX volume_name_trgm ON volume USING gin (name gin_trgm_ops);
CREATE UNIQUE INDEX volume_vm_device ON volume(vm_id, device_id) WHERE vm_id IS NOT NULL AND device_id IS NOT NULL AND removed IS NULL;

CREATE TABLE snapshot (
  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  uuid TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  volume_id BIGINT NOT NULL REFERENCES volume(id),
  account_id BIGINT NOT NULL REFERENCES account(id),
  domain_id BIGINT NOT NULL REFERENCES domain(id),
  zone_id BIGINT NOT NULL REFERENCES zone(id),
  snapshot_type TEXT NOT NULL DEFAULT 'MANUAL',
  interval_type TEXT,
  state TEXT NOT NULL,
  physical_size BIGINT,
  virtual_size BIGINT,
  created BIGINT NOT NULL,
  removed BIGINT
);
CREATE INDEX snapshot_account ON snapshot(account_id);
CREATE INDEX snapshot_domain ON snapshot(domain_id);
CREATE INDEX snapshot_volume ON snapshot(volume_id);

CREATE TABLE ssh_keypair (
  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  uuid TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  account_id BIGINT NOT NULL REFERENCES account(id),
  domain_id BIGINT NOT NULL REFERENCES domain(id),
  fingerprint TEXT NOT NULL,
  public_key TEXT NOT NULL,
  created BIGINT NOT NULL
);
CREATE UNIQUE INDEX ssh_keypair_account_name ON ssh_keypair(account_id, name);
CREATE INDEX ssh_keypair_domain ON ssh_keypair(domain_id);
`,
};
