import type { Migration } from '../migrations.js';

/**
 * The physical hierarchy: zone → pod → cluster → host, primary storage pools and image stores.
 * Host and pool capacity is kept on the row (`cpu_allocated`, `mem_allocated`, `allocated_bytes`) so a
 * reservation is one compare-and-add UPDATE (capacity_reservation, in the compute migration, remembers
 * which VM holds what so that release is exact and idempotent).
 */
export const infrastructure: Migration = {
  version: 2,
  name: 'infrastructure',
  sql: `
CREATE TABLE zone (
  id INTEGER PRIMARY KEY,
  uuid TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  description TEXT,
  dns1 TEXT, dns2 TEXT, internaldns1 TEXT, internaldns2 TEXT, ip6dns1 TEXT, ip6dns2 TEXT,
  guest_cidr TEXT,
  network_type TEXT NOT NULL CHECK (network_type IN ('Basic', 'Advanced')),
  security_groups_enabled INTEGER NOT NULL DEFAULT 0,
  allocation_state TEXT NOT NULL DEFAULT 'Disabled' CHECK (allocation_state IN ('Enabled', 'Disabled')),
  local_storage_enabled INTEGER NOT NULL DEFAULT 0,
  domain_id INTEGER REFERENCES domain(id),
  zone_token TEXT,
  dhcp_provider TEXT,
  network_domain TEXT,
  type TEXT NOT NULL DEFAULT 'Core' CHECK (type IN ('Core', 'Edge')),
  created INTEGER NOT NULL,
  removed INTEGER
) STRICT;
CREATE UNIQUE INDEX zone_name ON zone(name) WHERE removed IS NULL;

CREATE TABLE pod (
  id INTEGER PRIMARY KEY,
  uuid TEXT NOT NULL UNIQUE,
  zone_id INTEGER NOT NULL REFERENCES zone(id),
  name TEXT NOT NULL,
  gateway TEXT, netmask TEXT, start_ip TEXT, end_ip TEXT,
  allocation_state TEXT NOT NULL DEFAULT 'Enabled' CHECK (allocation_state IN ('Enabled', 'Disabled')),
  created INTEGER NOT NULL,
  removed INTEGER
) STRICT;
CREATE UNIQUE INDEX pod_zone_name ON pod(zone_id, name) WHERE removed IS NULL;

CREATE TABLE cluster (
  id INTEGER PRIMARY KEY,
  uuid TEXT NOT NULL UNIQUE,
  zone_id INTEGER NOT NULL REFERENCES zone(id),
  pod_id INTEGER NOT NULL REFERENCES pod(id),
  name TEXT NOT NULL,
  hypervisor TEXT NOT NULL,
  cluster_type TEXT NOT NULL DEFAULT 'CloudManaged' CHECK (cluster_type IN ('CloudManaged', 'ExternalManaged')),
  allocation_state TEXT NOT NULL DEFAULT 'Enabled' CHECK (allocation_state IN ('Enabled', 'Disabled')),
  managed_state TEXT NOT NULL DEFAULT 'Managed',
  created INTEGER NOT NULL,
  removed INTEGER
) STRICT;
CREATE INDEX cluster_pod ON cluster(pod_id);
CREATE INDEX cluster_zone ON cluster(zone_id);

CREATE TABLE host (
  id INTEGER PRIMARY KEY,
  uuid TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  type TEXT NOT NULL DEFAULT 'Routing',
  zone_id INTEGER NOT NULL REFERENCES zone(id),
  pod_id INTEGER REFERENCES pod(id),
  cluster_id INTEGER REFERENCES cluster(id),
  state TEXT NOT NULL,
  resource_state TEXT NOT NULL,
  ip_address TEXT,
  url TEXT,
  hypervisor TEXT,
  hypervisor_version TEXT,
  version TEXT,
  cpu_cores INTEGER NOT NULL DEFAULT 0,
  cpu_speed INTEGER NOT NULL DEFAULT 0,
  cpu_sockets INTEGER NOT NULL DEFAULT 1,
  memory INTEGER NOT NULL DEFAULT 0,
  cpu_allocated INTEGER NOT NULL DEFAULT 0 CHECK (cpu_allocated >= 0),
  mem_allocated INTEGER NOT NULL DEFAULT 0 CHECK (mem_allocated >= 0),
  cpu_used REAL,
  mem_used INTEGER,
  host_tags TEXT,
  capabilities TEXT,
  last_pinged INTEGER,
  mgmt_server_id TEXT,
  disconnected INTEGER,
  ha_host INTEGER NOT NULL DEFAULT 0,
  local_storage_active INTEGER NOT NULL DEFAULT 0,
  created INTEGER NOT NULL,
  removed INTEGER
) STRICT;
CREATE INDEX host_zone ON host(zone_id);
CREATE INDEX host_pod ON host(pod_id);
CREATE INDEX host_cluster ON host(cluster_id);
CREATE INDEX host_state ON host(state, resource_state);
CREATE INDEX host_name ON host(name);

CREATE TABLE storage_pool (
  id INTEGER PRIMARY KEY,
  uuid TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  zone_id INTEGER NOT NULL REFERENCES zone(id),
  pod_id INTEGER REFERENCES pod(id),
  cluster_id INTEGER REFERENCES cluster(id),
  scope TEXT NOT NULL DEFAULT 'CLUSTER' CHECK (scope IN ('CLUSTER', 'ZONE', 'HOST')),
  type TEXT NOT NULL DEFAULT 'NetworkFilesystem',
  state TEXT NOT NULL DEFAULT 'Up',
  url TEXT,
  ip_address TEXT,
  path TEXT,
  hypervisor TEXT,
  capacity_bytes INTEGER NOT NULL DEFAULT 0,
  allocated_bytes INTEGER NOT NULL DEFAULT 0 CHECK (allocated_bytes >= 0),
  used_bytes INTEGER NOT NULL DEFAULT 0,
  tags TEXT,
  created INTEGER NOT NULL,
  removed INTEGER
) STRICT;
CREATE INDEX pool_zone ON storage_pool(zone_id);
CREATE INDEX pool_cluster ON storage_pool(cluster_id);

CREATE TABLE image_store (
  id INTEGER PRIMARY KEY,
  uuid TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  zone_id INTEGER REFERENCES zone(id),
  url TEXT,
  protocol TEXT,
  provider TEXT NOT NULL DEFAULT 'NFS',
  scope TEXT NOT NULL DEFAULT 'ZONE',
  readonly INTEGER NOT NULL DEFAULT 0,
  capacity_bytes INTEGER,
  used_bytes INTEGER,
  created INTEGER NOT NULL,
  removed INTEGER
) STRICT;
CREATE INDEX image_store_zone ON image_store(zone_id);
`,
};
