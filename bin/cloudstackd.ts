#!/usr/bin/env node
/**
 * The cloudstackd command. With the default role on the in-process transport it runs the all-in-one
 * lab (lab-cli.ts); otherwise it runs a node with the chosen components (node-cli.ts). `--role` only
 * chooses which components run: each is started from the one component table, the same way everywhere.
 */
import { parseCli } from './cli-options.js';
import { ROLE_SETS } from './components.js';
import { runLabCli } from './lab-cli.js';
import { runNodeCli } from './node-cli.js';
import { watchParent } from './parent-watch.js';

function isLab(roles: readonly string[], transport: string): boolean {
  const all = ROLE_SETS.all!;
  return transport === 'inproc' && roles.length === all.length && all.every((r) => roles.includes(r));
}

// A launched process whose launcher is gone stops as on SIGTERM (cleanly once its handlers are in place).
watchParent(() => process.kill(process.pid, 'SIGTERM'));

const config = parseCli(process.argv);
const run = isLab(config.roles, config.transport) ? runLabCli(config) : runNodeCli(config);
run.catch((err: unknown) => {
  process.stderr.write(`cloudstackd: ${(err as Error).message ?? String(err)}\n`);
  process.exit(1);
});
