import type { Migration } from '../migrations.js';

/**
 * Indexes that page VM lists by key (list-query.ts picks a page's keys, then fetches its rows).
 * SQLite's indexes end with the rowid, so `vm_zone(zone_id)` already gave a zone's VMs in `id` order;
 * PostgreSQL's do not, and a page deep into a zone's 25,000 VMs sorted all of them. The filters lists
 * page by (account, domain, zone, state) get `id` as their last column, in both dialects so that the
 * schemas stay alike, and each index serves `WHERE col = ? ORDER BY id LIMIT .. OFFSET ..` as an
 * ordered, index-only scan; `vm_live` does the same for a list over every live VM.
 */
const COMMON = `
CREATE INDEX vm_live ON vm_instance(id) WHERE removed IS NULL;
DROP INDEX vm_account;
CREATE INDEX vm_account ON vm_instance(account_id, id) WHERE removed IS NULL;
DROP INDEX vm_domain;
CREATE INDEX vm_domain ON vm_instance(domain_id, id) WHERE removed IS NULL;
DROP INDEX vm_zone;
CREATE INDEX vm_zone ON vm_instance(zone_id, id) WHERE removed IS NULL;
DROP INDEX vm_state_nocase;
`;

export const listPaging: Migration = {
  version: 13,
  name: 'VM list paging indexes',
  sql: `${COMMON}CREATE INDEX vm_state_nocase ON vm_instance(state COLLATE NOCASE, id) WHERE removed IS NULL;\n`,
  postgres: `${COMMON}CREATE INDEX vm_state_nocase ON vm_instance(lower(state), id) WHERE removed IS NULL;\n`,
};
