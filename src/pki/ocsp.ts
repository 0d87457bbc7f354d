import { createHash, randomBytes } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import type { Certificate } from './certificate.ts';
import { crlReasonName } from './crl.ts';

/**
 * RFC 6960 OCSP: the request for one certificate, and the answer read from the
 * responder's bytes only after it is authenticated. Pure functions on bytes;
 * the HTTP exchange and the cache are ocsp-client.ts.
 */
export type OcspAnswer =
  | { status: 'good'; thisUpdate: Date; nextUpdate?: Date }
  | { status: 'revoked'; thisUpdate: Date; nextUpdate?: Date; revokedAt: Date; reason?: string }
  /** No usable answer: the responder said unknown, or it could not be reached, or its answer was not acceptable. */
  | { status: 'unknown'; reason: string };

export interface OcspRequest {
  der: Buffer;
  certId: pkijs.CertID;
  nonce?: Buffer;
}

const SHA1 = '1.3.14.3.2.26';
const ID_PKIX_OCSP_BASIC = '1.3.6.1.5.5.7.48.1.1';
const ID_PKIX_OCSP_NONCE = '1.3.6.1.5.5.7.48.1.2';
/** A response without nextUpdate ("newer information is always available") is used for this long after its thisUpdate. */
export const OCSP_NO_NEXT_UPDATE_TTL_MS = 15 * 60_000;
/** Tolerated clock difference for a thisUpdate in the future. */
const CLOCK_SKEW_MS = 5 * 60_000;
const RESPONSE_STATUS = ['successful', 'malformedRequest', 'internalError', 'tryLater', '(unused)', 'sigRequired', 'unauthorized'];

const toPkijs = (cert: Certificate) => pkijs.Certificate.fromBER(new Uint8Array(cert.rawData));
const sha1 = (bytes: Uint8Array) => createHash('sha1').update(bytes).digest();

/** A CertID with SHA-1 (RFC 5019: what every responder answers), and a request for it with an optional nonce (RFC 8954, 16 bytes). */
export function buildOcspRequest(cert: Certificate, issuer: Certificate, options: { nonce?: boolean } = {}): OcspRequest {
  const pkiIssuer = toPkijs(issuer);
  const certId = new pkijs.CertID({
    hashAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: SHA1, algorithmParams: new asn1js.Null() }),
    issuerNameHash: new asn1js.OctetString({ valueHex: sha1(new Uint8Array(pkiIssuer.subject.toSchema().toBER(false))) }),
    issuerKeyHash: new asn1js.OctetString({ valueHex: sha1(pkiIssuer.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView) }),
    serialNumber: toPkijs(cert).serialNumber,
  });
  const nonce = options.nonce === false ? undefined : randomBytes(16);
  const request = new pkijs.OCSPRequest({
    tbsRequest: new pkijs.TBSRequest({
      requestList: [new pkijs.Request({ reqCert: certId })],
      ...(nonce && {
        requestExtensions: [
          new pkijs.Extension({ extnID: ID_PKIX_OCSP_NONCE, critical: false, extnValue: new asn1js.OctetString({ valueHex: nonce }).toBER(false) }),
        ],
      }),
    }),
  });
  return { der: Buffer.from(request.toSchema(true).toBER(false)), certId, ...(nonce && { nonce }) };
}

export interface ReadOptions {
  /** The certificate asked about and the rest of its validated path: [issuer, …, anchor]. */
  issuerPath: readonly Certificate[];
  at: Date;
  engine: pkijs.ICryptoEngine;
  now?: Date;
}

/**
 * The status the response gives for the request's certificate, or `unknown`
 * with the reason it cannot be used: not a successful OCSP response, not signed
 * by the issuing CA or by a responder certificate that CA issued with
 * id-kp-OCSPSigning (BasicOCSPResponse.verify), not about this certificate, a
 * nonce that differs from ours, thisUpdate in the future or nextUpdate past at
 * the time of use.
 */
