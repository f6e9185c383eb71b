/**
 * `cloudstackd db migrate --from <data-dir> --to <url>`: moves a lab from SQLite to PostgreSQL (see
 * actors/data/store/copy/). Progress goes to stderr, the verification table to stdout. Exit codes: 0
 * copied and verified, 1 failed (nothing copied, or a verification mismatch), 2 usage error.
 * `cloudstackd db verify` (same --from/--to) compares the two again, with the same exit codes.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { copyDatabase, DEFAULT_BATCH_ROWS, DEFAULT_PROGRESS_EVERY_ROWS, UnverifiedCopyError, verifyCopy, type CopyProgress, type CopyReport,
  type TableReport } from '../actors/data/store/copy/copy-database.js';
import { checkDatabaseUrl, redactUrl } from '../actors/data/store/sql/postgres-url.js';
import { ConfigError } from '../src/errors.js';
import { databaseUrlFromFile } from './cli-options.js';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

interface Out { write(s: string): unknown }
interface MigrateOptions { from?: string; to?: string; toFile?: string; batchRows: number; progressEvery: number }

class UsageError extends Error {}

function positiveInt(name: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > 1_000_000) throw new InvalidArgumentError(`${name} must be an integer from 1 to 1000000`);
    return n;
  };
}

function buildProgram(onMigrate: (o: MigrateOptions) => void, onVerify: (o: MigrateOptions) => void, err: Out): Command {
  const program = new Command('cloudstackd db')
    .description('Database administration.')
    .exitOverride()
    .configureOutput({ writeErr: (s) => err.write(s) })
    .configureHelp({ helpWidth: 120 });
  program.command('migrate')
    .description('Copy a lab\'s SQLite database into an empty PostgreSQL database and verify the copy (row counts and checksums ' +
      'per table). Stop the lab first. Afterwards run cloudstackd with --database-url(-file) pointing at the same database.')
    .option('--from <data-dir>', 'the lab\'s data directory (holding cloudstackd.db)')
    .option('--to <url>', 'postgresql://user@host:port/database of an empty database (prefer --to-file when the URL has a password)')
    .option('--to-file <file>', 'file whose first line is the target URL, so that its password is not on the command line')
    .addOption(new Option('--batch-rows <n>', 'rows per INSERT statement').default(DEFAULT_BATCH_ROWS).argParser(positiveInt('--batch-rows')))
    .addOption(new Option('--progress-every <n>', 'report progress every n rows of a big table').default(DEFAULT_PROGRESS_EVERY_ROWS)
      .argParser(positiveInt('--progress-every')))
    .allowExcessArguments(false)
    .exitOverride()
    .action((o: MigrateOptions) => onMigrate(o));
  program.command('verify')
    .description('Compare a lab\'s SQLite database with its copy in PostgreSQL (row counts and checksums per table); changes neither.')
    .option('--from <data-dir>', 'the lab\'s data directory (holding cloudstackd.db)')
    .option('--to <url>', 'postgresql://user@host:port/database the lab was copied into')
    .option('--to-file <file>', 'file whose first line is that URL')
    .allowExcessArguments(false)
    .exitOverride()
    .action((o: MigrateOptions) => onVerify(o));
  return program;
}

function targetUrl(o: MigrateOptions, command: string): string {
  if (o.from === undefined) throw new UsageError(`db ${command} needs --from <data-dir> (the lab's data directory)`);
  if ((o.to === undefined) === (o.toFile === undefined)) throw new UsageError(`db ${command} needs exactly one of --to <url> and --to-file <file>`);
  try {
    return o.to !== undefined ? checkDatabaseUrl(o.to, '--to') : databaseUrlFromFile(o.toFile!, '--to-file');
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** Progress lines for stderr: each table once, big ones also on the way. */
function progressPrinter(err: Out): (p: CopyProgress) => void {
  return (p) => {
    if (p.phase === 'schema') err.write(`created the schema (migrations ${p.applied.join(', ')})\n`);
    else if (p.phase === 'copy' && p.copied === p.total) err.write(`  ${p.table}: ${p.total} rows\n`);
    else if (p.phase === 'copy' && p.copied > 0) err.write(`  ${p.table}: ${p.copied}/${p.total} rows ...\n`);
    else if (p.phase === 'sequences') err.write(`moved ${p.count} id sequences past the copied ids\n`);
    else if (p.phase === 'committed') err.write(`committed ${p.rows} rows; verifying (counts and checksums on both sides) ...\n`);
  };
}

