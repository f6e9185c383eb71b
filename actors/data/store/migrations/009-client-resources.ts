import type { Migration } from '../migrations.js';

/**
 * What the automation clients (Ansible's cloudstack modules, CloudMonkey, SDK users) manage beyond the
 * core: registered user data, instance groups, affinity groups, snapshot policies, and the network
 * rules on public addresses (firewall, egress firewall, port forwarding, static NAT, load balancing), and VM
 * snapshots (a tree per VM: each snapshot's parent is the one that was current when it was taken).
 *
 * Network rules follow CloudStack's firewall_rules table: one row per rule whatever its purpose, with
 * CloudStack's rule states (Add while being applied to the network element, Active once applied,
 * Revoke while being removed). Port forwarding keeps its destination (VM and private ports) on the
 * row; a load balancer's members are rows of lb_vm_map.
 */
export const clientResources: Migration = {
  version: 9,
  name: 'client resources',
  sql: `
CREATE TABLE user_data (
  id INTEGER PRIMARY KEY,
  uuid TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  account_id INTEGER NOT NULL REFERENCES account(id),
  domain_id INTEGER NOT NULL REFERENCES domain(id),
  user_data TEXT NOT NULL,
  params TEXT,
  created INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX user_data_account_name ON user_data(account_id, name);
CREATE INDEX user_data_domain ON user_data(domain_id);
ALTER TABLE vm_instance ADD COLUMN user_data_id INTEGER REFERENCES user_data(id);

CREATE TABLE instance_group (
  id INTEGER PRIMARY KEY,
  uuid TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  account_id INTEGER NOT NULL REFERENCES account(id),
  domain_id INTEGER NOT NULL REFERENCES domain(id),
  created INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX instance_group_account_name ON instance_group(account_id, name);
CREATE INDEX instance_group_domain ON instance_group(domain_id);

CREATE TABLE affinity_group (
  id INTEGER PRIMARY KEY,
  uuid TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  description TEXT,
  type TEXT NOT NULL CHECK (type IN ('host anti-affinity', 'host affinity')),
  account_id INTEGER NOT NULL REFERENCES account(id),
  domain_id INTEGER NOT NULL REFERENCES domain(id),
  created INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX affinity_group_account_name ON affinity_group(account_id, name);
CREATE INDEX affinity_group_domain ON affinity_group(domain_id);
CREATE TABLE affinity_group_vm (
  group_id INTEGER NOT NULL REFERENCES affinity_group(id),
  vm_id INTEGER NOT NULL REFERENCES vm_instance(id),
  PRIMARY KEY (group_id, vm_id)
) STRICT;
CREATE INDEX affinity_group_vm_vm ON affinity_group_vm(vm_id);

CREATE TABLE snapshot_policy (
  id INTEGER PRIMARY KEY,
  uuid TEXT NOT NULL UNIQUE,
  volume_id INTEGER NOT NULL REFERENCES volume(id),
  account_id INTEGER NOT NULL REFERENCES account(id),
  domain_id INTEGER NOT NULL REFERENCES domain(id),
  interval_type TEXT NOT NULL CHECK (interval_type IN ('HOURLY', 'DAILY', 'WEEKLY', 'MONTHLY')),
  schedule TEXT NOT NULL,
  timezone TEXT NOT NULL,
  max_snaps INTEGER NOT NULL,
  display INTEGER NOT NULL DEFAULT 1,
  created INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX snapshot_policy_volume_interval ON snapshot_policy(volume_id, interval_type);
CREATE INDEX snapshot_policy_account ON snapshot_policy(account_id);

CREATE TABLE network_rule (
  id INTEGER PRIMARY KEY,
  uuid TEXT NOT NULL UNIQUE,
  purpose TEXT NOT NULL CHECK (purpose IN ('Firewall', 'PortForwarding', 'LoadBalancing', 'StaticNat')),
  traffic_type TEXT NOT NULL DEFAULT 'Ingress' CHECK (traffic_type IN ('Ingress', 'Egress')),
  state TEXT NOT NULL CHECK (state IN ('Add', 'Active', 'Revoke')),
  ip_address_id INTEGER REFERENCES ip_address(id),
  network_id INTEGER NOT NULL REFERENCES network(id),
  account_id INTEGER NOT NULL REFERENCES account(id),
  domain_id INTEGER NOT NULL REFERENCES domain(id),
  protocol TEXT NOT NULL,
  start_port INTEGER,
  end_port INTEGER,
  icmp_type INTEGER,
  icmp_code INTEGER,
  source_cidrs TEXT,
  dest_cidrs TEXT,
  vm_id INTEGER REFERENCES vm_instance(id),
  vm_ip TEXT,
  dest_start_port INTEGER,
  dest_end_port INTEGER,
  name TEXT,
  description TEXT,
  algorithm TEXT,
  related_rule_id INTEGER REFERENCES network_rule(id),
  created INTEGER NOT NULL
) STRICT;
CREATE INDEX network_rule_ip ON network_rule(ip_address_id, purpose);
CREATE INDEX network_rule_network ON network_rule(network_id, purpose);
CREATE INDEX network_rule_account ON network_rule(account_id);
CREATE INDEX network_rule_vm ON network_rule(vm_id) WHERE vm_id IS NOT NULL;
CREATE TABLE lb_vm_map (
  rule_id INTEGER NOT NULL REFERENCES network_rule(id),
  vm_id INTEGER NOT NULL REFERENCES vm_instance(id),
  vm_ip TEXT,
  revoke INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (rule_id, vm_id)
) STRICT;
CREATE INDEX lb_vm_map_vm ON lb_vm_map(vm_id);

CREATE TABLE vm_snapshot (
  id INTEGER PRIMARY KEY,
  uuid TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  display_name TEXT,
  description TEXT,
  vm_id INTEGER NOT NULL REFERENCES vm_instance(id),
  account_id INTEGER NOT NULL REFERENCES account(id),
  domain_id INTEGER NOT NULL REFERENCES domain(id),
  type TEXT NOT NULL CHECK (type IN ('Disk', 'DiskAndMemory')),
  state TEXT NOT NULL CHECK (state IN ('Allocated', 'Creating', 'Ready', 'Reverting', 'Expunging', 'Error')),
  parent_id INTEGER REFERENCES vm_snapshot(id),
  current INTEGER NOT NULL DEFAULT 0,
  created INTEGER NOT NULL,
  removed INTEGER
) STRICT;
CREATE INDEX vm_snapshot_vm ON vm_snapshot(vm_id) WHERE removed IS NULL;
CREATE INDEX vm_snapshot_account ON vm_snapshot(account_id);

-- A project owns its resources through an account of its own (CloudStack's project account); members
-- are accounts with a role in the project.
CREATE TABLE project (
  id INTEGER PRIMARY KEY,
  uuid TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  display_text TEXT,
  domain_id INTEGER NOT NULL REFERENCES domain(id),
  account_id INTEGER NOT NULL UNIQUE REFERENCES account(id),
  state TEXT NOT NULL DEFAULT 'Active' CHECK (state IN ('Active', 'Suspended', 'Disabled')),
  created INTEGER NOT NULL,
  removed INTEGER
) STRICT;
CREATE UNIQUE INDEX project_domain_name ON project(domain_id, name) WHERE removed IS NULL;
CREATE TABLE project_account (
  project_id INTEGER NOT NULL REFERENCES project(id),
  account_id INTEGER NOT NULL REFERENCES account(id),
  role TEXT NOT NULL CHECK (role IN ('Admin', 'Regular')),
  created INTEGER NOT NULL,
  PRIMARY KEY (project_id, account_id)
) STRICT;
CREATE INDEX project_account_account ON project_account(account_id);
`,
  postgres: `
CREATE TABLE user_data (
  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  uuid TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  account_id BIGINT NOT NULL REFERENCES account(id),
  domain_id BIGINT NOT NULL REFERENCES domain(id),
  user_data TEXT NOT NULL,
  params TEXT,
  created BIGINT NOT NULL
);
CREATE UNIQUE INDEX user_data_account_name ON user_data(account_id, name);
CREATE INDEX user_data_domain ON user_data(domain_id);
ALTER TABLE vm_instance ADD COLUMN user_data_id BIGINT REFERENCES user_data(id);

CREATE TABLE instance_group (
  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  uuid TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  account_id BIGINT NOT NULL REFERENCES account(id),
  domain_id BIGINT NOT NULL REFERENCES domain(id),
  created BIGINT NOT NULL
);
CREATE UNIQUE INDEX instance_group_account_name ON instance_group(account_id, name);
CREATE INDEX instance_group_domain ON instance_group(domain_id);

CREATE TABLE affinity_group (
  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  uuid TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  description TEXT,
  type TEXT NOT NULL CHECK (type IN ('host anti-affinity', 'host affinity')),
  account_id BIGINT NOT NULL REFERENCES account(id),
  domain_id BIGINT NOT NULL REFERENCES domain(id),
  created BIGINT NOT NULL
);
CREATE UNIQUE INDEX affinity_group_account_name ON affinity_group(account_id, name);
CREATE INDEX affinity_group_domain ON affinity_group(domain_id);
CREATE TABLE affinity_group_vm (
  group_id BIGINT NOT NULL REFERENCES affinity_group(id),
  vm_id BIGINT NOT NULL REFERENCES vm_instance(id),
  PRIMARY KEY (group_id, vm_id)
);
CREATE INDEX affinity_group_vm_vm ON affinity_group_vm(vm_id);

CREATE TABLE snapshot_policy (
  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  uuid TEXT NOT NULL UNIQUE,
  volume_id BIGINT NOT NULL REFERENCES volume(id),
  account_id BIGINT NOT NULL REFERENCES account(id),
  domain_id BIGINT NOT NULL REFERENCES domain(id),
  interval_type TEXT NOT NULL CHECK (interval_type IN ('HOURLY', 'DAILY', 'WEEKLY', 'MONTHLY')),
  schedule TEXT NOT NULL,
  timezone TEXT NOT NULL,
  max_snaps BIGINT NOT NULL,
  display BIGINT NOT NULL DEFAULT 1,
  created BIGINT NOT NULL
);
CREATE UNIQUE INDEX snapshot_policy_volume_interval ON snapshot_policy(volume_id, interval_type);
CREATE INDEX snapshot_policy_account ON snapshot_policy(account_id);

CREATE TABLE network_rule (
  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  uuid TEXT NOT NULL UNIQUE,
  purpose TEXT NOT NULL CHECK (purpose IN ('Firewall', 'PortForwarding', 'LoadBalancing', 'StaticNat')),
  traffic_type TEXT NOT NULL DEFAULT 'Ingress' CHECK (traffic_type IN ('Ingress', 'Egress')),
  state TEXT NOT NULL CHECK (state IN ('Add', 'Active', 'Revoke')),
  ip_address_id BIGINT REFERENCES ip_address(id),
  network_id BIGINT NOT NULL REFERENCES network(id),
  account_id BIGINT NOT NULL REFERENCES account(id),
  domain_id BIGINT NOT NULL REFERENCES domain(id),
  protocol TEXT NOT NULL,
  start_port BIGINT,
  end_port BIGINT,
  icmp_type BIGINT,
  icmp_code BIGINT,
  source_cidrs TEXT,
  dest_cidrs TEXT,
  vm_id BIGINT REFERENCES vm_instance(id),
  vm_ip TEXT,
  dest_start_port BIGINT,
  dest_end_port BIGINT,
  name TEXT,
  description TEXT,
  algorithm TEXT,
  related_rule_id BIGINT REFERENCES network_rule(id),
  created BIGINT NOT NULL
);
CREATE INDEX network_rule_ip ON network_rule(ip_address_id, purpose);
CREATE INDEX network_rule_network ON network_rule(network_id, purpose);
CREATE INDEX network_rule_account ON network_rule(account_id);
CREATE INDEX network_rule_vm ON network_rule(vm_id) WHERE vm_id IS NOT NULL;
CREATE TABLE lb_vm_map (
  rule_id BIGINT NOT NULL REFERENCES network_rule(id),
  vm_id BIGINT NOT NULL REFERENCES vm_instance(id),
  vm_ip TEXT,
  revoke BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (rule_id, vm_id)
);
CREATE INDEX lb_vm_map_vm ON lb_vm_map(vm_id);

CREATE TABLE vm_snapshot (
  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  uuid TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  display_name TEXT,
  description TEXT,
  vm_id BIGINT NOT NULL REFERENCES vm_instance(id),
  account_id BIGINT NOT NULL REFERENCES account(id),
  domain_id BIGINT NOT NULL REFERENCES domain(id),
  type TEXT NOT NULL CHECK (type IN ('Disk', 'DiskAndMemory')),
  state TEXT NOT NULL CHECK (state IN ('Allocated', 'Creating', 'Ready', 'Reverting', 'Expunging', 'Error')),
  parent_id BIGINT REFERENCES vm_snapshot(id),
  current BIGINT NOT NULL DEFAULT 0,
  created BIGINT NOT NULL,
  removed BIGINT
);
CREATE INDEX vm_snapshot_vm ON vm_snapshot(vm_id) WHERE removed IS NULL;
CREATE INDEX vm_snapshot_account ON vm_snapshot(account_id);

-- A project owns its resources through an account of its own (CloudStack's project account); members
-- are accounts with a role in the project.
CREATE TABLE project (
  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  uuid TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  display_text TEXT,
  domain_id BIGINT NOT NULL REFERENCES domain(id),
  account_id BIGINT NOT NULL UNIQUE REFERENCES account(id),
  state TEXT NOT NULL DEFAULT 'Active' CHECK (state IN ('Active', 'Suspended', 'Disabled')),
  created BIGINT NOT NULL,
  removed BIGINT
);
CREATE UNIQUE INDEX project_domain_name ON project(domain_id, name) WHERE removed IS NULL;
CREATE TABLE project_account (
  project_id BIGINT NOT NULL REFERENCES project(id),
  account_id BIGINT NOT NULL REFERENCES account(id),
  role TEXT NOT NULL CHECK (role IN ('Admin', 'Regular')),
  created BIGINT NOT NULL,
  PRIMARY KEY (project_id, account_id)
);
CREATE INDEX project_account_account ON project_account(account_id);
`,
};
