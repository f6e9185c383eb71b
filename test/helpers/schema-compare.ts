/**
 * Compares the schema the SQLite migrations build with the one their `postgres` DDL builds, as the
 * repositories see it: tables, columns (order, type, NOT NULL, default), primary keys, UNIQUE
 * constraints, foreign keys, the number of CHECKs per table, and every named index (table, uniqueness,
 * keys, partial predicate). FTS5 search tables are not tables on PostgreSQL: each must instead have a
 * pg_trgm GIN index per searched column on its content table.
 */
import type { Db } from '../../actors/data/store/db.js';
import type pg from 'pg';

export interface ColumnShape { name: string; type: string; notNull: boolean; default: string | null; identity: boolean }
export interface ForeignKeyShape { columns: string[]; table: string; to: string[]; onDelete: string; onUpdate: string }
export interface IndexShape { table: string; unique: boolean; keys: string[]; predicate: string | null }

export interface SchemaShape {
  tables: Map<string, {
    columns: ColumnShape[];
    primaryKey: string[];
    uniques: string[];
    foreignKeys: string[];
    checks: number;
  }>;
  /** Named indexes (not those backing PRIMARY KEY / UNIQUE constraints). */
  indexes: Map<string, IndexShape>;
}

/** A FTS5 table of the SQLite schema: the table it indexes and the columns it covers. */
export interface SearchTable { name: string; content: string; columns: string[] }

const SQLITE_TYPES: Record<string, string> = { INTEGER: 'bigint', TEXT: 'text', REAL: 'double precision', BLOB: 'bytea' };
const FK_ACTIONS: Record<string, string> = { a: 'NO ACTION', r: 'RESTRICT', c: 'CASCADE', n: 'SET NULL', d: 'SET DEFAULT' };

/** Predicates compared without parentheses, case and spacing: PostgreSQL prints `((a IS NULL) AND ...)`. */
function normalisePredicate(p: string | null): string | null {
  return p === null ? null : p.replace(/[()]/g, ' ').replace(/\s+/g, ' ').trim().toLowerCase();
}

function fkKey(f: ForeignKeyShape): string {
  return `(${f.columns.join(', ')}) -> ${f.table}(${f.to.join(', ')}) on delete ${f.onDelete} on update ${f.onUpdate}`;
}

interface TableListRow { name: string; type: string; schema: string }
interface TableInfoRow { name: string; type: string; notnull: number; dflt_value: string | null; pk: number }
interface IndexListRow { name: string; unique: number; origin: string; partial: number }
interface IndexXinfoRow { seqno: number; cid: number; name: string | null; coll: string; key: number }
interface FkRow { id: number; seq: number; table: string; from: string; to: string; on_update: string; on_delete: string }

