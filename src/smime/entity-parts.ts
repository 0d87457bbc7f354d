import { fromBase64 } from './base64.ts';
import { toCrlf } from './canonical.ts';
import { SmimeError } from './errors.ts';
import { fieldValue, headerEnd, parseContentType, parseFields } from './mime-headers.ts';

/** A received S/MIME entity, taken apart: its outer header fields, content type and body. */
export interface ReceivedEntity {
  outer: string;
  type: string;
  parameters: Record<string, string>;
  body: Buffer;
}

/** Reads a received entity; bare LF line endings (files written by openssl, mailbox tools) are read as CRLF, as openssl does. */
export function readEntity(received: Buffer): ReceivedEntity {
  const message = toCrlf(received);
  const { headerText, bodyStart } = headerEnd(message);
  const fields = parseFields(headerText);
  const { type, parameters } = parseContentType(fieldValue(fields, 'content-type'));
  const outer = fields.filter((f) => !f.name.startsWith('content-') && f.name !== 'mime-version').map((f) => f.raw).join('');
  return { outer, type, parameters, body: message.subarray(bodyStart) };
}

/** The DER inside an application/pkcs7-mime (or x-pkcs7-mime) entity. */
export function pkcs7MimeDer(entity: ReceivedEntity, smimeType: string): Buffer {
  if (entity.type !== 'application/pkcs7-mime' && entity.type !== 'application/x-pkcs7-mime') {
    throw new SmimeError('smime_malformed', `expected application/pkcs7-mime, got ${entity.type}`);
  }
  const declared = entity.parameters['smime-type']?.toLowerCase();
  if (declared && declared !== smimeType) throw new SmimeError('smime_malformed', `expected smime-type=${smimeType}, got ${declared}`);
  return fromBase64(entity.body);
}

/** The two parts of a multipart/signed body (RFC 1847): the signed bytes exactly as sent, and the signature part's DER. */
export function multipartSignedParts(entity: ReceivedEntity): { content: Buffer; signature: Buffer } {
  const boundary = entity.parameters.boundary;
  if (!boundary) throw new SmimeError('smime_malformed', 'multipart/signed without a boundary');
  const body = entity.body;
  const open = Buffer.from(`--${boundary}\r\n`, 'latin1');
  const delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
  const first = body.subarray(0, open.length).equals(open) ? 0 : body.indexOf(Buffer.concat([Buffer.from('\r\n'), open]));
  if (first === -1) throw new SmimeError('smime_malformed', 'multipart/signed without its first part');
  const start = first === 0 ? open.length : first + 2 + open.length;
  const end = body.indexOf(delimiter, start);
  if (end === -1) throw new SmimeError('smime_malformed', 'multipart/signed without its signature part');
  const afterDelimiter = body.indexOf('\r\n', end + delimiter.length);
  const last = body.indexOf(delimiter, afterDelimiter);
  if (afterDelimiter === -1 || last === -1) throw new SmimeError('smime_malformed', 'multipart/signed signature part is not closed');
  const signaturePart = readEntity(body.subarray(afterDelimiter + 2, last));
  if (signaturePart.type !== 'application/pkcs7-signature' && signaturePart.type !== 'application/x-pkcs7-signature') {
    throw new SmimeError('smime_malformed', `expected application/pkcs7-signature, got ${signaturePart.type}`);
  }
  return { content: body.subarray(start, end), signature: fromBase64(signaturePart.body) };
}
