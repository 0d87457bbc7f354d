import { createHash, X509Certificate } from 'node:crypto';
import { verifyMessage } from '../smime/verify-message.ts';
import { CHAIN_START } from './evidence-facts.ts';
import { readChainFields } from './evidence-xml.ts';
import { locateSignerInfo, readToken, timeStampTokenOf } from './time-stamp.ts';

export interface ProofFile {
  name: string;
  bytes: Buffer;
}

export interface ProofResult {
  name: string;
  valid: boolean;
  problems: string[];
  signer?: string;
  signingTime?: Date;
  type?: string;
  messageId?: string;
  sequence?: number;
  sha256: string;
  /** The RFC 3161 time-stamp over the signature, when the evidence carries one. */
  timeStamp?: { time: Date; tsa: string; serialNumber: string; anchorChecked: boolean };
}

export interface VerifyReport {
  proofs: ProofResult[];
  /** Hash-chain problems across the given proofs of one message; empty when it holds. */
  chainProblems: string[];
  chainChecked: boolean;
  anchorsGiven: boolean;
  valid: boolean;
}

/**
 * Offline verification of evidence files: each one's CMS signature (any changed
 * byte in the XML, the signed attributes or the signature fails), its signer's
 * certificate chain to the given anchors, and, across the files given, the hash
 * chain: for each message, sequences 1..n without gaps, the first linked to 64
 * zeros, each to the SHA-256 of the file before it. A time-stamp token
 * (id-aa-signatureTimeStampToken) is checked when present: over this
 * signature, signed by the TSA certificate it carries, and with `tsaAnchors`,
 * that certificate's chain to them. Needs nothing but the files.
 */
export async function verifyProofs(files: ProofFile[], anchors: Buffer[] | undefined, now = new Date(), tsaAnchors?: Buffer[]): Promise<VerifyReport> {
  const proofs: Array<ProofResult & { previousDigest?: string; der: Buffer }> = [];
  for (const file of files) {
    const der = toDer(file.bytes);
    const sha256 = createHash('sha256').update(der).digest('hex');
    const result = await verifyMessage(asSmime(der), anchors ? { trustedCertificates: anchors, checkDate: now } : {});
    const fields = readChainFields(result.content.toString('utf8'));
    const problems = result.valid ? [] : [result.reason ?? 'the signature does not verify'];
    if (result.valid && (fields.sequence === undefined || fields.previousDigest === undefined || !fields.messageId)) {
      problems.push('signed, but not Sealpost evidence (no message, sequence or previous digest)');
    }
    const stamp = result.valid ? await checkTimeStamp(der, tsaAnchors) : undefined;
    if (stamp?.problem) problems.push(stamp.problem);
    proofs.push({
      name: file.name,
      valid: problems.length === 0,
      problems,
      sha256,
      der,
      ...(result.signer && { signer: new X509Certificate(result.signer.certificate).subject.replace(/\n/g, ', ') }),
      ...(result.signer?.signingTime && { signingTime: result.signer.signingTime }),
      ...(stamp?.timeStamp && { timeStamp: stamp.timeStamp }),
      ...(fields.type && { type: fields.type }),
      ...(fields.messageId && { messageId: fields.messageId }),
      ...(fields.sequence !== undefined && { sequence: fields.sequence }),
      ...(fields.previousDigest && { previousDigest: fields.previousDigest }),
    });
  }
  const chainProblems: string[] = [];
  const byMessage = new Map<string, typeof proofs>();
  for (const p of proofs.filter((p) => p.valid)) byMessage.set(p.messageId!, [...(byMessage.get(p.messageId!) ?? []), p]);
  for (const [messageId, chain] of byMessage) {
    chain.sort((a, b) => a.sequence! - b.sequence!);
    chain.forEach((p, i) => {
      if (p.sequence !== i + 1) {
        chainProblems.push(`message ${messageId}: ${p.name} is #${p.sequence} but #${i + 1} ${i === 0 ? 'starts the chain' : 'comes next'}: a proof is missing or repeated`);
        return;
      }
      const expected = i === 0 ? CHAIN_START : chain[i - 1]!.sha256;
      if (p.previousDigest !== expected) {
        chainProblems.push(`message ${messageId}: ${p.name} (#${p.sequence}) names previous digest ${p.previousDigest}, but ${i === 0 ? 'the first must name 64 zeros' : `${chain[i - 1]!.name} has ${expected}`}`);
      }
    });
  }
  return {
    proofs: proofs.map(({ der: _der, previousDigest: _previous, ...p }) => p),
    chainProblems,
    chainChecked: byMessage.size > 0,
    anchorsGiven: anchors !== undefined,
    valid: proofs.every((p) => p.valid) && chainProblems.length === 0,
  };
}

async function checkTimeStamp(der: Buffer, tsaAnchors: Buffer[] | undefined): Promise<{ timeStamp?: ProofResult['timeStamp']; problem?: string } | undefined> {
  let located;
  let token;
  try {
    located = locateSignerInfo(der);
    token = timeStampTokenOf(der, located);
  } catch (error) {
    return { problem: `time-stamp: ${(error as Error).message}` };
  }
  if (!token) return undefined;
  const checked = await readToken(token, { signatureValue: located.signatureValue, ...(tsaAnchors && { anchors: tsaAnchors }) });
  return {
    ...(checked.info && {
      timeStamp: { time: checked.info.genTime, tsa: checked.info.tsaName, serialNumber: checked.info.serialNumber, anchorChecked: Boolean(tsaAnchors) && !checked.problem },
    }),
    ...(checked.problem && { problem: `time-stamp: ${checked.problem}` }),
  };
}

/** DER as served, or PEM (CMS/PKCS7 armour), read once here. */
function toDer(bytes: Buffer): Buffer {
  const text = bytes.subarray(0, 64).toString('latin1');
  if (!text.includes('-----BEGIN')) return bytes;
  const body = bytes.toString('latin1').replace(/-----(BEGIN|END) [^-]+-----/g, '').replace(/\s+/g, '');
  return Buffer.from(body, 'base64');
}

/** The S/MIME verifier reads entities: wrap the DER as application/pkcs7-mime, exactly as a mail would carry it. */
function asSmime(der: Buffer): Buffer {
  const lines = der.toString('base64').match(/.{1,76}/g) ?? [];
  return Buffer.from(
    'Content-Type: application/pkcs7-mime; smime-type=signed-data\r\nContent-Transfer-Encoding: base64\r\n\r\n' + lines.join('\r\n') + '\r\n',
    'latin1',
  );
}