/** The shape of a migrated SQLite database, written the way PostgreSQL would hold it. */
export function sqliteShape(db: Db): { shape: SchemaShape; search: SearchTable[] } {
  const shape: SchemaShape = { tables: new Map(), indexes: new Map() };
  const search: SearchTable[] = [];
  const list = (db.pragma('table_list') as TableListRow[]).filter((t) => t.schema === 'main' && !t.name.startsWith('sqlite_'));
  const sqlOf = (name: string): string => (db.prepare('SELECT sql FROM sqlite_master WHERE name = ?').pluck().get(name) as string | null) ?? '';
  for (const t of list) {
    if (t.type === 'virtual') {
      const args = /USING\s+fts5\s*\(([\s\S]*)\)\s*$/i.exec(sqlOf(t.name))?.[1] ?? '';
      const parts = args.split(',').map((a) => a.trim());
      const content = parts.find((p) => /^content\s*=/.test(p))?.replace(/^content\s*=\s*'?([^']*)'?$/, '$1');
      if (content === undefined) throw new Error(`search table ${t.name} has no content table: cannot say what replaces it on PostgreSQL`);
      search.push({ name: t.name, content, columns: parts.filter((p) => !p.includes('=')) });
      continue;
    }
    if (t.type !== 'table') continue; // FTS5 shadow tables
    const info = db.pragma(`table_info(${t.name})`) as TableInfoRow[];
    const pkCols = info.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => c.name);
    const rowidAlias = pkCols.length === 1 && info.find((c) => c.name === pkCols[0])?.type === 'INTEGER';
    const columns = info.map((c): ColumnShape => ({
      name: c.name,
      type: SQLITE_TYPES[c.type] ?? `unmapped SQLite type ${c.type}`,
      // PostgreSQL makes primary-key columns NOT NULL; SQLite only for the rowid alias, though the
      // repositories never store a NULL key.
      notNull: c.notnull === 1 || c.pk > 0,
      default: c.dflt_value,
      identity: rowidAlias && c.pk === 1,
    }));
    const uniques: string[] = [];
    for (const ix of db.pragma(`index_list(${t.name})`) as IndexListRow[]) {
      const keys = (db.pragma(`index_xinfo(${ix.name})`) as IndexXinfoRow[]).filter((k) => k.key === 1).sort((a, b) => a.seqno - b.seqno);
      if (ix.origin === 'u') { uniques.push(keys.map((k) => k.name).join(', ')); continue; }
      if (ix.origin !== 'c') continue; // the primary key's index
      const text = sqlOf(ix.name);
      shape.indexes.set(ix.name, {
        table: t.name,
        unique: ix.unique === 1,
        keys: keys.map((k) => {
          if (k.cid < 0 || k.name === null) return `expression in ${ix.name}: compare by hand`;
          return k.coll.toUpperCase() === 'NOCASE' ? `lower(${k.name})` : k.name;
        }),
        predicate: normalisePredicate(ix.partial === 1 ? (/\bWHERE\b([\s\S]*)$/i.exec(text)?.[1] ?? '?') : null),
      });
    }
    const fks = new Map<number, ForeignKeyShape>();
    for (const f of (db.pragma(`foreign_key_list(${t.name})`) as FkRow[]).sort((a, b) => a.id - b.id || a.seq - b.seq)) {
      const fk = fks.get(f.id) ?? { columns: [], table: f.table, to: [], onDelete: f.on_delete, onUpdate: f.on_update };
      fk.columns.push(f.from);
      fk.to.push(f.to);
      fks.set(f.id, fk);
    }
    shape.tables.set(t.name, {
      columns,
      primaryKey: pkCols,
      uniques: uniques.sort(),
      foreignKeys: [...fks.values()].map(fkKey).sort(),
      checks: (sqlOf(t.name).match(/\bCHECK\s*\(/gi) ?? []).length,
    });
  }
  return { shape, search };
}

/** The shape of the `public` schema of a PostgreSQL database. */
export async function postgresShape(client: pg.ClientBase): Promise<{ shape: SchemaShape; trigram: Map<string, Set<string>> }> {
  const shape: SchemaShape = { tables: new Map(), indexes: new Map() };
  const tables = await client.query<{ name: string }>(`SELECT table_name AS name FROM information_schema.tables
    WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1`);
  for (const { name } of tables.rows) shape.tables.set(name, { columns: [], primaryKey: [], uniques: [], foreignKeys: [], checks: 0 });
  const cols = await client.query<{ table_name: string; column_name: string; data_type: string; is_nullable: string;
    column_default: string | null; is_identity: string }>(`SELECT table_name, column_name, data_type, is_nullable, column_default,
    is_identity FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, ordinal_position`);
  for (const c of cols.rows) {
    shape.tables.get(c.table_name)?.columns.push({
      name: c.column_name,
      type: c.data_type,
      notNull: c.is_nullable === 'NO',
      // 'Active'::text -> 'Active', as SQLite reports it.
      default: c.column_default === null ? null : c.column_default.replace(/::[a-z ]+$/, ''),
      identity: c.is_identity === 'YES',
    });
  }
  const cons = await client.query<{ tbl: string; contype: string; cols: string[]; ref: string | null; refcols: string[] | null;
    del: string; upd: string }>(`SELECT c.conrelid::regclass::text AS tbl, c.contype,
      ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, i)
        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i) AS cols,
      c.confrelid::regclass::text AS ref,
      ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(n, i)
        JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i) AS refcols,
      c.confdeltype AS del, c.confupdtype AS upd
    FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = 'public' AND c.conrelid <> 0`);
  for (const c of cons.rows) {
    const t = shape.tables.get(c.tbl);
    if (t === undefined) continue;
    if (c.contype === 'p') t.primaryKey = c.cols;
    else if (c.contype === 'u') t.uniques.push(c.cols.join(', '));
    else if (c.contype === 'c') t.checks++;
    else if (c.contype === 'f') {
      t.foreignKeys.push(fkKey({ columns: c.cols, table: c.ref ?? '?', to: c.refcols ?? [],
        onDelete: FK_ACTIONS[c.del] ?? c.del, onUpdate: FK_ACTIONS[c.upd] ?? c.upd }));
    }
  }
  for (const t of shape.tables.values()) { t.uniques.sort(); t.foreignKeys.sort(); }
  const ixs = await client.query<{ name: string; tbl: string; unique: boolean; method: string; predicate: string | null;
    keys: string[]; def: string }>(`SELECT i.relname AS name, t.relname AS tbl, x.indisunique AS unique, am.amname AS method,
      pg_get_expr(x.indpred, x.indrelid) AS predicate, pg_get_indexdef(x.indexrelid) AS def,
      ARRAY(SELECT pg_get_indexdef(x.indexrelid, k, true) FROM generate_series(1, x.indnkeyatts) k ORDER BY k) AS keys
    FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace JOIN pg_am am ON am.oid = i.relam
    WHERE n.nspname = 'public' AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)`);
  const trigram = new Map<string, Set<string>>();
  for (const ix of ixs.rows) {
    if (ix.method === 'gin' && ix.def.includes('gin_trgm_ops') && ix.keys.length === 1) {
      const cols = trigram.get(ix.tbl) ?? new Set<string>();
      cols.add(ix.keys[0]!);
      trigram.set(ix.tbl, cols);
      continue;
    }
    shape.indexes.set(ix.name, { table: ix.tbl, unique: ix.unique, keys: ix.keys, predicate: normalisePredicate(ix.predicate) });
  }
  return { shape, trigram };
}

