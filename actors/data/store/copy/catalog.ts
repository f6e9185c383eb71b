/**
 * What the copy needs to know about the target schema, read from PostgreSQL's catalog after the
 * migrations ran there: tables, their columns (by name, in order, with the type that decides how a
 * value is compared), primary keys, identity columns and foreign keys. The target is the reference
 * because it is the schema the rows must fit; the source is checked against it (source-tables.ts).
 */
import { ConfigError } from '../../../../src/errors.js';
import type { SqlConnection } from '../sql/connection.js';

export interface ColumnInfo {
  name: string;
  /** information_schema data_type: 'bigint', 'double precision', 'text' in this schema. */
  type: string;
  /** GENERATED ... AS IDENTITY: its sequence is moved past the copied keys. */
  identity: boolean;
}

export interface ForeignKey {
  parent: string;
  columns: string[];
  parentColumns: string[];
}

export interface TableInfo {
  name: string;
  columns: ColumnInfo[];
  /** Primary key columns in key order; empty for a table without one. */
  primaryKey: string[];
  foreignKeys: ForeignKey[];
}

/** Where the schema keeps its own version (PostgresConnection.setSchemaVersion): set by the migrations, never copied. */
export const SCHEMA_VERSION_TABLE = 'cloudstackd_schema';

/** Names the copy puts into SQL text: the schema's own are all lower-case identifiers. */
const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

export function quoteIdent(name: string): string {
  if (!IDENTIFIER.test(name)) {
    throw new ConfigError(`unexpected name ${JSON.stringify(name)} in the schema: the copy only handles lower-case identifiers`);
  }
  return `"${name}"`;
}

const NAMESPACE = '(SELECT oid FROM pg_namespace WHERE nspname = current_schema())';

/** Every table and view of the connection's current schema (e.g. to tell whether a database is empty). */
export function targetRelations(pg: SqlConnection): string[] {
  return pg.all<{ table_name: string }>(`SELECT table_name::text AS table_name FROM information_schema.tables
    WHERE table_schema = current_schema() ORDER BY table_name`, []).map((r) => r.table_name);
}

/** The tables of the target's current schema, without the schema-version table. */
export function readTargetCatalog(pg: SqlConnection): Map<string, TableInfo> {
  const tables = new Map<string, TableInfo>();
  for (const name of targetRelations(pg)) {
    if (name !== SCHEMA_VERSION_TABLE) tables.set(name, { name, columns: [], primaryKey: [], foreignKeys: [] });
  }
  const columns = pg.all<{ table_name: string; column_name: string; data_type: string; is_identity: string }>(
    `SELECT table_name::text AS table_name, column_name::text AS column_name, data_type::text AS data_type,
       is_identity::text AS is_identity
     FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position`, []);
  for (const c of columns) {
    tables.get(c.table_name)?.columns.push({ name: c.column_name, type: c.data_type, identity: c.is_identity === 'YES' });
  }
  const keys = pg.all<{ table_name: string; cols: string }>(
    `SELECT c.relname::text AS table_name,
       (SELECT string_agg(a.attname::text, ',' ORDER BY k.i) FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(n, i)
          JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.n) AS cols
     FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
     WHERE i.indisprimary AND c.relnamespace = ${NAMESPACE}`, []);
  for (const k of keys) {
    const t = tables.get(k.table_name);
    if (t !== undefined) t.primaryKey = k.cols.split(',');
  }
  const fks = pg.all<{ child: string; parent: string; cols: string; parent_cols: string }>(
    `SELECT tc.relname::text AS child, tp.relname::text AS parent,
       (SELECT string_agg(a.attname::text, ',' ORDER BY k.i) FROM unnest(con.conkey) WITH ORDINALITY AS k(n, i)
          JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n) AS cols,
       (SELECT string_agg(a.attname::text, ',' ORDER BY k.i) FROM unnest(con.confkey) WITH ORDINALITY AS k(n, i)
          JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n) AS parent_cols
     FROM pg_constraint con JOIN pg_class tc ON tc.oid = con.conrelid JOIN pg_class tp ON tp.oid = con.confrelid
     WHERE con.contype = 'f' AND con.connamespace = ${NAMESPACE}
     ORDER BY tc.relname, con.conname`, []);
  for (const f of fks) {
    tables.get(f.child)?.foreignKeys.push({ parent: f.parent, columns: f.cols.split(','), parentColumns: f.parent_cols.split(',') });
  }
  for (const t of tables.values()) {
    quoteIdent(t.name);
    for (const c of t.columns) quoteIdent(c.name);
  }
  return tables;
}

/**
 * The tables with every parent before its children, so that each INSERT finds the rows its foreign
 * keys name (the constraints stay on: disabling them needs a superuser, and checking as we go is what
 * proves the copy consistent). Ties go by name, so the order is the same on every run. A table's
 * references to itself are ordered row by row (see orderSelfReferences); a cycle between tables is
 * refused, since no order of whole tables could satisfy it.
 */
export function copyOrder(tables: ReadonlyMap<string, TableInfo>): TableInfo[] {
  const done = new Set<string>();
  const out: TableInfo[] = [];
  const remaining = [...tables.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  while (remaining.length > 0) {
    const i = remaining.findIndex((t) => t.foreignKeys.every((f) => f.parent === t.name || done.has(f.parent) || !tables.has(f.parent)));
    if (i < 0) {
      throw new ConfigError(`the foreign keys of ${remaining.map((t) => t.name).join(', ')} form a cycle: ` +
        'no order of tables lets their rows be inserted with the constraints on');
    }
    const [t] = remaining.splice(i, 1);
    done.add(t!.name);
    out.push(t!);
  }
  return out;
}

/**
 * Orders a table's rows so that a row referring to another row of the same table (domain.parent_id,
 * vm_snapshot.parent_id, network_rule.related_rule_id) comes after it. Rows are arrays in `columns`
 * order. Rows whose referenced row is missing keep their place: the constraint then reports it.
 */
export function orderSelfReferences(table: TableInfo, rows: unknown[][]): unknown[][] {
  const selfKeys = table.foreignKeys.filter((f) => f.parent === table.name);
  if (selfKeys.length === 0) return rows;
  const index = new Map(table.columns.map((c, i) => [c.name, i]));
  const keyOf = (row: unknown[], cols: string[]): string | undefined => {
    const vals = cols.map((c) => row[index.get(c)!]);
    return vals.some((v) => v === null || v === undefined) ? undefined : vals.map(String).join('\u0000');
  };
  const byKey = new Map<string, Map<string, unknown[]>>();
  for (const f of selfKeys) {
    const m = new Map<string, unknown[]>();
    for (const r of rows) { const k = keyOf(r, f.parentColumns); if (k !== undefined) m.set(k, r); }
    byKey.set(f.parentColumns.join(','), m);
  }
  const placed = new Set<unknown[]>();
  const visiting = new Set<unknown[]>();
  const out: unknown[][] = [];
  const place = (r: unknown[]): void => {
    if (placed.has(r) || visiting.has(r)) return; // a cycle of rows: the constraint will say so
    visiting.add(r);
    for (const f of selfKeys) {
      const k = keyOf(r, f.columns);
      const parent = k === undefined ? undefined : byKey.get(f.parentColumns.join(','))!.get(k);
      if (parent !== undefined && parent !== r) place(parent);
    }
    visiting.delete(r);
    placed.add(r);
    out.push(r);
  };
  // Iterative enough: parent chains (domain depth, snapshot trees) are short.
  for (const r of rows) place(r);
  return out;
}
