import { isAscii } from 'node:buffer';
import { base64Lines } from './base64.ts';
import { SmimeError } from './errors.ts';
import { fieldValue, headerEnd, parseContentType, parseFields } from './mime-headers.ts';

/**
 * Canonical form of what we sign (RFC 8551 3.1.1, 3.1.2): CRLF line endings and
 * 7bit transfer encodings only, so that no relay (8bit→7bit downgrade, line-ending
 * conversion) can change the signed bytes. Already-canonical input (what
 * renderMessage produces) is returned as is, without a copy.
 */
export function toCrlf(bytes: Buffer): Buffer {
  let bare = bytes.indexOf(0x0a);
  while (bare !== -1 && bare > 0 && bytes[bare - 1] === 0x0d) bare = bytes.indexOf(0x0a, bare + 1);
  if (bare === -1) return bytes;
  const text = bytes.toString('latin1').replace(/\r?\n/g, '\r\n');
  return Buffer.from(text, 'latin1');
}

/** 7bit data (RFC 2045 2.7): no octet above 127 and no NUL. */
export function is7bit(bytes: Buffer): boolean {
  return isAscii(bytes) && bytes.indexOf(0) === -1;
}

/**
 * The entity with every 8bit or binary leaf part re-encoded as base64; multipart
 * structure, other parts and header fields are kept byte for byte.
 */
export function to7bitEntity(entity: Buffer): Buffer {
  if (is7bit(entity)) return entity;
  const { headerText, bodyStart } = headerEnd(entity);
  const fields = parseFields(headerText);
  const body = entity.subarray(bodyStart);
  const { type, parameters } = parseContentType(fieldValue(fields, 'content-type'));
  if (type.startsWith('multipart/') && parameters.boundary) {
    return Buffer.concat([entity.subarray(0, bodyStart), ...mapParts(body, parameters.boundary, to7bitEntity)]);
  }
  const encoding = (fieldValue(fields, 'content-transfer-encoding') ?? '7bit').toLowerCase();
  if (!['7bit', '8bit', 'binary'].includes(encoding)) {
    throw new SmimeError('smime_malformed', `a ${encoding} part contains 8bit data`);
  }
  const kept = fields.filter((f) => f.name !== 'content-transfer-encoding').map((f) => f.raw).join('');
  return Buffer.concat([Buffer.from(kept + 'Content-Transfer-Encoding: base64\r\n\r\n', 'latin1'), base64Lines(body)]);
}

/** Applies `map` to each body part between the delimiter lines of a multipart body (RFC 2046 5.1.1). */
function mapParts(body: Buffer, boundary: string, map: (part: Buffer) => Buffer): Buffer[] {
  const delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
  // The first delimiter may start the body without a preceding CRLF.
  const padded = Buffer.concat([Buffer.from('\r\n'), body]);
  const out: Buffer[] = [];
  let at = padded.indexOf(delimiter);
  if (at === -1) return [body];
  out.push(padded.subarray(2, at + delimiter.length));
  let from = at + delimiter.length;
  for (;;) {
    if (padded.subarray(from, from + 2).toString('latin1') === '--') {
      out.push(padded.subarray(from));
      return out;
    }
    const lineEnd = padded.indexOf('\r\n', from);
    if (lineEnd === -1) {
      out.push(padded.subarray(from));
      return out;
    }
    const next = padded.indexOf(delimiter, lineEnd);
    const end = next === -1 ? padded.length : next;
    out.push(padded.subarray(from, lineEnd + 2), map(padded.subarray(lineEnd + 2, end)));
    if (next === -1) return out;
    out.push(delimiter);
    from = next + delimiter.length;
  }
}
