import { afterAll, describe, expect, it } from 'vitest';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { freePort } from '../support/global-setup.ts';
import { exited } from '../support/worker-process.ts';

const bin = fileURLToPath(new URL('../../bin/sealpost.js', import.meta.url));

/**
 * What a new user does: `npm start` with nothing configured. Embedded PostgreSQL
 * under DATA_DIR, mail to DATA_DIR/mail as .eml, a second CLI process sharing the
 * running cluster, and a clean stop on SIGTERM.
 */
describe('sealpost start with nothing configured', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sealpost-start-'));
  chmodSync(dir, 0o755);
  let server: ChildProcess | undefined;

  afterAll(async () => {
    if (server && server.exitCode === null) {
      server.kill('SIGKILL');
      await exited(server);
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves, delivers to ./var/mail and shuts down cleanly', { timeout: 90_000 }, async () => {
    const port = await freePort();
    const env = {
      PATH: process.env.PATH ?? '',
      DATA_DIR: join(dir, 'var'),
      PORT: String(port),
      EMBEDDED_PG_PORT: String(await freePort()),
      LOG_LEVEL: 'info',
    };
    server = spawn(process.execPath, [bin, 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    server.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    server.stderr!.on('data', (d: Buffer) => (output += d.toString()));

    const base = `http://127.0.0.1:${port}`;
    await expect
      .poll(async () => (await fetch(`${base}/readyz`).catch(() => undefined))?.status, { timeout: 60_000, interval: 250 })
      .toBe(200);
    expect(output).toMatch(/DATABASE_URL is not set/);
    expect(output).toMatch(/SMTP_URL is not set/);
    expect(output).toMatch(/SEALPOST_MASTER_KEY is not set/);

    const { stdout } = await promisify(execFile)(process.execPath, [bin, 'tenant', 'create', 'demo', '--json'], { env });
    const { apiKey } = JSON.parse(stdout);

    const res = await fetch(`${base}/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ from: 'payroll@example.com', to: ['anna@example.org'], subject: 'Hello', text: 'First message' }),
    });
    expect(res.status).toBe(202);
    expect(res.headers.get('x-request-id')).toBeTruthy();

    const mailDir = join(dir, 'var', 'mail');
    await expect.poll(() => (existsSync(mailDir) ? readdirSync(mailDir).filter((f) => f.endsWith('.eml')).length : 0), { timeout: 20_000 }).toBe(1);
    const eml = readFileSync(join(mailDir, readdirSync(mailDir).find((f) => f.endsWith('.eml'))!), 'utf8');
    // No certificate: a portal notification (docs/modes.md), linking to this server when PUBLIC_BASE_URL is unset.
    expect(eml).toMatch(/^Subject: Confidential message from payroll@example\.com\r$/m);
    expect(eml).not.toContain('First message');
    const link = new RegExp(`${base}/r/([A-Za-z0-9_-]{43})`).exec(eml);
    expect(link, eml).not.toBeNull();
    // The link shows an "Open message" button; its POST opens the message (docs/modes.md).
    const page = await fetch(`${link![0]}/open`, { method: 'POST' });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('First message');
    expect(output).not.toContain(link![1]);

    // Logs carry request ids and never the body or the key.
    expect(output).toMatch(/"reqId":"[^"]+"/);
    expect(output).not.toContain('First message');
    expect(output).not.toContain(apiKey.split('.')[1]);

    server.kill('SIGTERM');
    expect(await exited(server)).toBe(0);
    expect(existsSync(join(dir, 'var', 'pg', 'postmaster.pid'))).toBe(false);
    expect(output).toMatch(/"msg":"stopped"/);
  });
});
