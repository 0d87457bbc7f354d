import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCrlStore } from '../../src/pki/crl-store.ts';
import { createSmimeCa } from '../support/smime-certs.ts';

describe('createCrlStore', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sealpost-crl-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('re-reads a CRL file when it changes, so a revocation takes effect without a restart', async () => {
    const ca = await createSmimeCa();
    const user = await ca.issueUser('Dora', { emails: ['dora@example.org'] });
    const file = join(dir, 'intermediate.crl');
    writeFileSync(file, (await ca.crl({})).toString('pem'));
    const crls = await createCrlStore([file], 0);
    expect((await crls())[0]!.entries).toHaveLength(0);

    writeFileSync(file, (await ca.crl({ revoked: [{ serial: user.cert.serialNumber }] })).toString('pem'));
    utimesSync(file, new Date(), new Date(Date.now() + 5000)); // a clearly newer mtime, whatever the file system's resolution
    const entries = (await crls())[0]!.entries;
    expect(entries.map((e) => e.serialNumber.toLowerCase())).toEqual([user.cert.serialNumber.toLowerCase()]);
  });

  it('fails at start on a missing or broken file, naming it', async () => {
    await expect(createCrlStore([join(dir, 'missing.crl')])).rejects.toThrow(/missing\.crl/);
    const broken = join(dir, 'broken.crl');
    writeFileSync(broken, '-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n');
    await expect(createCrlStore([broken])).rejects.toThrow(/broken\.crl/);
  });
});
