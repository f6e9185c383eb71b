/**
 * Telling a database that cannot be reached from a call that failed: the data actor lets such a call
 * wait for the database (see DataActorOptions.unavailableRetryMs) and fails any other at once.
 */
import { ResourceUnavailableError } from '../../src/errors.js';
import { PostgresError } from './store/sql/postgres-connection.js';

/** How deep a cause chain is followed (the connection wraps its error once or twice). */
const MAX_CAUSE_DEPTH = 4;

/**
 * When `err` says the database could not be reached and nothing was committed (the connection's
 * ResourceUnavailableError caused by a connection failure), the driver's words for it (`connect
 * ECONNREFUSED ...`); otherwise undefined. Not a ResourceUnavailableError of the store itself (a host
 * that is not Up), and not a connection lost during COMMIT, whose outcome is unknown.
 */
export function databaseLost(err: unknown): string | undefined {
  if (!(err instanceof ResourceUnavailableError)) return undefined;
  let cause: unknown = err.cause;
  for (let i = 0; i < MAX_CAUSE_DEPTH && cause !== undefined; i++) {
    if (cause instanceof PostgresError) return cause.error.connection ? cause.error.message : undefined;
    cause = (cause as { cause?: unknown }).cause;
  }
  return undefined;
}
