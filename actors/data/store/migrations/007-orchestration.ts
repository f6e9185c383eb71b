import type { Migration } from '../migrations.js';

/**
 * What the orchestration engine needs beyond the resource tables: the copies of templates on primary
 * storage pools. A template is copied to a pool once and every ROOT volume created from it on that pool
 * is cloned from the copy (reference section 6.1, VolumeOrchestrator.prepare).
 */
export const orchestration: Migration = {
  version: 7,
  name: 'orchestration',
  sql: `
CREATE TABLE template_pool (
  template_id INTEGER NOT NULL REFERENCES template(id),
  pool_id INTEGER NOT NULL REFERENCES storage_pool(id),
  install_path TEXT NOT NULL,
  size INTEGER NOT NULL,
  created INTEGER NOT NULL,
  PRIMARY KEY (template_id, pool_id)
) STRICT;
CREATE INDEX template_pool_pool ON template_pool(pool_id);
`,
  postgres: `
CREATE TABLE template_pool (
  template_id BIGINT NOT NULL REFERENCES template(id),
  pool_id BIGINT NOT NULL REFERENCES storage_pool(id),
  install_path TEXT NOT NULL,
  size BIGINT NOT NULL,
  created BIGINT NOT NULL,
  PRIMARY KEY (template_id, pool_id)
);
CREATE INDEX template_pool_pool ON template_pool(pool_id);
`,
};
