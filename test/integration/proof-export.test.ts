import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { appendFile, mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, submission, type TestApp } from '../support/app.ts';
import { run, scratch } from '../support/openssl-cms.ts';
import { createSmimeCa } from '../support/smime-certs.ts';
import { startSmtpPeer, type SmtpPeer } from '../support/smtp-peer.ts';
import { waitFor } from '../support/wait.ts';

const exec = promisify(execFile);
const bin = fileURLToPath(new URL('../../bin/sealpost.js', import.meta.url));

interface Manifest {
  format: string;
  tenant: { id: string; name: string };
  period: { from: string; to: string };
  proofCount: number;
  receipts: boolean;
  proofs: Array<{ id: string; messageId: string; eventType: string; sequence: number; sha256: string; file: string; receipt?: string }>;
}

const exists = (path: string) => stat(path).then(() => true, () => false);
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const day = (offsetDays: number) => new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);

/**
 * `sealpost proof export`: real submissions delivered by a worker to a TLS SMTP
 * peer yield proofs; the CLI (a child process) zips them; python's zipfile and
 * unzip test the archive, openssl and `sealpost proof verify` the proofs; an
 * export stopped twice and torn once (a crash mid-entry) resumes to the same bytes.
 */
describe('sealpost proof export', () => {
  let peer: SmtpPeer;
  let t: TestApp;
  let files: Awaited<ReturnType<typeof scratch>>;
  let anchor: string;
  let tenantId: string;
  let otherTenantId: string;
  const apiProofs = new Map<string, { sha256: string; messageId: string; sequence: number; eventType: string }>();

  const env = () => ({ PATH: process.env.PATH ?? '', DATABASE_URL: t.database.url, SEALPOST_MASTER_KEY: t.config.SEALPOST_MASTER_KEY!, DATA_DIR: t.config.DATA_DIR, LOG_LEVEL: 'silent' });
  const sealpost = (...args: string[]) =>
    exec(process.execPath, [bin, ...args], { env: env(), encoding: 'utf8' }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );
  const exportArgs = (out: string, ...more: string[]) => ['proof', 'export', '--tenant', tenantId, '--from', day(-1), '--to', day(1), '--out', out, ...more];
  const unpack = async (zip: string) => {
    const dir = join(files.dir, `x-${sha256(Buffer.from(zip)).slice(0, 8)}`);
    const test = await run('python3', ['-m', 'zipfile', '-t', zip]);
    expect(test.code, test.stderr + test.stdout.toString()).toBe(0);
    const unzip = await run('unzip', ['-t', zip]);
    expect(unzip.code, unzip.stdout.toString()).toBe(0);
    expect(unzip.stdout.toString()).toContain('No errors detected');
    const extract = await run('python3', ['-m', 'zipfile', '-e', zip, dir]);
    expect(extract.code, extract.stderr).toBe(0);
    return { dir, manifest: JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Manifest };
  };

  beforeAll(async () => {
    peer = await startSmtpPeer();
    files = await scratch();
    const ca = await createSmimeCa('Sealpost Export Test');
    const issuer = await ca.issueUser('Sealpost Evidence Service', { emails: ['evidence@sealpost.test'] });
    anchor = await files.file('root.pem', ca.root.certPem);
    t = await createTestApp({
      smtp: peer,
      env: {
        EVIDENCE_CERT_FILE: await files.file('evidence.pem', issuer.certPem + ca.intermediate.certPem),
        EVIDENCE_KEY_FILE: await files.file('evidence.key', issuer.keyPem),
      },
    });
    const tenant = await t.tenant({ senderDomains: ['example.com'] });
    const other = await t.tenant({ senderDomains: ['example.com'] });
    tenantId = tenant.tenantId;
    otherTenantId = other.tenantId;
    const ids: string[] = [];
    for (const to of [['anna@example.org', 'ben@example.org'], ['cara@example.org'], ['dora@example.org', 'emil@example.org']]) {
      const res = await t.app.inject({ method: 'POST', url: '/v1/messages', headers: { authorization: tenant.auth }, payload: submission({ to }) });
      expect(res.statusCode, res.body).toBe(202);
      ids.push(res.json().id);
    }
    const foreign = await t.app.inject({ method: 'POST', url: '/v1/messages', headers: { authorization: other.auth }, payload: submission() });
    expect(foreign.statusCode, foreign.body).toBe(202);
    await t.startWorker();
    // One SubmissionAcceptance per message and one proof per delivered recipient: 3 + 5 for the tenant.
    const list = async (id: string) => (await t.app.inject({ url: `/v1/messages/${id}/proofs`, headers: { authorization: tenant.auth } })).json().items as Array<Record<string, unknown>>;
    await waitFor(async () => (await Promise.all(ids.map(list))).flat().length === 8);
    await waitFor(async () => (await t.app.inject({ url: `/v1/messages/${foreign.json().id}/proofs`, headers: { authorization: other.auth } })).json().items?.length === 2);
    for (const p of (await Promise.all(ids.map(list))).flat()) {
      apiProofs.set(p.id as string, { sha256: p.sha256 as string, messageId: p.messageId as string, sequence: p.sequence as number, eventType: p.eventType as string });
    }
    await t.stopWorker();
  }, 90_000);

  afterAll(async () => {
    await t?.close();
    await peer?.close();
    await files?.remove();
  });

  it('writes every proof of the period into a zip whose manifest matches and whose proofs verify', async () => {
    const out = join(files.dir, 'whole.zip');
    const result = await sealpost(...exportArgs(out));
    expect(result.code, result.stderr).toBe(0);
    // Not a terminal: no progress lines, one final line.
    expect(result.stderr.trim().split('\n')).toEqual([`proof export: 8 proof(s) written to ${out}`]);
    expect(await exists(`${out}.partial`)).toBe(false);
    expect(await exists(`${out}.state.json`)).toBe(false);

    const { dir, manifest } = await unpack(out);
    expect(manifest.tenant.id).toBe(tenantId);
    expect(manifest.period).toMatchObject({ from: day(-1), to: day(1) });
    expect(manifest.proofCount).toBe(8);
    expect(manifest.receipts).toBe(false);
    // Exactly the tenant's proofs (not the other tenant's), in id order, each as the API describes it.
    expect(manifest.proofs.map((p) => p.id).sort()).toEqual([...apiProofs.keys()].sort());
    expect(manifest.proofs.map((p) => p.id)).toEqual([...manifest.proofs.map((p) => p.id)].sort());
    for (const p of manifest.proofs) {
      const bytes = await readFile(join(dir, p.file));
      expect(sha256(bytes)).toBe(p.sha256);
      expect(apiProofs.get(p.id)).toEqual({ sha256: p.sha256, messageId: p.messageId, sequence: p.sequence, eventType: p.eventType });
      const verified = await run('openssl', ['cms', '-verify', '-inform', 'DER', '-in', join(dir, p.file), '-CAfile', anchor]);
      expect(verified.code, verified.stderr).toBe(0);
      expect(verified.stdout.toString()).toContain(p.id);
    }
    const names = (await readdir(join(dir, 'proofs'), { recursive: true })).filter((n) => n.endsWith('.p7m'));
    expect(names).toHaveLength(8);
    // And the offline verifier, hash chains across all files included.
    const verify = await sealpost('proof', 'verify', ...manifest.proofs.map((p) => join(dir, p.file)), '--ca', anchor);
    expect(verify.code, verify.stdout).toBe(0);
    expect(verify.stdout).toContain('chain: intact across the 8 valid proof(s) given');

    // A period without messages: a valid, empty export.
    const empty = join(files.dir, 'empty.zip');
    expect((await sealpost('proof', 'export', '--tenant', tenantId, '--from', '2020-01-01', '--to', '2020-01-31', '--out', empty)).code).toBe(0);
    const none = await unpack(empty);
    expect(none.manifest.proofs).toEqual([]);
  }, 60_000);

  it('resumes an interrupted export (stopped twice, torn mid-entry once) to the same bytes', async () => {
    const whole = join(files.dir, 'reference.zip');
    expect((await sealpost(...exportArgs(whole))).code).toBe(0);

    const out = join(files.dir, 'resumed.zip');
    const first = await sealpost(...exportArgs(out, '--max-proofs', '3'));
    expect(first.code, first.stderr).toBe(3);
    expect(first.stderr).toContain('stopped after 3 proof(s)');
    expect(await exists(out)).toBe(false);
    const state = JSON.parse(await readFile(`${out}.state.json`, 'utf8'));
    expect(state).toMatchObject({ tenantId, proofs: 3, bytes: (await stat(`${out}.partial`)).size });
    // A crash while writing the fourth entry: half a local header and some data behind the recorded point.
    await appendFile(`${out}.partial`, Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00]), Buffer.alloc(500, 7)]));

    const second = await sealpost(...exportArgs(out, '--max-proofs', '2'));
    expect(second.code, second.stderr).toBe(3);
    expect(second.stderr).toContain('stopped after 5 proof(s) (3 from an earlier run)');
    // Another export's arguments against this state: refused, nothing touched.
    const mismatch = await sealpost('proof', 'export', '--tenant', otherTenantId, '--from', day(-1), '--to', day(1), '--out', out);
    expect(mismatch.code).toBe(2);
    expect(mismatch.stderr).toContain('belongs to another export');

    const last = await sealpost(...exportArgs(out));
    expect(last.code, last.stderr).toBe(0);
    expect(last.stderr).toContain('8 proof(s) (5 from an earlier run) written');
    expect(await exists(`${out}.partial`)).toBe(false);
    expect(await exists(`${out}.state.json`)).toBe(false);
    expect(sha256(await readFile(out))).toBe(sha256(await readFile(whole)));
    expect((await unpack(out)).manifest.proofCount).toBe(8);
  }, 60_000);

  it('adds the PDF receipts with --pdf', async () => {
    const out = join(files.dir, 'with-pdf.zip');
    const result = await sealpost(...exportArgs(out, '--pdf'));
    expect(result.code, result.stderr).toBe(0);
    const { dir, manifest } = await unpack(out);
    expect(manifest.receipts).toBe(true);
    expect(manifest.proofs).toHaveLength(8);
    for (const p of manifest.proofs) {
      expect(p.receipt).toBe(p.file.replace(/\.p7m$/, '.pdf'));
      const pdf = await readFile(join(dir, p.receipt!));
      expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    }
  }, 60_000);

  it('refuses bad input with exit 2, naming the problem, and writes nothing', async () => {
    const out = join(files.dir, 'bad', 'never.zip');
    await mkdir(join(files.dir, 'bad'));
    const cases: Array<[string[], RegExp]> = [
      [['--tenant', '00000000-0000-4000-8000-000000000000', '--from', day(-1), '--to', day(1), '--out', out], /tenant 00000000-0000-4000-8000-000000000000 does not exist/],
      [['--tenant', 'acme', '--from', day(-1), '--to', day(1), '--out', out], /tenant acme does not exist/],
      [['--tenant', tenantId, '--from', '2026-02-30', '--to', day(1), '--out', out], /--from must be a day as YYYY-MM-DD/],
      [['--tenant', tenantId, '--from', 'yesterday', '--to', day(1), '--out', out], /--from must be a day/],
      [['--tenant', tenantId, '--from', day(1), '--to', day(-1), '--out', out], /is after --to/],
      [['--tenant', tenantId, '--from', day(-1), '--to', day(1), '--out', join(files.dir, 'no-such-dir', 'x.zip')], /is not an existing directory/],
      [['--tenant', tenantId, '--from', day(-1), '--to', day(1), '--out', join(anchor, 'x.zip')], /is not an existing directory/],
      [['--tenant', tenantId, '--from', day(-1), '--to', day(1), '--out', files.dir], /is a directory/],
      [['--tenant', tenantId, '--from', day(-1), '--to', day(1)], /--out is required/],
      [['--tenant', tenantId, '--from', day(-1), '--to', day(1), '--out', out, '--max-proofs', '0'], /--max-proofs must be a positive whole number/],
      [['--tenant', tenantId, '--from', day(-1), '--to', day(1), '--out', out, '--colour'], /Unknown option '--colour'/],
    ];
    for (const [args, message] of cases) {
      const result = await sealpost('proof', 'export', ...args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toMatch(message);
    }
    // A state file that is not one: refused, not overwritten.
    await writeFile(`${out}.state.json`, 'garbage');
    const garbage = await sealpost(...exportArgs(out));
    expect(garbage.code).toBe(2);
    expect(garbage.stderr).toContain('is not a proof export state file');
    expect((await readdir(join(files.dir, 'bad'))).sort()).toEqual(['never.zip.state.json']);
  }, 60_000);
});
