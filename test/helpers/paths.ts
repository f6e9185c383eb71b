import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root (works from test/ under tsx and from dist/test/ after the build). */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'cloudstackd') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the cloudstackd project root');
    dir = up;
  }
}

/** The built CLI entry point that child-process tests run. */
export function cliPath(): string {
  return join(projectRoot(), 'dist/bin/cloudstackd.js');
}
