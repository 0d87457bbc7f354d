import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from './children.ts';

/**
 * The package as deployed (`npm run build`, the container image): the sources
 * compiled with tsconfig.build.json into `<dir>/dist`, and every other top-level
 * entry of the project (package.json, node_modules, migrations, …) linked
 * beside it, so the compiled CLI finds its package root where it expects it.
 * Built in a temporary directory, never in the working tree: a dist/ there would
 * make bin/sealpost.js (and every test that runs it) use stale compiled code.
 * Returns the path of the compiled CLI entry point.
 */
export function buildCompiledPackage(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const tsc = join(projectRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  const built = spawnSync(process.execPath, [tsc, '-p', join(projectRoot, 'tsconfig.build.json'), '--outDir', join(dir, 'dist')], { encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`the compiled build failed:\n${built.stdout}${built.stderr}`);
  for (const entry of readdirSync(projectRoot)) {
    if (entry !== 'dist' && entry !== '.git') symlinkSync(join(projectRoot, entry), join(dir, entry));
  }
  return join(dir, 'dist', 'src', 'cli', 'main.js');
}
