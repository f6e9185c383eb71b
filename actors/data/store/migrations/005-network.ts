import type { Migration } from '../migrations.js';

/**
 * Guest networks, NICs, the zone's VLAN/VNI pool, IP ranges and public IP addresses.
 * Double allocation is made impossible by the schema itself, not only by the code: a VNI belongs to at
 * most one network (one row per VNI), a public address is one row per (zone, address), and a guest
 * address is unique per network (nic_network_ip).
 */
export const network: Migration = {
  version: 5,
  name: 'network',
  sql: `
CREATE TABLE network (
  id INTEGER PRIMARY KEY,
  uuid TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  display_text TEXT,
  zone_id INTEGER NOT NULL REFERENCES zone(id),
  network_offering_id INTEGER NOT NULL REFERENCES network_offering(id),
  account_id INTEGER NOT NULL REFERENCES account(id),
  domain_id INTEGER NOT NULL REFERENCES domain(id),
  acl_type TEXT NOT NULL DEFAULT 'Account' CHECK (acl_type IN ('Account', 'Domain')),
  traffic_type TEXT NOT NULL DEFAULT 'Guest',
  guest_type TEXT NOT NULL CHECK (guest_type IN ('Isolated', 'Shared', 'L2')),
  broadcast_domain_type TEXT NOT NULL DEFAULT 'Vlan',
  broadcast_uri TEXT,
  vlan TEXT,
  gateway TEXT,
  cidr TEXT,
  netmask TEXT,
  dns1 TEXT,
  dns2 TEXT,
  network_domain TEXT,
  state TEXT NOT NULL,
  is_system INTEGER NOT NULL DEFAULT 0,
  specify_ip_ranges INTEGER NOT NULL DEFAULT 0,
  restart_required INTEGER NOT NULL DEFAULT 0,
  is_persistent INTEGER NOT NULL DEFAULT 0,
  subdomain_access INTEGER,
  created INTEGER NOT NULL,
  removed INTEGER
) STRICT;
CREATE INDEX network_account ON network(account_id);
CREATE INDEX network_domain ON network(domain_id);
CREATE INDEX network_zone ON network(zone_id);

CREATE TABLE nic (
  id INTEGER PRIMARY KEY,
  uuid TEXT NOT NULL UNIQUE,
  vm_id INTEGER NOT NULL REFERENCES vm_instance(id),
  network_id INTEGER NOT NULL REFERENCES network(id),
  ip_address TEXT,
  ip_num INTEGER,
  netmask TEXT,
  gateway TEXT,
  mac_address TEXT,
  isolation_uri TEXT,
  broadcast_uri TEXT,
  traffic_type TEXT NOT NULL DEFAULT 'Guest',
  is_default INTEGER NOT NULL DEFAULT 0,
  device_id INTEGER NOT NULL DEFAULT 0,
  ip6_address TEXT,
  state TEXT NOT NULL DEFAULT 'Allocated' CHECK (state IN ('Allocated', 'Reserving', 'Reserved', 'Releasing', 'Deallocating')),
  created INTEGER NOT NULL,
  removed INTEGER
) STRICT;
CREATE INDEX nic_vm ON nic(vm_id);
CREATE INDEX nic_network ON nic(network_id);
CREATE UNIQUE INDEX nic_network_ip ON nic(network_id, ip_num) WHERE ip_num IS NOT NULL AND removed IS NULL;
CREATE UNIQUE INDEX nic_mac ON nic(mac_address) WHERE mac_address IS NOT NULL AND removed IS NULL;

CREATE TABLE vnet (
  id INTEGER PRIMARY KEY,
  zone_id INTEGER NOT NULL REFERENCES zone(id),
  vnet INTEGER NOT NULL,
  network_id INTEGER REFERENCES network(id),
  account_id INTEGER REFERENCES account(id),
  taken INTEGER,
  UNIQUE (zone_id, vnet)
) STRICT;
CREATE INDEX vnet_free ON vnet(zone_id, network_id, vnet);
CREATE UNIQUE INDEX vnet_network ON vnet(network_id) WHERE network_id IS NOT NULL;

CREATE TABLE ip_range (
  id INTEGER PRIMARY KEY,
  uuid TEXT NOT NULL UNIQUE,
  zone_id INTEGER NOT NULL REFERENCES zone(id),
  pod_id INTEGER REFERENCES pod(id),
  network_id INTEGER REFERENCES network(id),
  account_id INTEGER REFERENCES account(id),
  domain_id INTEGER REFERENCES domain(id),
  vlan TEXT NOT NULL DEFAULT 'untagged',
  gateway TEXT NOT NULL,
  netmask TEXT NOT NULL,
  start_ip TEXT NOT NULL,
  end_ip TEXT NOT NULL,
  for_virtual_network INTEGER NOT NULL DEFAULT 1,
  created INTEGER NOT NULL,
  removed INTEGER
) STRICT;
CREATE INDEX ip_range_zone ON ip_range(zone_id);

CREATE TABLE ip_address (
  id INTEGER PRIMARY KEY,
  uuid TEXT NOT NULL UNIQUE,
  zone_id INTEGER NOT NULL REFERENCES zone(id),
  range_id INTEGER NOT NULL REFERENCES ip_range(id),
  address TEXT NOT NULL,
  address_num INTEGER NOT NULL,
  state TEXT NOT NULL DEFAULT 'Free' CHECK (state IN ('Free', 'Allocating', 'Allocated', 'Releasing', 'Reserved')),
  account_id INTEGER REFERENCES account(id),
  domain_id INTEGER REFERENCES domain(id),
  network_id INTEGER REFERENCES network(id),
  vm_id INTEGER REFERENCES vm_instance(id),
  vm_ip TEXT,
  source_nat INTEGER NOT NULL DEFAULT 0,
  static_nat INTEGER NOT NULL DEFAULT 0,
  is_system INTEGER NOT NULL DEFAULT 0,
  purpose TEXT,
  allocated INTEGER,
  created INTEGER NOT NULL,
  UNIQUE (zone_id, address)
) STRICT;
CREATE INDEX ip_address_free ON ip_address(range_id, state, address_num);
CREATE INDEX ip_address_zone_state ON ip_address(zone_id, state);
CREATE INDEX ip_address_account ON ip_address(account_id);
CREATE INDEX ip_address_network ON ip_address(network_id);
CREATE INDEX ip_address_vm ON ip_address(vm_id) WHERE vm_id IS NOT NULL;
`,
};
