import type { Migration } from '../migrations.js';

/**
 * The catalog: service, disk and network offerings, OS types, templates and ISOs. A template's
 * availability is per zone (template_zone), as in CloudStack where listTemplates returns one entry per
 * (template, zone) with that zone's download status.
 */
export const catalog: Migration = {
  version: 3,
  name: 'catalog',
  sql: `
CREATE TABLE service_offering (
  id INTEGER PRIMARY KEY,
  uuid TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  display_text TEXT,
  cpu_number INTEGER,
  cpu_speed INTEGER,
  memory INTEGER,
  offer_ha INTEGER NOT NULL DEFAULT 0,
  limit_cpu_use INTEGER NOT NULL DEFAULT 0,
  is_volatile INTEGER NOT NULL DEFAULT 0,
  storage_type TEXT NOT NULL DEFAULT 'shared' CHECK (storage_type IN ('shared', 'local')),
  tags TEXT,
  host_tags TEXT,
  is_system INTEGER NOT NULL DEFAULT 0,
  system_vm_type TEXT,
  default_use INTEGER NOT NULL DEFAULT 0,
  is_customized INTEGER NOT NULL DEFAULT 0,
  domain_id INTEGER REFERENCES domain(id),
  network_rate INTEGER,
  root_disk_size INTEGER,
  state TEXT NOT NULL DEFAULT 'Active',
  created INTEGER NOT NULL,
  removed INTEGER
) STRICT;

CREATE TABLE disk_offering (
  id INTEGER PRIMARY KEY,
  uuid TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  display_text TEXT,
  disk_size INTEGER NOT NULL DEFAULT 0,
  is_customized INTEGER NOT NULL DEFAULT 0,
  storage_type TEXT NOT NULL DEFAULT 'shared' CHECK (storage_type IN ('shared', 'local')),
  tags TEXT,
  provisioning_type TEXT NOT NULL DEFAULT 'thin',
  min_iops INTEGER,
  max_iops INTEGER,
  domain_id INTEGER REFERENCES domain(id),
  state TEXT NOT NULL DEFAULT 'Active',
  created INTEGER NOT NULL,
  removed INTEGER
) STRICT;

CREATE TABLE network_offering (
  id INTEGER PRIMARY KEY,
  uuid TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL UNIQUE,
  display_text TEXT,
  traffic_type TEXT NOT NULL DEFAULT 'Guest',
  guest_ip_type TEXT NOT NULL CHECK (guest_ip_type IN ('Isolated', 'Shared', 'L2')),
  is_default INTEGER NOT NULL DEFAULT 0,
  specify_vlan INTEGER NOT NULL DEFAULT 0,
  conserve_mode INTEGER NOT NULL DEFAULT 1,
  specify_ip_ranges INTEGER NOT NULL DEFAULT 0,
  availability TEXT NOT NULL DEFAULT 'Optional',
  state TEXT NOT NULL DEFAULT 'Enabled' CHECK (state IN ('Enabled', 'Disabled')),
  services TEXT NOT NULL DEFAULT '[]',
  for_vpc INTEGER NOT NULL DEFAULT 0,
  is_persistent INTEGER NOT NULL DEFAULT 0,
  egress_default_policy INTEGER NOT NULL DEFAULT 0,
  service_offering_id INTEGER REFERENCES service_offering(id),
  network_rate INTEGER,
  created INTEGER NOT NULL,
  removed INTEGER
) STRICT;

CREATE TABLE os_type (
  id INTEGER PRIMARY KEY,
  uuid TEXT NOT NULL UNIQUE,
  description TEXT NOT NULL UNIQUE,
  category TEXT NOT NULL,
  is_user_defined INTEGER NOT NULL DEFAULT 0,
  created INTEGER NOT NULL
) STRICT;

CREATE TABLE template (
  id INTEGER PRIMARY KEY,
  uuid TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  display_text TEXT,
  is_iso INTEGER NOT NULL DEFAULT 0,
  format TEXT NOT NULL,
  template_type TEXT NOT NULL DEFAULT 'USER',
  hypervisor TEXT,
  os_type_id INTEGER REFERENCES os_type(id),
  account_id INTEGER NOT NULL REFERENCES account(id),
  domain_id INTEGER NOT NULL REFERENCES domain(id),
  is_public INTEGER NOT NULL DEFAULT 0,
  is_featured INTEGER NOT NULL DEFAULT 0,
  is_extractable INTEGER NOT NULL DEFAULT 0,
  password_enabled INTEGER NOT NULL DEFAULT 0,
  sshkey_enabled INTEGER NOT NULL DEFAULT 0,
  cross_zones INTEGER NOT NULL DEFAULT 0,
  bootable INTEGER NOT NULL DEFAULT 1,
  requires_hvm INTEGER NOT NULL DEFAULT 1,
  is_dynamically_scalable INTEGER NOT NULL DEFAULT 0,
  size INTEGER,
  url TEXT,
  checksum TEXT,
  details TEXT,
  created INTEGER NOT NULL,
  removed INTEGER
) STRICT;
CREATE INDEX template_account ON template(account_id);

CREATE TABLE template_zone (
  template_id INTEGER NOT NULL REFERENCES template(id),
  zone_id INTEGER NOT NULL REFERENCES zone(id),
  status TEXT,
  is_ready INTEGER NOT NULL DEFAULT 0,
  download_state TEXT NOT NULL DEFAULT 'NOT_DOWNLOADED',
  physical_size INTEGER,
  created INTEGER NOT NULL,
  PRIMARY KEY (template_id, zone_id)
) STRICT;
CREATE INDEX template_zone_zone ON template_zone(zone_id);
`,
};
