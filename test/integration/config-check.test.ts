import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config.ts';

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../../bin/sealpost.js', import.meta.url));

/** `sealpost config check` with exactly this environment (and PATH). */
function configCheck(env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(process.execPath, [bin, 'config', 'check'], { env: { PATH: process.env.PATH ?? '', ...env } }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );
}

/** The printed settings: name → the rest of its line. */
function settings(stdout: string): Map<string, string> {
  const names = new Set(Object.keys(configSchema.shape));
  const lines = stdout.split('\n').map((l) => /^([A-Z][A-Z0-9_]*)\s+(.*)$/.exec(l)).filter((m) => m && names.has(m[1]!));
  return new Map(lines.map((m) => [m![1]!, m![2]!]));
}

describe('sealpost config check', () => {
  it('prints every setting it would use, defaults marked and secrets masked, without opening anything', async () => {
    const masterKey = randomBytes(32).toString('base64');
    const result = await configCheck({
      // Nothing listens there: the check must not connect.
      DATABASE_URL: 'postgres://sealpost:db-Secret-4711@127.0.0.1:1/sealpost?sslmode=disable',
      SMTP_URL: 'smtp://relay-user:smtp-Secret-0815@relay.example.com:587',
      SEALPOST_MASTER_KEY: masterKey,
      PORT: '8443',
      WORKER_ENABLED: 'no',
      LOG_LEVEL: 'debug',
    });
    expect(result.code, result.stderr).toBe(0);
    const shown = settings(result.stdout);
    expect([...shown.keys()].sort()).toEqual(Object.keys(configSchema.shape).sort());
    expect(shown.get('PORT')).toBe('8443');
    expect(shown.get('WORKER_ENABLED')).toBe('false');
    expect(shown.get('HOST')).toBe('127.0.0.1  (default)');
    expect(shown.get('MAX_MESSAGE_BYTES')).toBe('31457280  (default)');
    expect(shown.get('TLS_CERT_FILE')).toBe('(unset)');
    expect(shown.get('SEALPOST_MASTER_KEY')).toBe('***');
    expect(shown.get('DATABASE_URL')).toBe('postgres://sealpost:***@127.0.0.1:1/sealpost?sslmode=disable');
    expect(shown.get('SMTP_URL')).toBe('smtp://relay-user:***@relay.example.com:587');
    const output = result.stdout + result.stderr;
    for (const secret of [masterKey, Buffer.from(masterKey, 'base64').toString('hex'), 'db-Secret-4711', 'smtp-Secret-0815']) {
      expect(output).not.toContain(secret);
    }
  });

  it('names the development fallbacks an empty environment selects', async () => {
    const result = await configCheck({});
    expect(result.code, result.stderr).toBe(0);
    expect(settings(result.stdout).get('DATABASE_URL')).toBe('(unset)');
    expect(result.stdout).toMatch(/DATABASE_URL unset: an embedded PostgreSQL/);
    expect(result.stdout).toMatch(/SEALPOST_MASTER_KEY unset: a development key/);
    expect(result.stdout).toMatch(/SMTP_URL unset: mail is written to/);
  });

  it('exits 1 naming each bad variable, and never echoes the master key', async () => {
    const badKey = 'not-a-key-but-still-secret';
    const result = await configCheck({ PORT: 'eighty', SMTP_URL: 'http://relay.example.com', SEALPOST_MASTER_KEY: badKey });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/invalid configuration/);
    expect(result.stderr).toMatch(/^\s+PORT: /m);
    expect(result.stderr).toMatch(/^\s+SMTP_URL: must be an smtp:\/\/ or smtps:\/\/ URL/m);
    expect(result.stderr).toMatch(/^\s+SEALPOST_MASTER_KEY: must be 32 random bytes/m);
    expect(result.stderr).not.toContain(badKey);
  });

  it('refuses an unknown subcommand with the usage', async () => {
    const result = await run(process.execPath, [bin, 'config', 'show'], { env: { PATH: process.env.PATH ?? '' } }).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(result).toMatchObject({ code: 2 });
    expect((result as { stderr: string }).stderr).toMatch(/sealpost config check/);
  });
});
