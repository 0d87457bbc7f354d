import { createHash, randomBytes } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { createCmsEngine } from '../smime/engine.ts';
import { TAG, header, oid, tlv } from '../smime/der.ts';

/** id-aa-signatureTimeStampToken (RFC 3161 appendix A): the unsigned attribute carrying a time-stamp over the signature value. */
export const ID_AA_SIGNATURE_TIME_STAMP_TOKEN = '1.2.840.113549.1.9.16.2.14';
const ID_CT_TSTINFO = '1.2.840.113549.1.9.16.1.4';
const ID_SIGNED_DATA = '1.2.840.113549.1.7.2';
const SHA256 = '2.16.840.1.101.3.4.2.1';
const PKI_STATUS = ['granted', 'grantedWithMods', 'rejection', 'waiting', 'revocationWarning', 'revocationNotification'];

export class TimeStampError extends Error {}

export interface TimeStampSettings {
  url: string;
  timeoutMs: number;
}

export interface TimeStampInfo {
  genTime: Date;
  /** The TSA: its `tsa` name from TSTInfo, else the subject of the certificate that signed the token. */
  tsaName: string;
  serialNumber: string;
  policy: string;
}

/**
 * Asks the TSA (RFC 3161 over HTTP) for a time-stamp token over the evidence
 * signature, checks the answer (status granted, our SHA-256 imprint, our nonce,
 * the token's signature by the certificate it carries) and adds the token to
 * the SignerInfo as the unsigned attribute id-aa-signatureTimeStampToken. The
 * signed part of the evidence is untouched: every byte before the SignerInfo's
 * end is kept, only the enclosing lengths grow. Throws TimeStampError with the
 * reason when the TSA cannot be reached or its answer does not hold.
 */
export async function stampEvidence(signed: Buffer, settings: TimeStampSettings): Promise<{ stamped: Buffer; info: TimeStampInfo }> {
  const located = locateSignerInfo(signed);
  const imprint = createHash('sha256').update(located.signatureValue).digest();
  const nonce = randomBytes(8);
  nonce[0] = nonce[0]! & 0x7f || 0x01; // a positive INTEGER without a leading zero byte
  const request = new pkijs.TimeStampReq({
    version: 1,
    messageImprint: new pkijs.MessageImprint({
      hashAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: SHA256 }),
      hashedMessage: new asn1js.OctetString({ valueHex: imprint }),
    }),
    nonce: new asn1js.Integer({ valueHex: nonce }),
    certReq: true,
  });
  const reply = await post(settings, Buffer.from(request.toSchema().toBER(false)));
  const token = await checkReply(reply, located.signatureValue, nonce);
  return { stamped: withUnsignedAttribute(signed, located, token.der), info: token.info };
}

async function post(settings: TimeStampSettings, body: Buffer): Promise<Buffer> {
  let response: Response;
  try {
    response = await fetch(settings.url, {
      method: 'POST',
      headers: { 'content-type': 'application/timestamp-query', accept: 'application/timestamp-reply' },
      body: new Uint8Array(body),
      signal: AbortSignal.timeout(settings.timeoutMs),
      redirect: 'error',
    });
  } catch (error) {
    throw new TimeStampError(`the TSA could not be reached (${(error as Error).message})`);
  }
  if (!response.ok) throw new TimeStampError(`the TSA answered HTTP ${response.status}`);
  const bytes = Buffer.from(await response.arrayBuffer());
  if (bytes.length === 0 || bytes.length > 1_000_000) throw new TimeStampError(`the TSA answered ${bytes.length} bytes`);
  return bytes;
}

async function checkReply(reply: Buffer, signatureValue: Buffer, nonce: Buffer): Promise<{ der: Buffer; info: TimeStampInfo }> {
  let response: pkijs.TimeStampResp;
  try {
    response = pkijs.TimeStampResp.fromBER(new Uint8Array(reply));
  } catch (error) {
    throw new TimeStampError(`the TSA's answer is not a TimeStampResp (${(error as Error).message})`);
  }
  const status = response.status.status;
  if (status !== 0 && status !== 1) {
    const text = response.status.statusStrings?.map((s) => s.valueBlock.value).join('; ');
    throw new TimeStampError(`the TSA did not grant the time-stamp: ${PKI_STATUS[status] ?? `status ${status}`}${text ? ` (${text})` : ''}`);
  }
  if (!response.timeStampToken) throw new TimeStampError('the TSA granted but sent no token');
  const der = Buffer.from(response.timeStampToken.toSchema().toBER(false));
  const checked = await readToken(der, { signatureValue, nonce });
  if (checked.problem) throw new TimeStampError(checked.problem);
  return { der, info: checked.info! };
}

/**
 * Reads and checks a time-stamp token (ContentInfo of SignedData over TSTInfo):
 * its signature by the certificate it carries, the imprint, and when given the
 * nonce; with anchors, the TSA certificate's chain at genTime as well. Used when
 * stamping and by `sealpost proof verify`.
 */
