import { encryptEntity, envelopedHeaders } from './encrypt-message.ts';
import { joinMessage } from './header-split.ts';
import type { Recipient } from './recipient.ts';
import { signEntity, type SignOptions } from './sign-message.ts';
import type { Signer } from './signer.ts';

/**
 * Signs, then encrypts (RFC 8551 3.6): the enveloped content is the signed
 * entity (multipart/signed by default), so the signature is only visible to
 * the recipients; the outer header fields stay in clear. As for
 * encryptMessage, `recipients` must include the sender's own certificate.
 */
export async function signThenEncrypt(mime: Buffer, signer: Signer, recipients: Recipient[], options: SignOptions = {}): Promise<Buffer> {
  const { outer, entity } = await signEntity(mime, signer, options);
  const signedEntity = [Buffer.from(entity.headers.map((h) => h + '\r\n').join('') + '\r\n', 'latin1'), ...entity.body];
  return joinMessage(outer, envelopedHeaders, [encryptEntity(signedEntity, recipients)]);
}