export async function readOcspResponse(bytes: Uint8Array<ArrayBuffer>, request: OcspRequest, options: ReadOptions): Promise<OcspAnswer> {
  const unknown = (reason: string): OcspAnswer => ({ status: 'unknown', reason });
  let basic: pkijs.BasicOCSPResponse;
  try {
    const response = pkijs.OCSPResponse.fromBER(bytes);
    const code = response.responseStatus.valueBlock.valueDec;
    if (code !== 0) return unknown(`the responder answered ${RESPONSE_STATUS[code] ?? `status ${code}`}`);
    if (response.responseBytes?.responseType !== ID_PKIX_OCSP_BASIC) return unknown('the response is not a basic OCSP response');
    basic = pkijs.BasicOCSPResponse.fromBER(new Uint8Array(response.responseBytes.response.valueBlock.valueHexView));
  } catch (error) {
    return unknown(`the response is not an OCSP response (${(error as Error).message})`);
  }

  const path = options.issuerPath.map(toPkijs);
  const issuer = path[0]!;
  // A CA answering for its own certificates often embeds no certificate; offer it as the candidate signer.
  const embedded = basic.certs ?? [];
  if (!embedded.some((c) => Buffer.from(c.toSchema(true).toBER(false)).equals(Buffer.from(issuer.toSchema(true).toBER(false))))) {
    basic.certs = [...embedded, issuer];
  }
  try {
    const authentic = await basic.verify({ trustedCerts: path, issuerCerts: [issuer] }, options.engine);
    if (!authentic) return unknown('the response signature does not verify with the key of its responder');
  } catch (error) {
    return unknown(`the response is not signed by the issuing CA or a responder it authorised (${(error as Error).message})`);
  }

  const nonce = basic.tbsResponseData.responseExtensions?.find((e) => e.extnID === ID_PKIX_OCSP_NONCE);
  if (nonce && request.nonce && !nonceMatches(nonce, request.nonce)) return unknown('the response nonce does not match the request (a replayed response?)');

  const single = basic.tbsResponseData.responses.find((r) => r.certID.isEqual(request.certId));
  if (!single) return unknown('the response does not cover the certificate asked about');

  const now = options.now ?? new Date();
  if (single.thisUpdate.getTime() > now.getTime() + CLOCK_SKEW_MS) return unknown(`the response is dated in the future (thisUpdate ${single.thisUpdate.toISOString()})`);
  const validUntil = single.nextUpdate ?? new Date(single.thisUpdate.getTime() + OCSP_NO_NEXT_UPDATE_TTL_MS);
  if (validUntil < options.at) {
    return unknown(`the response is out of date (${single.nextUpdate ? `nextUpdate ${validUntil.toISOString()}` : `thisUpdate ${single.thisUpdate.toISOString()}, no nextUpdate`})`);
  }
  const dates = { thisUpdate: single.thisUpdate, ...(single.nextUpdate && { nextUpdate: single.nextUpdate }) };

  const status = single.certStatus as asn1js.BaseBlock & { valueBlock: { value?: asn1js.BaseBlock[] } };
  switch (status.idBlock.tagNumber) {
    case 0:
      return { status: 'good', ...dates };
    case 1: {
      const [time, reason] = status.valueBlock.value ?? [];
      if (!(time instanceof asn1js.GeneralizedTime)) return unknown('the response says revoked but carries no revocation time');
      const code = (reason as asn1js.Constructed | undefined)?.valueBlock.value[0] as asn1js.Enumerated | undefined;
      const why = crlReasonName(code?.valueBlock.valueDec);
      return { status: 'revoked', ...dates, revokedAt: time.toDate(), ...(why && { reason: why }) };
    }
    default:
      return unknown('the responder does not know the certificate (status unknown)');
  }
}

function nonceMatches(extension: pkijs.Extension, sent: Buffer): boolean {
  const value = Buffer.from(extension.extnValue.valueBlock.valueHexView);
  const inner = asn1js.fromBER(value);
  const received = inner.offset !== -1 && inner.result instanceof asn1js.OctetString ? Buffer.from(inner.result.valueBlock.valueHexView) : value;
  return received.equals(sent);
}
