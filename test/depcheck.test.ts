import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from './helpers/paths.js';

const run = promisify(execFile);
const root = projectRoot();
const depcruise = join(root, 'node_modules/.bin/depcruise');
const config = join(root, '.dependency-cruiser.cjs');

/** Builds a small tree with the given files and runs the project's dependency rules on it. */
async function check(files: Record<string, string>): Promise<{ ok: boolean; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'depcheck-'));
  try {
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext' } }));
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    const dirs = ['src', 'transports', 'actors', 'bin'].filter((d) => Object.keys(files).some((f) => f.startsWith(d + '/')));
    try {
      const r = await run(depcruise, ['--config', config, ...dirs], { cwd: dir });
      return { ok: true, output: r.stdout };
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string };
      return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` || String(err) };
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('dependency direction check (npm run depcheck)', function () {
  this.timeout(60_000);

  it('accepts the allowed directions', async () => {
    const r = await check({
      'src/core.ts': 'export const core = 1;\n',
      'transports/t.ts': "import { core } from '../src/core.js';\nexport const t = core;\n",
      'actors/a/protocol.ts': "import { core } from '../../src/core.js';\nexport const p = core;\n",
      'actors/b/actor.ts': "import { p } from '../a/protocol.js';\nimport { t } from '../../transports/t.js';\nexport const b = p + t;\n",
      'bin/main.ts': "import { b } from '../actors/b/actor.js';\nconsole.log(b);\n",
    });
    expect(r.ok, r.output).to.equal(true);
  });

  it('fails when src imports a transport', async () => {
    const r = await check({
      'src/core.ts': "import { t } from '../transports/t.js';\nexport const core = t;\n",
      'transports/t.ts': 'export const t = 1;\n',
    });
    expect(r.ok).to.equal(false);
    expect(r.output).to.contain('src-is-the-bottom-layer');
  });

  it('fails when a transport imports a component', async () => {
    const r = await check({
      'transports/t.ts': "import { a } from '../actors/a/protocol.js';\nexport const t = a;\n",
      'actors/a/protocol.ts': 'export const a = 1;\n',
    });
    expect(r.ok).to.equal(false);
    expect(r.output).to.contain('transports-below-actors');
  });

  it('fails when a component imports another component\'s internals', async () => {
    const r = await check({
      'actors/a/internal.ts': 'export const secret = 1;\n',
      'actors/b/actor.ts': "import { secret } from '../a/internal.js';\nexport const b = secret;\n",
    });
    expect(r.ok).to.equal(false);
    expect(r.output).to.contain('components-talk-through-protocols');
  });

  it('fails on an import cycle', async () => {
    const r = await check({
      'src/x.ts': "import { y } from './y.js';\nexport const x = () => y;\n",
      'src/y.ts': "import { x } from './x.js';\nexport const y = () => x;\n",
    });
    expect(r.ok).to.equal(false);
    expect(r.output).to.contain('no-circular');
  });
});