export async function readToken(
  der: Buffer,
  expect: { signatureValue: Buffer; nonce?: Buffer; anchors?: Buffer[] },
): Promise<{ info?: TimeStampInfo; problem?: string }> {
  const imprint = createHash('sha256').update(expect.signatureValue).digest();
  let signedData: pkijs.SignedData;
  let tst: pkijs.TSTInfo;
  try {
    const info = pkijs.ContentInfo.fromBER(new Uint8Array(der));
    if (info.contentType !== ID_SIGNED_DATA) return { problem: 'the time-stamp token is not SignedData' };
    signedData = new pkijs.SignedData({ schema: info.content });
    if (signedData.encapContentInfo.eContentType !== ID_CT_TSTINFO || !signedData.encapContentInfo.eContent) {
      return { problem: 'the time-stamp token does not encapsulate a TSTInfo' };
    }
    tst = pkijs.TSTInfo.fromBER(new Uint8Array(signedData.encapContentInfo.eContent.getValue()));
  } catch (error) {
    return { problem: `the time-stamp token is not readable (${(error as Error).message})` };
  }
  const signerCert = findSigner(signedData);
  const info: TimeStampInfo = {
    genTime: tst.genTime,
    tsaName: tsaName(tst, signerCert),
    serialNumber: Buffer.from(tst.serialNumber.valueBlock.valueHexView).toString('hex'),
    policy: tst.policy,
  };
  if (tst.messageImprint.hashAlgorithm.algorithmId !== SHA256) return { info, problem: 'the time-stamp imprint is not SHA-256' };
  if (!Buffer.from(tst.messageImprint.hashedMessage.valueBlock.valueHexView).equals(imprint)) {
    return { info, problem: 'the time-stamp is over another signature (its message imprint differs)' };
  }
  if (expect.nonce && !(tst.nonce && Buffer.from(tst.nonce.valueBlock.valueHexView).equals(expect.nonce))) {
    return { info, problem: 'the time-stamp nonce differs from the request (a replayed answer?)' };
  }
  if (!signerCert) return { info, problem: 'the time-stamp token carries no TSA certificate' };
  if (!hasCriticalTimeStampingEku(signerCert)) return { info, problem: 'the TSA certificate lacks the critical timeStamping extended key usage' };
  const anchors = expect.anchors?.map((a) => pkijs.Certificate.fromBER(new Uint8Array(a)));
  try {
    const result = await signedData.verify(
      { signer: 0, data: new Uint8Array(expect.signatureValue).buffer, checkChain: Boolean(anchors), ...(anchors && { trustedCerts: anchors }), checkDate: tst.genTime, extendedMode: true },
      createCmsEngine(),
    );
    if (!result.signatureVerified) return { info, problem: 'the time-stamp token signature does not verify' };
    if (anchors && !result.signerCertificateVerified) return { info, problem: 'the TSA certificate does not chain to the --tsa-ca anchors' };
  } catch (error) {
    const e = error as { message?: string; signerCertificateVerified?: boolean | null };
    if (anchors && (e.signerCertificateVerified === false || /signer's certificate/i.test(e.message ?? ''))) {
      return { info, problem: `the TSA certificate does not chain to the --tsa-ca anchors (${e.message})` };
    }
    return { info, problem: `the time-stamp token does not verify (${e.message ?? String(error)})` };
  }
  return { info };
}

function findSigner(signedData: pkijs.SignedData): pkijs.Certificate | undefined {
  const sid = signedData.signerInfos[0]?.sid;
  const certs = (signedData.certificates ?? []).filter((c): c is pkijs.Certificate => c instanceof pkijs.Certificate);
  if (sid instanceof pkijs.IssuerAndSerialNumber) {
    return certs.find((c) => c.issuer.isEqual(sid.issuer) && c.serialNumber.isEqual(sid.serialNumber));
  }
  return certs[0];
}

function hasCriticalTimeStampingEku(cert: pkijs.Certificate): boolean {
  const eku = cert.extensions?.find((e) => e.extnID === '2.5.29.37');
  const usages = (eku?.parsedValue as pkijs.ExtKeyUsage | undefined)?.keyPurposes ?? [];
  return Boolean(eku?.critical) && usages.includes('1.3.6.1.5.5.7.3.8');
}

function tsaName(tst: pkijs.TSTInfo, cert: pkijs.Certificate | undefined): string {
  const name = tst.tsa?.type === 4 ? (tst.tsa.value as pkijs.RelativeDistinguishedNames) : cert?.subject;
  return name ? name.typesAndValues.map((tv) => `${SHORT[tv.type] ?? tv.type}=${tv.value.valueBlock.value}`).join(', ') : 'unknown';
}

const SHORT: Record<string, string> = { '2.5.4.3': 'CN', '2.5.4.10': 'O', '2.5.4.11': 'OU', '2.5.4.6': 'C', '2.5.4.7': 'L', '2.5.4.8': 'ST' };

// --- DER: where the SignerInfo is, and how to give it an unsigned attribute without touching the signed bytes ---

interface Node {
  tag: number;
  start: number;
  contentStart: number;
  end: number;
}

function node(der: Buffer, start: number, limit: number): Node {
  if (start + 2 > limit) throw new TimeStampError('the evidence is not DER (truncated)');
  const tag = der[start]!;
  let length = der[start + 1]!;
  let contentStart = start + 2;
  if (length & 0x80) {
    const octets = length & 0x7f;
    if (octets === 0 || octets > 4) throw new TimeStampError('the evidence is not DER (length form)');
    length = 0;
    for (let i = 0; i < octets; i++) length = length * 256 + der[contentStart + i]!;
    contentStart += octets;
  }
  const end = contentStart + length;
  if (end > limit) throw new TimeStampError('the evidence is not DER (length beyond its container)');
  return { tag, start, contentStart, end };
}

function children(der: Buffer, parent: Node): Node[] {
  const out: Node[] = [];
  for (let at = parent.contentStart; at < parent.end; ) {
    const child = node(der, at, parent.end);
    out.push(child);
    at = child.end;
  }
  return out;
}

export interface LocatedSignerInfo {
  /** Outermost first: ContentInfo, [0], SignedData, signerInfos SET, the SignerInfo. */
  path: Node[];
  signatureValue: Buffer;
  /** The unsigned attributes [1] when present. */
  unsigned?: Node;
}

/** The (first) SignerInfo of a DER ContentInfo(SignedData), as this service writes it. */
export function locateSignerInfo(der: Buffer): LocatedSignerInfo {
  const contentInfo = node(der, 0, der.length);
  const [type, explicit] = children(der, contentInfo);
  if (!type || !explicit || explicit.tag !== TAG.context0) throw new TimeStampError('not a CMS ContentInfo');
  const [signedData] = children(der, explicit);
  const sdChildren = children(der, signedData!);
  const signerInfos = sdChildren.at(-1)!;
  if (signerInfos.tag !== TAG.set) throw new TimeStampError('no signerInfos in the SignedData');
  const [signerInfo] = children(der, signerInfos);
  if (!signerInfo) throw new TimeStampError('no SignerInfo in the SignedData');
  const fields = children(der, signerInfo);
  const last = fields.at(-1)!;
  const unsigned = last.tag === 0xa1 ? last : undefined;
  const signature = unsigned ? fields.at(-2)! : last;
  if (signature.tag !== TAG.octetString) throw new TimeStampError('the SignerInfo has no signature value');
  return {
    path: [contentInfo, explicit, signedData!, signerInfos, signerInfo],
    signatureValue: der.subarray(signature.contentStart, signature.end),
    ...(unsigned && { unsigned }),
  };
}

/** The token DER inside the id-aa-signatureTimeStampToken attribute, when the SignerInfo has one. */
export function timeStampTokenOf(der: Buffer, located = locateSignerInfo(der)): Buffer | undefined {
  if (!located.unsigned) return undefined;
  for (const attribute of children(der, located.unsigned)) {
    const [type, values] = children(der, attribute);
    if (!type || !values) continue;
    const id = asn1js.fromBER(new Uint8Array(der.subarray(type.start, type.end))).result as asn1js.ObjectIdentifier;
    if (id.valueBlock.toString() !== ID_AA_SIGNATURE_TIME_STAMP_TOKEN) continue;
    const [token] = children(der, values);
    return token && Buffer.from(der.subarray(token.start, token.end));
  }
  return undefined;
}

function withUnsignedAttribute(der: Buffer, located: LocatedSignerInfo, token: Buffer): Buffer {
  if (located.unsigned) throw new TimeStampError('the SignerInfo already has unsigned attributes');
  const attribute = Buffer.concat(tlv(TAG.sequence, oid(ID_AA_SIGNATURE_TIME_STAMP_TOKEN), tlv(TAG.set, token)));
  const unsigned = Buffer.concat(tlv(0xa1, attribute));
  // Rebuild from the SignerInfo outwards: each container keeps its bytes, gains the new ones, and a new length.
  const signerInfo = located.path.at(-1)!;
  const content = Buffer.concat([der.subarray(signerInfo.contentStart, signerInfo.end), unsigned]);
  let built = Buffer.concat([header(signerInfo.tag, content.length), content]);
  for (let i = located.path.length - 2; i >= 0; i--) {
    const n = located.path[i]!;
    const child = located.path[i + 1]!;
    const body = Buffer.concat([der.subarray(n.contentStart, child.start), built, der.subarray(child.end, n.end)]);
    built = Buffer.concat([header(n.tag, body.length), body]);
  }
  return built;
}
