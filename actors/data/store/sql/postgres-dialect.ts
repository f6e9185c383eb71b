/**
 * Turns the store's SQL (written for SQLite, with `?` placeholders) into PostgreSQL. The store keeps one
 * text per statement and the differences that are spelling are handled here, once, instead of in every
 * repository; the few that are not spelling (full-text search, JSON inside a column) are written per
 * dialect where they are used. The result is cached per statement text by the connection.
 *
 * What is rewritten, outside string literals:
 * - `?` placeholders become `$1, $2...`; one followed by `IS [NOT] NULL` gets a `::text` cast, since
 *   PostgreSQL cannot infer the type of a parameter that is only tested for NULL;
 * - `AS someAlias` with capitals: PostgreSQL folds unquoted names to lower case, so such aliases (and
 *   their other bare uses in the statement) are quoted to keep the row keys the store reads;
 * - `x [NOT] IN (SELECT value FROM json_each(?))` (a JSON array bound as one parameter, one cached
 *   statement for any list length) becomes `x = ANY (array)` / `x <> ALL (array)`, the array read once
 *   from the JSON (elements cast to bigint for key columns). Not `IN (SELECT ... json_array_elements_text)`:
 *   that is planned as a semi-join, which the sessions' join_collapse_limit=1 puts after every written
 *   join, so a page's NICs were found by joining all 100,000 NICs to their networks and VMs first
 *   (150-300 ms at bench/postgres.ts's size); `= ANY` is an index condition on the table itself (0.5 ms).
 *   NULL semantics are IN's: `NULL = ANY ('{}')` is false and `NULL <> ALL ('{}')` true, as IN/NOT IN
 *   of an empty list;
 * - `x = ? COLLATE NOCASE` compares lower(x) = lower(?): MySQL-like case-insensitive filters;
 * - `LIKE` becomes `ILIKE` (SQLite's LIKE ignores ASCII case; the store relies on it);
 * - constant conditions `WHERE 1` / `AND 0` become TRUE / FALSE;
 * - `IFNULL` → `COALESCE`, scalar two-argument `MAX(a, b)`/`MIN(a, b)` → `GREATEST`/`LEAST`,
 *   `CAST(x AS REAL)` → `DOUBLE PRECISION`, `CAST(x AS INTEGER)` → `CAST(trunc(x) AS BIGINT)`;
 * - `* ?` binds a float (a fractional factor would not parse as the bigint PostgreSQL infers);
 * - `INSERT OR IGNORE` → `INSERT ... ON CONFLICT DO NOTHING`;
 * - an INSERT into a table with an integer `id` key returns it (`RETURNING id`), which is how
 *   `lastInsertRowid` is answered.
 */

export interface TranslatedSql {
  text: string;
  /** The statement is an INSERT that returns the new row's `id`. */
  returnsId: boolean;
}

type Segment = { code: boolean; text: string };

/** Splits SQL into code and quoted parts ('...' strings and "..." identifiers), so rewrites skip literals. */
function segments(sql: string): Segment[] {
  const out: Segment[] = [];
  let i = 0;
  let start = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    if (c === "'" || c === '"') {
      if (i > start) out.push({ code: true, text: sql.slice(start, i) });
      let j = i + 1;
      for (;;) {
        if (j >= sql.length) break;
        if (sql[j] === c) {
          if (sql[j + 1] === c) { j += 2; continue; }
          break;
        }
        j++;
      }
      out.push({ code: false, text: sql.slice(i, j + 1) });
      i = j + 1;
      start = i;
    } else {
      i++;
    }
  }
  if (start < sql.length) out.push({ code: true, text: sql.slice(start) });
  return out;
}

function mapCode(sql: string, fn: (code: string) => string): string {
  return segments(sql).map((s) => (s.code ? fn(s.text) : s.text)).join('');
}

const KEY_COLUMN = /(^|[._])id$|_id$/;

