import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { errorCodes } from '../../src/core/errors.ts';
import { projectPath } from '../../src/paths.ts';

describe('docs/errors.md', () => {
  const rows = new Map(
    [...readFileSync(projectPath('docs', 'errors.md'), 'utf8').matchAll(/^\| `([a-z0-9_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1]!, Number(m[2])]),
  );

  it('documents every error code with its HTTP status, and nothing else', () => {
    const documented = Object.fromEntries(rows);
    const actual = Object.fromEntries(Object.entries(errorCodes).map(([code, { status }]) => [code, status]));
    expect(documented).toEqual(actual);
  });
});