export function formatTables(tables: readonly TableReport[]): string {
  const width = Math.max(5, ...tables.map((t) => t.table.length));
  const lines = [`${'table'.padEnd(width)}  ${'rows'.padStart(9)}  ${'pg rows'.padStart(9)}  ${'checksum'.padEnd(16)}  ok`];
  for (const t of tables) {
    lines.push(`${t.table.padEnd(width)}  ${String(t.sourceRows).padStart(9)}  ${String(t.targetRows).padStart(9)}  ` +
      `${t.sourceChecksum.slice(0, 16)}  ${t.ok ? 'ok' : `MISMATCH (PostgreSQL checksum ${t.targetChecksum.slice(0, 16)})`}`);
  }
  return lines.join('\n') + '\n';
}

function mismatchMessage(command: string, tables: readonly TableReport[], target: string, source: string): string {
  const bad = tables.filter((t) => !t.ok).map((t) => t.table);
  return `cloudstackd db ${command}: verification FAILED for ${bad.join(', ')}: the copy in ${target} does not match ${source}. ` +
    'The copy is left as is for inspection; do not run cloudstackd on it. To copy again, drop and recreate that database ' +
    '(DROP DATABASE name; CREATE DATABASE name OWNER user) and run db migrate again\n';
}

function runMigrate(o: MigrateOptions, out: Out, err: Out): number {
  let url: string;
  try { url = targetUrl(o, 'migrate'); } catch (e) {
    err.write(`cloudstackd db migrate: ${(e as Error).message}\n`);
    return EXIT_USAGE;
  }
  const started = Date.now();
  err.write(`copying ${o.from} into ${redactUrl(url)}\n`);
  let report: CopyReport;
  try {
    report = copyDatabase({ from: o.from!, to: url, batchRows: o.batchRows, progressEveryRows: o.progressEvery, onProgress: progressPrinter(err) });
  } catch (e) {
    err.write(`cloudstackd db migrate: ${(e as Error).message}\n` +
      (e instanceof UnverifiedCopyError ? '' : e instanceof ConfigError ? 'nothing was copied: the target database is as it was before this run\n' :
        'the copy runs as one transaction: unless the message says its COMMIT was lost, the target database is as it was before this run\n'));
    return EXIT_FAILED;
  }
  out.write(formatTables(report.tables));
  out.write(`not copied (SQLite full-text search tables; PostgreSQL indexes the copied rows itself): ${report.skipped.join(', ') || 'none'}\n`);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (!report.ok) {
    err.write(mismatchMessage('migrate', report.tables, report.target, report.source));
    return EXIT_FAILED;
  }
  out.write(`copied ${report.rows} rows in ${report.tables.length} tables from ${report.source} to ${report.target} ` +
    `(schema version ${report.schemaVersion}) in ${seconds} s; verified: every count and checksum matches\n` +
    'next: start cloudstackd with --database-url-file (or --database-url) naming that database\n');
  return EXIT_OK;
}

function runVerify(o: MigrateOptions, out: Out, err: Out): number {
  let url: string;
  try { url = targetUrl(o, 'verify'); } catch (e) {
    err.write(`cloudstackd db verify: ${(e as Error).message}\n`);
    return EXIT_USAGE;
  }
  let tables: TableReport[];
  try {
    tables = verifyCopy({ from: o.from!, to: url });
  } catch (e) {
    err.write(`cloudstackd db verify: ${(e as Error).message}\n`);
    return EXIT_FAILED;
  }
  out.write(formatTables(tables));
  if (tables.some((t) => !t.ok)) {
    err.write(mismatchMessage('verify', tables, redactUrl(url), o.from!));
    return EXIT_FAILED;
  }
  out.write(`verified ${tables.length} tables: every count and checksum matches between ${o.from!} and ${redactUrl(url)}\n`);
  return EXIT_OK;
}

/** Runs `cloudstackd db <argv...>` and returns the exit code. */
export async function runDbCli(argv: string[], out: Out = process.stdout, err: Out = process.stderr): Promise<number> {
  let code: number | undefined;
  const program = buildProgram((o) => { code = runMigrate(o, out, err); }, (o) => { code = runVerify(o, out, err); }, err);
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    throw e;
  }
  if (code === undefined) {
    err.write(program.helpInformation());
    return EXIT_USAGE;
  }
  return code;
}