/** Scalar MAX(a, b) / MIN(a, b): a top-level comma inside the call's parentheses. */
function scalarMinMax(code: string): string {
  return code.replace(/\b(MAX|MIN)\s*\(/gi, (match, fn: string, offset: number) => {
    let depth = 0;
    for (let j = offset + match.length; j < code.length; j++) {
      const ch = code[j];
      if (ch === '(') depth++;
      else if (ch === ')') { if (depth === 0) break; depth--; }
      else if (ch === ',' && depth === 0) return fn.toUpperCase() === 'MAX' ? 'GREATEST(' : 'LEAST(';
    }
    return match;
  });
}

/**
 * `CAST(x AS INTEGER)`: SQLite truncates toward zero into 64 bits; PostgreSQL's INTEGER is 32 bits and
 * rounds. `CAST(trunc(x) AS BIGINT)` gives SQLite's answer.
 */
function integerCasts(code: string): string {
  let out = '';
  let i = 0;
  const re = /\bCAST\s*\(/gi;
  for (let m = re.exec(code); m !== null; m = re.exec(code)) {
    let depth = 0;
    let j = m.index + m[0].length;
    for (; j < code.length; j++) {
      if (code[j] === '(') depth++;
      else if (code[j] === ')') { if (depth === 0) break; depth--; }
    }
    const inner = code.slice(m.index + m[0].length, j);
    const asInt = /^([\s\S]*)\bAS\s+INTEGER\s*$/i.exec(inner);
    if (asInt === null) continue;
    out += code.slice(i, m.index) + `CAST(trunc(${asInt[1]!.trim()}) AS BIGINT)`;
    i = j + 1;
    re.lastIndex = j + 1;
  }
  return out + code.slice(i);
}

export function translateToPostgres(sql: string, tablesWithId: ReadonlySet<string>): TranslatedSql {
  let text = mapCode(sql, (code) => {
    let c = code;
    c = c.replace(/\b([\w.]+)\s+(NOT\s+)?IN\s*\(\s*SELECT\s+value\s+FROM\s+json_each\(\?\)\s*\)/gi,
      (_m, col: string, not: string | undefined) => {
        const array = `ARRAY(SELECT json_array_elements_text(?::json))${KEY_COLUMN.test(col) ? '::bigint[]' : ''}`;
        return not === undefined ? `${col} = ANY (${array})` : `${col} <> ALL (${array})`;
      });
    c = c.replace(/([\w.]+|\([^()]*\))\s*=\s*\?\s+COLLATE\s+NOCASE/gi, 'lower($1) = lower(?)');
    c = c.replace(/\bCOLLATE\s+NOCASE\b/gi, '');
    c = c.replace(/\bLIKE\b/gi, 'ILIKE');
    c = c.replace(/\bIFNULL\s*\(/gi, 'COALESCE(');
    c = c.replace(/\bAS\s+REAL\s*\)/gi, 'AS DOUBLE PRECISION)');
    c = integerCasts(c);
    // A factor bound to `* ?` may be fractional (over-provisioning): typed by the column it multiplies,
    // PostgreSQL would refuse '1.5' as a bigint.
    c = c.replace(/\*\s*\?/g, '* ?::float8');
    c = scalarMinMax(c);
    // Constant conditions (`WHERE 1`, `AND 0`): SQLite's integers are booleans, PostgreSQL's are not.
    c = c.replace(/\b(WHERE|AND|OR|NOT)\s+([01])\b(?!\s*[-+*/=<>!|])/gi, (_m, kw: string, v: string) => `${kw} ${v === '1' ? 'TRUE' : 'FALSE'}`);
    return c;
  });
  // Aliases with capitals, then every bare use of them.
  const aliases = new Set<string>();
  mapCode(text, (code) => {
    for (const m of code.matchAll(/\bAS\s+([A-Za-z_][A-Za-z0-9_]*)\b/g)) {
      if (/[A-Z]/.test(m[1]!) && !/^(DOUBLE|BIGINT|TEXT|INTEGER|REAL|JSON)$/.test(m[1]!)) aliases.add(m[1]!);
    }
    return code;
  });
  if (aliases.size > 0) {
    const re = new RegExp(`(?<![\\w."])(${[...aliases].join('|')})(?![\\w"])`, 'g');
    text = mapCode(text, (code) => code.replace(re, '"$1"'));
  }
  let orIgnore = false;
  text = mapCode(text, (code) => code.replace(/\bINSERT\s+OR\s+IGNORE\s+INTO\b/gi, () => { orIgnore = true; return 'INSERT INTO'; }));
  if (orIgnore) text = `${text.trimEnd()} ON CONFLICT DO NOTHING`;
  let returnsId = false;
  const insert = /^\s*INSERT\s+INTO\s+([A-Za-z_][A-Za-z0-9_]*)/i.exec(text);
  if (insert !== null && tablesWithId.has(insert[1]!.toLowerCase()) && !/\bRETURNING\b/i.test(text)) {
    text = `${text.trimEnd()} RETURNING id`;
    returnsId = true;
  }
  // Placeholders last, so the rewrites above may add or move `?`.
  let n = 0;
  text = mapCode(text, (code) => code.replace(/\?(\s+IS\s+(?:NOT\s+)?NULL\b)?/gi, (_m, isNull: string | undefined) => {
    n++;
    return isNull === undefined ? `$${n}` : `$${n}::text${isNull}`;
  }));
  return { text, returnsId };
}
