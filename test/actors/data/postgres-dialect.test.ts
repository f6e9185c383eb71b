import { expect } from 'chai';
import { translateToPostgres } from '../../../actors/data/store/sql/postgres-dialect.js';

const translate = (sql: string): string => translateToPostgres(sql, new Set()).text;

describe('data store: PostgreSQL dialect rewrite', () => {
  it('reads a bound JSON list as an array compared with = ANY, cast to bigint for key columns', () => {
    expect(translate('SELECT * FROM nic t WHERE t.removed IS NULL AND t.vm_id IN (SELECT value FROM json_each(?)) ORDER BY t.id'))
      .to.equal('SELECT * FROM nic t WHERE t.removed IS NULL AND t.vm_id = ANY (ARRAY(SELECT json_array_elements_text($1::json))::bigint[]) ORDER BY t.id');
    expect(translate('SELECT id FROM vm_instance t WHERE t.uuid IN (SELECT value FROM json_each(?))'))
      .to.equal('SELECT id FROM vm_instance t WHERE t.uuid = ANY (ARRAY(SELECT json_array_elements_text($1::json)))');
  });

  it('turns NOT IN over a bound JSON list into <> ALL, keeping the placeholders in order', () => {
    expect(translate('SELECT id FROM host h WHERE h.zone_id = ? AND h.uuid NOT IN (SELECT value FROM json_each(?)) AND h.state = ?'))
      .to.equal('SELECT id FROM host h WHERE h.zone_id = $1 AND h.uuid <> ALL (ARRAY(SELECT json_array_elements_text($2::json))) AND h.state = $3');
  });

  it('rewrites a list spread over lines (the subquery on the next line)', () => {
    expect(translate('DELETE FROM resource_tag WHERE resource_id = ? AND key IN\n  (SELECT value FROM json_each(?))'))
      .to.equal('DELETE FROM resource_tag WHERE resource_id = $1 AND key = ANY (ARRAY(SELECT json_array_elements_text($2::json)))');
  });
});
