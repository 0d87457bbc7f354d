import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { parseCertificates, derOf } from '../pki/certificate.ts';
import { verifyProofs, type ProofFile } from '../evidence/verify-evidence.ts';

export const proofUsage = `  proof verify <file>... [--ca anchor.pem]... [--tsa-ca tsa-anchor.pem]... [--json]
                                         verify evidence offline: signature, certificate chain to the
                                         anchors, the hash chain across all the files given, and
                                         RFC 3161 time-stamps when present (--tsa-ca: their anchors)
                                         (exit 0 valid, 1 invalid, 2 usage or unreadable file)`;

/**
 * `sealpost proof verify`: needs no database and no configuration, only the
 * files, so an auditor can run it anywhere, years later (docs/evidence.md).
 */
export async function proofCommand(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: { ca: { type: 'string', multiple: true }, 'tsa-ca': { type: 'string', multiple: true }, json: { type: 'boolean' } } });
  } catch (error) {
    console.error(`sealpost proof: ${(error as Error).message}\n\nUsage:\n${proofUsage}`);
    return 2;
  }
  const [sub, ...paths] = parsed.positionals;
  if (sub !== 'verify' || paths.length === 0) {
    console.error(`Usage:\n${proofUsage}`);
    return 2;
  }
  let files: ProofFile[];
  let anchors: Buffer[] | undefined;
  let tsaAnchors: Buffer[] | undefined;
  try {
    files = await Promise.all(paths.map(async (name) => ({ name, bytes: await readFile(name) })));
    if (parsed.values.ca) {
      anchors = (await Promise.all(parsed.values.ca.map(async (p) => parseCertificates(await readFile(p))))).flat().map(derOf);
      if (anchors.length === 0) throw new Error('--ca names no certificate');
    }
    if (parsed.values['tsa-ca']) {
      tsaAnchors = (await Promise.all(parsed.values['tsa-ca'].map(async (p) => parseCertificates(await readFile(p))))).flat().map(derOf);
      if (tsaAnchors.length === 0) throw new Error('--tsa-ca names no certificate');
    }
  } catch (error) {
    console.error(`sealpost proof: ${(error as Error).message}`);
    return 2;
  }
  const report = await verifyProofs(files, anchors, new Date(), tsaAnchors);
  if (parsed.values.json) {
    console.log(JSON.stringify(report, null, 2));
    return report.valid ? 0 : 1;
  }
  for (const p of report.proofs) {
    const what = [p.type, p.sequence !== undefined && `#${p.sequence}`, p.messageId && `message ${p.messageId}`].filter(Boolean).join(' ');
    console.log(`${p.valid ? 'OK     ' : 'INVALID'} ${p.name}: ${what || 'unreadable'}`);
    if (p.signer) console.log(`        signed by ${p.signer}${p.signingTime ? ` at ${p.signingTime.toISOString()}` : ''}`);
    if (p.timeStamp) {
      console.log(`        time-stamped ${p.timeStamp.time.toISOString()} by ${p.timeStamp.tsa} (serial ${p.timeStamp.serialNumber})${p.timeStamp.anchorChecked ? '' : ', TSA not checked against a --tsa-ca anchor'}`);
    }
    for (const problem of p.problems) console.log(`        ${problem}`);
  }
  for (const problem of report.chainProblems) console.log(`CHAIN   ${problem}`);
  if (report.chainChecked && report.chainProblems.length === 0) {
    console.log(`chain: intact across the ${report.proofs.filter((p) => p.valid).length} valid proof(s) given`);
  }
  if (!report.anchorsGiven) console.log('warning: no --ca given: the signatures are intact, but who signed them was NOT checked against a trust anchor');
  console.log(report.valid ? 'result: valid' : 'result: INVALID');
  return report.valid ? 0 : 1;
}
