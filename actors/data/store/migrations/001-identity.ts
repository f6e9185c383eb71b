import type { Migration } from '../migrations.js';

/**
 * Identity: roles, the domain tree, accounts and users. Domain `path` uses CloudStack's internal form
 * ('/' for ROOT, '/D1/D11/' below it) so that a subtree is one indexed range scan on `path`.
 * Every table keeps an internal integer key (`id`) for joins and a public UUID (`uuid`); only the UUID
 * ever leaves the store.
 */
export const identity: Migration = {
  version: 1,
  name: 'identity',
  sql: `
CREATE TABLE role (
  id INTEGER PRIMARY KEY,
  uuid TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL CHECK (type IN ('Admin', 'DomainAdmin', 'User')),
  description TEXT,
  created INTEGER NOT NULL
) STRICT;

CREATE TABLE domain (
  id INTEGER PRIMARY KEY,
  uuid TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  parent_id INTEGER REFERENCES domain(id),
  path TEXT NOT NULL,
  level INTEGER NOT NULL,
  network_domain TEXT,
  state TEXT NOT NULL DEFAULT 'Active' CHECK (state IN ('Active', 'Inactive')),
  created INTEGER NOT NULL,
  removed INTEGER
) STRICT;
CREATE UNIQUE INDEX domain_path ON domain(path) WHERE removed IS NULL;
CREATE INDEX domain_parent ON domain(parent_id);

CREATE TABLE account (
  id INTEGER PRIMARY KEY,
  uuid TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  domain_id INTEGER NOT NULL REFERENCES domain(id),
  role_id INTEGER NOT NULL REFERENCES role(id),
  state TEXT NOT NULL DEFAULT 'enabled' CHECK (state IN ('enabled', 'disabled', 'locked')),
  network_domain TEXT,
  created INTEGER NOT NULL,
  removed INTEGER
) STRICT;
CREATE UNIQUE INDEX account_domain_name ON account(domain_id, name) WHERE removed IS NULL;

CREATE TABLE app_user (
  id INTEGER PRIMARY KEY,
  uuid TEXT NOT NULL UNIQUE,
  account_id INTEGER NOT NULL REFERENCES account(id),
  domain_id INTEGER NOT NULL REFERENCES domain(id),
  username TEXT NOT NULL,
  password_hash TEXT,
  firstname TEXT,
  lastname TEXT,
  email TEXT,
  timezone TEXT,
  state TEXT NOT NULL DEFAULT 'enabled' CHECK (state IN ('enabled', 'disabled', 'locked')),
  apikey TEXT,
  secretkey TEXT,
  is_default INTEGER NOT NULL DEFAULT 0,
  source TEXT NOT NULL DEFAULT 'native',
  created INTEGER NOT NULL,
  removed INTEGER
) STRICT;
CREATE UNIQUE INDEX user_apikey ON app_user(apikey) WHERE apikey IS NOT NULL;
CREATE UNIQUE INDEX user_domain_username ON app_user(domain_id, username) WHERE removed IS NULL;
CREATE INDEX user_account ON app_user(account_id);
`,
};
