import { base64Lines } from './base64.ts';
import { toCrlf } from './canonical.ts';
import { createEnvelopedData } from './enveloped-data.ts';
import { SmimeError } from './errors.ts';
import { joinMessage, splitMessage } from './header-split.ts';
import { toRecipientMaterial, type Recipient } from './recipient.ts';

export const envelopedHeaders = [
  'Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"',
  'Content-Transfer-Encoding: base64',
  'Content-Disposition: attachment; filename="smime.p7m"',
];

/**
 * Encrypts a message (RFC 8551 3.3): the outer header fields stay in clear
 * (header-split.ts), the body entity becomes `application/pkcs7-mime;
 * smime-type=enveloped-data` (AES-256-CBC, see enveloped-data.ts).
 *
 * `recipients` must list every certificate that may read the message,
 * INCLUDING the sender's own certificate: without it the sender cannot decrypt
 * its archived copy. This function does not add it; the pipeline does.
 */
export async function encryptMessage(mime: Buffer, recipients: Recipient[]): Promise<Buffer> {
  const { outer, entity } = splitMessage(toCrlf(mime));
  return joinMessage(outer, envelopedHeaders, [encryptEntity(entity, recipients)]);
}

/** The base64 body of the enveloped entity for already-split entity chunks (used by signThenEncrypt). */
export function encryptEntity(entity: Buffer[], recipients: Recipient[]): Buffer {
  if (recipients.length === 0) throw new SmimeError('smime_no_recipient', 'encryption needs at least one recipient certificate');
  const der = createEnvelopedData(entity, recipients.map(toRecipientMaterial));
  // The ciphertext is the one new payload-sized buffer; the base64 is written straight from the DER chunks.
  return base64Lines(der);
}
