import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from './children.ts';

/** Writes `bench/results/<benchmark>-<ISO timestamp>.json` and returns its path. */
export function writeResultFile(benchmark: string, startedAt: Date, result: unknown): string {
  const dir = join(projectRoot, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${benchmark}-${startedAt.toISOString().replace(/:/g, '-').replace(/\.\d+Z$/, 'Z')}.json`);
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  return file;
}
