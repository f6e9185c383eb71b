import { ConfigError } from '../../../../src/errors.js';

/** The URL without its password, for logs and errors: the password is never printed. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return '<a database URL that does not parse>';
  }
}

/** Checks a --database-url value: postgresql:// or postgres://, with a host and a database name. */
export function checkDatabaseUrl(url: string, option = '--database-url'): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError(`${option}: not a URL (expected postgresql://user[:password]@host[:port]/database)`);
  }
  if (u.protocol !== 'postgresql:' && u.protocol !== 'postgres:') {
    throw new ConfigError(`${option}: scheme ${u.protocol} is not supported; use postgresql://user@host:port/database ` +
      '(SQLite is the default when no URL is given)');
  }
  if (u.pathname.length <= 1) throw new ConfigError(`${option}: ${redactUrl(url)} names no database (…/database)`);
  if (u.hostname === '' && !u.searchParams.has('host')) throw new ConfigError(`${option}: ${redactUrl(url)} names no host`);
  return url;
}
