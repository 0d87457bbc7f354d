/**
 * Base64 in CRLF-terminated lines of 76 characters (RFC 2045 6.8) of the
 * concatenation of `chunks`, written into one buffer: the chunks are never
 * joined first. The text is written once at the end of the output and the
 * lines are then moved forward into place (copyWithin, a memmove), so there is
 * no second payload-sized buffer and no per-line object.
 */
export function base64Lines(chunks: Buffer | Buffer[], lineLength = 76): Buffer {
  const parts = Array.isArray(chunks) ? chunks : [chunks];
  const total = parts.reduce((n, c) => n + c.length, 0);
  const encodedLength = Math.ceil(total / 3) * 4;
  const lines = Math.ceil(encodedLength / lineLength);
  const out = Buffer.allocUnsafe(encodedLength + 2 * lines);
  const start = out.length - encodedLength;

  let at = start;
  let carry = Buffer.alloc(0); // 0-2 bytes left over from the previous chunk
  for (const part of parts) {
    let from = 0;
    if (carry.length > 0) {
      from = Math.min(3 - carry.length, part.length);
      carry = Buffer.concat([carry, part.subarray(0, from)]);
      if (carry.length < 3) continue;
      at += out.write(carry.toString('base64'), at, 'latin1');
      carry = Buffer.alloc(0);
    }
    const aligned = from + Math.floor((part.length - from) / 3) * 3;
    if (aligned > from) at += out.write(part.toString('base64', from, aligned), at, 'latin1');
    if (aligned < part.length) carry = Buffer.from(part.subarray(aligned));
  }
  if (carry.length > 0) out.write(carry.toString('base64'), at, 'latin1');

  let to = 0;
  for (let i = 0; i < encodedLength; i += lineLength) {
    const n = Math.min(lineLength, encodedLength - i);
    out.copyWithin(to, start + i, start + i + n);
    to += n;
    out[to++] = 0x0d;
    out[to++] = 0x0a;
  }
  return out;
}

/** Decodes base64 body text, ignoring line breaks and other whitespace. */
export const fromBase64 = (text: Buffer): Buffer => Buffer.from(text.toString('latin1'), 'base64');
