import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root (where package.json is), from src/ under tsx or from dist/ when built. */
function findProjectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the Sealpost package root');
    dir = parent;
  }
  return dir;
}

export const projectRoot = findProjectRoot();
export const projectPath = (...parts: string[]) => join(projectRoot, ...parts);
