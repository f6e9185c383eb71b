/** The README's embedding example runs as shipped (built to dist/examples) and lists the lab's zone. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'chai';
import { projectRoot } from '../helpers/paths.js';

describe('examples/embed-lab', function () {
  this.timeout(30_000);

  it('starts a lab, lists its zone with a signed request, and stops', () => {
    const r = spawnSync(process.execPath, [join(projectRoot(), 'dist/examples/embed-lab.js')], { encoding: 'utf8', timeout: 25_000 });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^endpoint http:\/\/127\.0\.0\.1:\d+\/client\/api$/m);
    expect(r.stdout).to.match(/^zone lab-zone \([0-9a-f-]{36}\)$/m);
  });
});
