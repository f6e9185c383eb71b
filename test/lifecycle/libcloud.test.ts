/**
 * Apache Libcloud's CloudStack driver (Debian's python3-libcloud) against a real lab: its create_node()
 * passes no networkids, so a fresh account's nodes land on its default network, and get their address
 * when they run. Skipped, saying so, where no python3 on this machine can import libcloud.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { projectRoot } from '../helpers/paths.js';
import { csclient } from './csclient.js';
import { startTestLab, type TestLab } from './lab-fixture.js';

const run = promisify(execFile);

/** Interpreters tried in turn: the one on PATH, then Debian's own (where apt installs python3-libcloud). */
const PYTHONS = ['python3', '/usr/bin/python3'];

/** How long the driver script may take: two deploys, a start and three lists. */
const SCRIPT_TIMEOUT_MS = 20_000;

async function pythonWithLibcloud(): Promise<string | undefined> {
  for (const py of PYTHONS) {
    try {
      await run(py, ['-c', 'import libcloud'], { timeout: 5_000 });
      return py;
    } catch {
      // not this one
    }
  }
  return undefined;
}

interface NodeView { id: string; name: string; state: string; private_ips: string[]; public_ips: string[] }
interface ScriptOutput {
  created_stopped: NodeView;
  created_started: NodeView;
  listed: Record<string, NodeView>;
  networks: { id: string; name: string }[];
}

describe('lifecycle: Apache Libcloud create_node (no networks given)', function () {
  this.timeout(40_000);
  let python: string | undefined;
  let t: TestLab | undefined;

  before(async function () {
    python = await pythonWithLibcloud();
    if (python === undefined) {
      // Under CI a missing client is a failure: .ci/install-packages.sh installs python3-libcloud.
      if (process.env.CI === 'true') throw new Error(`none of ${PYTHONS.join(', ')} can import libcloud; .ci/install-packages.sh installs python3-libcloud`);
      console.log(`      (skipped: none of ${PYTHONS.join(', ')} can import libcloud; apt-get install python3-libcloud)`);
      this.skip();
    }
    t = await startTestLab({ hosts: 2 });
  });

  after(async () => { await t?.stop(); });

  it("puts a fresh account's nodes on its <account>-network; a started node has its private address", async () => {
    const lab = t!;
    const admin = await csclient(lab.lab.endpoint, lab.lab);
    const acct = (await admin.sync('createAccount', { username: 'libby', password: 'secret-16', email: 'libby@example.com',
      firstname: 'Libby', lastname: 'Cloud', accounttype: 0 }))['account'] as { user: { id: string }[] };
    const keys = (await admin.sync('registerUserKeys', { id: acct.user[0]!.id }))['userkeys'] as { apikey: string; secretkey: string };
    const script = join(projectRoot(), 'test/fixtures/libcloud-create-node.py');
    const { stdout } = await run(python!, [script, lab.lab.endpoint, keys.apikey, keys.secretkey], { timeout: SCRIPT_TIMEOUT_MS });
    const out = JSON.parse(stdout) as ScriptOutput;
    // Libcloud 3.x sends startvm=False by default: the node is created Stopped, its address comes with its start.
    expect(out.created_stopped).to.include({ name: 'lc-stopped', state: 'stopped' });
    expect(out.created_started).to.include({ name: 'lc-started', state: 'running' });
    expect(out.created_started.private_ips).to.have.length(1);
    for (const name of ['lc-stopped', 'lc-started']) {
      const node = out.listed[name]!;
      expect(node.state, name).to.equal('running');
      expect(node.private_ips, name).to.have.length(1);
      expect(node.private_ips[0], name).to.match(/^10\.1\.1\.\d+$/);
    }
    expect(out.networks.map((n) => n.name)).to.deep.equal(['libby-network']);
    expect(await lab.violations()).to.deep.equal([]);
  });
});
