import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createIdentityFiles } from '../../src/transport/identity-files.ts';
import { createSmtpTransport } from '../../src/transport/smtp-transport.ts';
import { createTestCa } from '../support/pki.ts';
import { startSmtpPeer } from '../support/smtp-peer.ts';

/**
 * The mutual-TLS client certificate and key are read once per path and then
 * re-checked every few seconds (src/transport/identity-files.ts), not read for
 * every message: a changed file still takes effect, an unreadable one still
 * fails the delivery (ECLIENTIDENTITY).
 */
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const close of cleanups.splice(0).reverse()) await close();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sealpost-identity-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('createIdentityFiles', () => {
  it('serves a file from memory until recheckMs, then re-reads it only when it changed; never remembers a failure', async () => {
    const dir = tempDir();
    const path = join(dir, 'client.crt');
    let clock = 1_000;
    const files = createIdentityFiles({ recheckMs: 5_000, now: () => clock });

    await expect(files.read(path)).rejects.toMatchObject({ code: 'ENOENT' });
    writeFileSync(path, 'first');
    expect((await files.read(path)).toString()).toBe('first');

    writeFileSync(path, 'second, longer');
    clock += 4_999;
    expect((await files.read(path)).toString(), 'read again before recheckMs').toBe('first');
    clock += 1;
    expect((await files.read(path)).toString()).toBe('second, longer');

    rmSync(path);
    clock += 1_000;
    expect((await files.read(path)).toString(), 'a deleted file is noticed at the next check, not before').toBe('second, longer');
    clock += 5_000;
    await expect(files.read(path)).rejects.toMatchObject({ code: 'ENOENT' });
    writeFileSync(path, 'third');
    expect((await files.read(path)).toString(), 'the failure was remembered').toBe('third');

    // A path that is not a readable file (here a directory) fails like a missing one.
    await expect(files.read(dir)).rejects.toMatchObject({ code: 'EISDIR' });
  });

  it('checks a path once for concurrent reads', async () => {
    const path = join(tempDir(), 'client.key');
    writeFileSync(path, 'key');
    const files = createIdentityFiles();
    const reads = await Promise.all([files.read(path), files.read(path), files.read(path)]);
    expect(reads.map(String)).toEqual(['key', 'key', 'key']);
    expect(reads[1]).toBe(reads[0]);
    expect(reads[2]).toBe(reads[0]);
  });
});

describe('mutual TLS through createSmtpTransport', () => {
  it('fails a delivery while the key is unreadable, delivers once it is there, keeps using it from memory, and notices changes', async () => {
    const clientCa = await createTestCa('Partner Client CA');
    const peer = await startSmtpPeer({ clientCa: clientCa.certPem });
    cleanups.push(() => peer.close());
    const dir = tempDir();
    const certFile = join(dir, 'client.crt');
    const keyFile = join(dir, 'client.key');
    const ours = await clientCa.issueClient('sealpost.test');
    const stranger = await (await createTestCa('Unknown CA')).issueClient('sealpost.test');
    const recheckMs = 1_500;
    const transport = createSmtpTransport({
      url: peer.url,
      caFile: peer.caFile,
      defaultPolicy: { source: 'default', mode: 'mutual-tls', route: 'mx', business: false, clientCertFile: certFile, clientKeyFile: keyFile },
      timeoutMs: 10_000,
      maxConnections: 2,
      identityRecheckMs: recheckMs,
      log: pino({ level: 'silent' }),
    });
    cleanups.push(() => transport.close());
    const send = () => transport.send(Buffer.from('Subject: mtls\r\n\r\nhello\r\n'), { from: 'sender@example.com', to: 'anna@partner.test' });
    const pastRecheck = () => new Promise((resolve) => setTimeout(resolve, recheckMs + 200));

    writeFileSync(certFile, ours.certPem);
    const missing = await send();
    expect(missing).toMatchObject({ kind: 'temporary', code: 'ECLIENTIDENTITY' });
    expect(missing.kind !== 'delivered' && missing.reason).toMatch(/^cannot read the TLS client identity for default: ENOENT$/);

    writeFileSync(keyFile, ours.keyPem);
    expect(await send(), 'the missing key was remembered').toMatchObject({ kind: 'delivered' });

    // Within recheckMs the identity comes from memory: deleting the files changes nothing yet.
    rmSync(certFile);
    rmSync(keyFile);
    expect(await send()).toMatchObject({ kind: 'delivered' });
    await pastRecheck();
    expect(await send()).toMatchObject({ kind: 'temporary', code: 'ECLIENTIDENTITY' });

    // A replaced identity takes effect at the next check: here one the peer does not trust.
    writeFileSync(certFile, stranger.certPem);
    writeFileSync(keyFile, stranger.keyPem);
    const refused = await send();
    expect(refused).toMatchObject({ kind: 'permanent', code: 'tls_client_certificate_refused' });
    writeFileSync(certFile, ours.certPem);
    writeFileSync(keyFile, ours.keyPem);
    await pastRecheck();
    expect(await send()).toMatchObject({ kind: 'delivered' });
    expect(peer.received).toHaveLength(3);
  });
});
