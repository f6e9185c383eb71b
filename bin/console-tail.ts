#!/usr/bin/env node
/**
 * `cloudstackd-console <instance> [--data-dir DIR] [--lines N] [--follow]`: the serial console of a guest
 * on this KVM host, from the log its compute node keeps under <data-dir>/console/<instance>.log.
 */
import { readFileSync, watchFile } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { KVM_DEFAULTS } from '../actors/compute/kvm/kvm-config.js';
import { consoleLogPath, tailLines } from '../actors/compute/kvm/kvm-driver.js';

const program = new Command('cloudstackd-console')
  .description('Shows the tail of a KVM guest\'s serial console (run it on the guest\'s host)')
  .argument('<instance>', 'the instance name, as listVirtualMachines shows it (instancename), e.g. i-2-10-VM')
  .addOption(new Option('--data-dir <dir>', 'the compute node\'s --data-dir').default('./data'))
  .addOption(new Option('--lines <n>', 'lines to show').default(KVM_DEFAULTS.consoleTailLines).argParser((v) => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('--lines must be a positive whole number');
    return n;
  }))
  .addOption(new Option('--follow', 'keep printing what the guest writes').default(false))
  .action((instance: string, o: { dataDir: string; lines: number; follow: boolean }) => {
    const file = consoleLogPath(o.dataDir, instance);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      process.stderr.write(`cloudstackd-console: no console log ${file}: is ${instance} running on this host, and is --data-dir the compute node's?\n`);
      process.exit(1);
    }
    process.stdout.write(`${tailLines(text, o.lines)}\n`);
    if (!o.follow) return;
    let seen = Buffer.byteLength(text);
    watchFile(file, { interval: 250 }, () => {
      const now = readFileSync(file);
      if (now.length > seen) process.stdout.write(now.subarray(seen));
      seen = now.length;
    });
  });

program.parse(process.argv);
