/**
 * examples/split-cloud.sh runs as shipped: one process per component instance, listManagementServers
 * naming each with its components, both compute hosts Up, and everything torn down.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'chai';
import { projectRoot } from '../helpers/paths.js';

describe('examples/split-cloud.sh', function () {
  this.timeout(150_000);

  it('starts data, 2 api, 2 orchestrators, network+storage, 2 fabric and 2 compute processes, lists them, and tears down', async () => {
    const child = spawn('bash', [join(projectRoot(), 'examples/split-cloud.sh')], { cwd: projectRoot(), env: process.env });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGTERM'), 140_000);
      child.on('exit', (c) => { clearTimeout(timer); resolve(c); });
    });
    expect(code, out).to.equal(0);
    for (const line of ['api1  api', 'data  data', 'orch2  orchestrator', 'fabric1  fabric-admin,fabric-monitor', 'netsto  network,storage']) {
      expect(out).to.contain(line);
    }
    expect(out).to.match(/kvm-1 {2}Up/);
    expect(out).to.match(/kvm-2 {2}Up/);
    expect(out).to.match(/^stopped; removed /m);
  });
});
