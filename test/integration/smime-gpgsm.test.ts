import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signMessage, signThenEncrypt } from '../../src/smime/index.ts';
import { multipartSignedParts, readEntity } from '../../src/smime/entity-parts.ts';
import { run, scratch } from '../support/openssl-cms.ts';
import { createSmimeTestCa, type SmimeTestCa, type SmimeUser } from '../support/smime-ca.ts';

// A second, independent S/MIME implementation (GnuPG's gpgsm, libksba) reads what we write.
let ca: SmimeTestCa;
let user: SmimeUser;
let files: Awaited<ReturnType<typeof scratch>>;
let env: NodeJS.ProcessEnv;
const PASSWORD = 'gpgsm-test';
const message = Buffer.from('From: payroll@example.com\r\nTo: gpg@example.org\r\nSubject: Payslip\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nhello gpgsm\r\n');
const gpgsm = (args: string[], stdin?: Buffer) => run('gpgsm', ['--batch', '--pinentry-mode', 'loopback', '--passphrase-fd', '0', ...args], stdin ?? Buffer.from(`${PASSWORD}\n`), env);
const bodyDer = (m: Buffer) => Buffer.from(readEntity(m).body.toString('latin1'), 'base64');

beforeAll(async () => {
  ca = await createSmimeTestCa();
  user = await ca.issueSmime('Gpg User', 'gpg@example.org');
  files = await scratch();
  const home = `${files.dir}/gnupg`;
  await run('mkdir', ['-m', '700', home]);
  env = { PATH: process.env.PATH ?? '/usr/bin:/bin', GNUPGHOME: home };
  await files.file('gnupg/gpgsm.conf', 'disable-crl-checks\ndisable-dirmngr\n');
  await files.file('gnupg/gpg-agent.conf', 'allow-loopback-pinentry\n');
  const fingerprint = (await run('openssl', ['x509', '-noout', '-fingerprint', '-sha1'], Buffer.from(ca.certPem))).stdout.toString().trim().split('=')[1];
  await files.file('gnupg/trustlist.txt', `${fingerprint} S relax\n`);
  // gpgsm 2.2 reads only legacy (3DES) PKCS#12 files
  const p12 = await run('openssl', ['pkcs12', '-export', '-legacy', '-inkey', await files.file('k.pem', user.keyPem), '-in', await files.file('c.pem', user.certPem), '-passout', `pass:${PASSWORD}`]);
  expect(p12.code, p12.stderr).toBe(0);
  expect((await gpgsm(['--import', await files.file('ca.pem', ca.certPem)])).code).toBe(0);
  const imported = await gpgsm(['--import', await files.file('id.p12', p12.stdout)]);
  expect(imported.stderr).toContain('secret keys imported: 1');
}, 60_000);

afterAll(async () => {
  if (env) await run('gpgconf', ['--kill', 'all'], undefined, env);
  await files?.remove();
});

describe('gpgsm', () => {
  it('decrypts a signed-then-encrypted message and verifies its detached signature', async () => {
    const both = await signThenEncrypt(message, { certificate: user.certPem, privateKey: user.privateKey }, [{ certificate: user.certPem }]);
    const out = `${files.dir}/decrypted`;
    const decrypted = await gpgsm(['--output', out, '--decrypt', await files.file('enc.der', bodyDer(both))]);
    expect(decrypted.code, decrypted.stderr).toBe(0);
    const signedEntity = await run('cat', [out]);
    expect(signedEntity.stdout.toString()).toMatch(/^Content-Type: multipart\/signed;/);

    const { content, signature } = multipartSignedParts(readEntity(signedEntity.stdout));
    const verified = await gpgsm(['--verify', await files.file('sig.der', signature), await files.file('content', content)]);
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stderr).toContain('Good signature from "/CN=Gpg User/EMail=gpg@example.org"');
  });

  it('verifies an opaque signed message', async () => {
    const signed = await signMessage(message, { certificate: user.certPem, privateKey: user.keyPem }, { detached: false });
    const out = `${files.dir}/opaque-content`;
    const verified = await gpgsm(['--output', out, '--verify', await files.file('opaque.der', bodyDer(signed))]);
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stderr).toContain('Good signature');
    expect((await run('cat', [out])).stdout.toString()).toContain('hello gpgsm');
  });
});
