import { randomBytes } from 'node:crypto';
import { base64Lines } from './base64.ts';
import { is7bit, to7bitEntity, toCrlf } from './canonical.ts';
import { joinMessage, splitMessage } from './header-split.ts';
import { createSignedData } from './signed-data.ts';
import { toSignerMaterial, type Signer } from './signer.ts';

export interface SignOptions {
  /** multipart/signed (default, readable without S/MIME support) or opaque application/pkcs7-mime. */
  detached?: boolean;
  signingTime?: Date;
}

/**
 * Signs a message (RFC 8551 3.5): the outer header fields stay in clear (see
 * header-split.ts), the body entity is canonicalised (CRLF, 8bit parts re-encoded
 * as base64) and signed with SHA-256. Detached: `multipart/signed;
 * protocol="application/pkcs7-signature"; micalg=sha-256` whose first part is the
 * signed entity byte for byte. Opaque: `application/pkcs7-mime;
 * smime-type=signed-data` with the entity inside the SignedData.
 */
export async function signMessage(mime: Buffer, signer: Signer, options: SignOptions = {}): Promise<Buffer> {
  const { outer, entity } = await signEntity(mime, signer, options);
  return joinMessage(outer, entity.headers, entity.body);
}

/** The signed entity's own header fields and body chunks, for signMessage and signThenEncrypt. */
export async function signEntity(mime: Buffer, signer: Signer, options: SignOptions = {}) {
  const material = toSignerMaterial(signer);
  const split = splitMessage(toCrlf(mime));
  const content = split.entity.every(is7bit) ? split.entity : [to7bitEntity(Buffer.concat(split.entity))];

  if (options.detached === false) {
    const der = await createSignedData(content, material, { encapsulate: true, ...(options.signingTime && { signingTime: options.signingTime }) });
    return {
      outer: split.outer,
      entity: {
        headers: [
          'Content-Type: application/pkcs7-mime; smime-type=signed-data; name="smime.p7m"',
          'Content-Transfer-Encoding: base64',
          'Content-Disposition: attachment; filename="smime.p7m"',
        ],
        body: [base64Lines(der)],
      },
    };
  }

  const der = await createSignedData(content, material, { encapsulate: false, ...(options.signingTime && { signingTime: options.signingTime }) });
  const boundary = `----=_sealpost_signed_${randomBytes(12).toString('hex')}`;
  const text = (s: string) => Buffer.from(s, 'latin1');
  return {
    outer: split.outer,
    entity: {
      headers: [`Content-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256;\r\n boundary="${boundary}"`],
      body: [
        text(`This is an S/MIME signed message\r\n\r\n--${boundary}\r\n`),
        ...content,
        text(
          `\r\n--${boundary}\r\nContent-Type: application/pkcs7-signature; name="smime.p7s"\r\nContent-Transfer-Encoding: base64\r\n` +
            `Content-Disposition: attachment; filename="smime.p7s"\r\n\r\n`,
        ),
        base64Lines(der),
        text(`\r\n--${boundary}--\r\n`),
      ],
    },
  };
}