/** Every way the PostgreSQL schema differs from the SQLite one, one line each; empty when they agree. */
export function schemaDifferences(lite: SchemaShape, post: SchemaShape): string[] {
  const out: string[] = [];
  for (const name of lite.tables.keys()) if (!post.tables.has(name)) out.push(`table ${name} is missing on PostgreSQL`);
  for (const name of post.tables.keys()) if (!lite.tables.has(name)) out.push(`table ${name} exists only on PostgreSQL`);
  for (const [name, l] of lite.tables) {
    const p = post.tables.get(name);
    if (p === undefined) continue;
    const ln = l.columns.map((c) => c.name).join(', ');
    const pn = p.columns.map((c) => c.name).join(', ');
    if (ln !== pn) out.push(`${name}: columns are (${ln}) on SQLite but (${pn}) on PostgreSQL`);
    for (const lc of l.columns) {
      const pc = p.columns.find((c) => c.name === lc.name);
      if (pc === undefined) continue;
      for (const k of ['type', 'notNull', 'default', 'identity'] as const) {
        if (lc[k] !== pc[k]) out.push(`${name}.${lc.name}: ${k} is ${String(lc[k])} on SQLite but ${String(pc[k])} on PostgreSQL`);
      }
    }
    for (const k of ['primaryKey', 'uniques', 'foreignKeys'] as const) {
      if (l[k].join(' | ') !== p[k].join(' | ')) out.push(`${name}: ${k} [${l[k].join(' | ')}] on SQLite but [${p[k].join(' | ')}] on PostgreSQL`);
    }
    if (l.checks !== p.checks) out.push(`${name}: ${l.checks} CHECK constraints on SQLite but ${p.checks} on PostgreSQL`);
  }
  for (const [name, l] of lite.indexes) {
    const p = post.indexes.get(name);
    if (p === undefined) { out.push(`index ${name} (on ${l.table}) is missing on PostgreSQL`); continue; }
    const ls = JSON.stringify(l);
    const ps = JSON.stringify(p);
    if (ls !== ps) out.push(`index ${name} is ${ls} on SQLite but ${ps} on PostgreSQL`);
  }
  for (const name of post.indexes.keys()) if (!lite.indexes.has(name)) out.push(`index ${name} exists only on PostgreSQL`);
  return out;
}

/** What is missing for each SQLite search table: a trigram index per searched column of its content table. */
export function searchDifferences(search: readonly SearchTable[], trigram: ReadonlyMap<string, ReadonlySet<string>>): string[] {
  const out: string[] = [];
  for (const s of search) {
    for (const c of s.columns) {
      if (!trigram.get(s.content)?.has(c)) out.push(`search table ${s.name}: no pg_trgm GIN index on ${s.content}(${c})`);
    }
  }
  return out;
}
