#!/usr/bin/env node
/**
 * The cloudstackd command. With the default role on the in-process transport it runs the all-in-one
 * lab (lab-cli.ts); otherwise it runs a node with the chosen components (node-cli.ts). `--role` only
 * chooses which components run: each is started from the one component table, the same way everywhere.
 * Subcommands: `up` (up-cli.ts), `status` (status-cli.ts), `db migrate` (db-cli.ts).
 */
import { ConfigError } from '../src/errors.js';
import { parseCli } from './cli-options.js';
import { runDbCli } from './db-cli.js';
import { ROLE_SETS } from './components.js';
import { runLabCli } from './lab-cli.js';
import { runNodeCli } from './node-cli.js';
import { watchParent } from './parent-watch.js';
import { runStatusCli } from './status-cli.js';
import { runUpCli } from './up-cli.js';

function isLab(roles: readonly string[], transport: string): boolean {
  const all = ROLE_SETS.all!;
  return transport === 'inproc' && roles.length === all.length && all.every((r) => roles.includes(r));
}

// A launched process whose launcher is gone stops as on SIGTERM (cleanly once its handlers are in place).
watchParent(() => process.kill(process.pid, 'SIGTERM'));

function main(): Promise<void> {
  const sub = process.argv[2];
  if (sub === 'up') return runUpCli(process.argv.slice(3));
  if (sub === 'status') return runStatusCli(process.argv.slice(3)).then(() => process.exit(0));
  if (sub === 'db') return runDbCli(process.argv.slice(3)).then((code) => process.exit(code));
  const config = parseCli(process.argv);
  return isLab(config.roles, config.transport) ? runLabCli(config) : runNodeCli(config);
}

main().catch((err: unknown) => {
  process.stderr.write(`cloudstackd: ${(err as Error).message ?? String(err)}\n`);
  process.exit(1);
});
