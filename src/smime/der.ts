import * as asn1js from 'asn1js';
import { SmimeError } from './errors.ts';

/**
 * Minimal DER assembly over chunk lists. Large contents (ciphertext, signed
 * payloads) stay in their own Buffers until the single final Buffer.concat, so
 * the payload is copied once, not once per nesting level as asn1js's toBER does.
 */
export type Chunks = Buffer[];

export const byteLength = (chunks: Chunks) => chunks.reduce((n, c) => n + c.length, 0);

export function header(tag: number, length: number): Buffer {
  if (length < 0x80) return Buffer.from([tag, length]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return Buffer.from([tag, 0x80 | bytes.length, ...bytes]);
}

/** A TLV around already-encoded chunks. */
export function tlv(tag: number, ...parts: Array<Buffer | Chunks>): Chunks {
  const inner = parts.flat();
  return [header(tag, byteLength(inner)), ...inner];
}

export const TAG = {
  integer: 0x02,
  octetString: 0x04,
  sequence: 0x30,
  set: 0x31,
  context0: 0xa0,
  context1: 0xa1,
  context0Primitive: 0x80,
} as const;

/** OCTET STRING (primitive) holding `bytes`, which are not copied. */
export const octetString = (bytes: Buffer): Chunks => tlv(TAG.octetString, bytes);

/** INTEGER of a small non-negative value (0-127), such as a CMS version. */
export function smallInteger(value: number): Buffer {
  if (!Number.isInteger(value) || value < 0 || value > 127) throw new RangeError(`smallInteger: ${value} is not in 0..127`);
  return Buffer.from([TAG.integer, 1, value]);
}

/** DER of an asn1js value (for the small structures). */
export const encode = (value: asn1js.AsnType): Buffer => Buffer.from(value.toBER(false));

/**
 * DER of an OBJECT IDENTIFIER. Encoded once per OID and shared (callers never
 * change chunks): every signature and envelope names the same dozen OIDs, and
 * asn1js took about 0.1 ms a message to encode them again.
 */
const oids = new Map<string, Buffer>();
const MAX_OIDS = 256;

export function oid(value: string): Buffer {
  let der = oids.get(value);
  if (!der) {
    der = encode(new asn1js.ObjectIdentifier({ value }));
    if (oids.size < MAX_OIDS) oids.set(value, der);
  }
  return der;
}

/** AlgorithmIdentifier; `parameters` null writes ASN.1 NULL, undefined leaves them absent. */
export function algorithmIdentifier(algorithm: string, parameters?: Buffer | null): Buffer {
  const params = parameters === null ? [Buffer.from([0x05, 0x00])] : parameters ? [parameters] : [];
  return Buffer.concat(tlv(TAG.sequence, oid(algorithm), ...params));
}

/** SET OF in DER order (X.690 11.6): elements sorted by their encodings. */
export function setOf(elements: Buffer[], tag: number = TAG.set): Buffer {
  const sorted = [...elements].sort(Buffer.compare);
  return Buffer.concat(tlv(tag, ...sorted));
}

/**
 * Checks that every length in a BER/DER encoding fits its container exactly
 * (asn1js tolerates a constructed value whose children overrun its length),
 * so a changed length byte is refused rather than read around.
 */
export function assertWellFormed(der: Uint8Array, what: string): void {
  const fail = (at: number) => {
    throw new SmimeError('smime_malformed', `${what}: inconsistent encoding at byte ${at}`);
  };
  // Returns the offset after the value starting at `at`; `end` is the container's end.
  const walk = (at: number, end: number): number => {
    if (at + 2 > end) fail(at);
    const constructed = (der[at]! & 0x20) !== 0;
    let i = at + 1;
    if ((der[at]! & 0x1f) === 0x1f) {
      while (i < end && der[i]! & 0x80) i++;
      i++;
    }
    if (i >= end) fail(at);
    const first = der[i++]!;
    if (first === 0x80) {
      if (!constructed) fail(at);
      while (!(der[i] === 0 && der[i + 1] === 0)) i = walk(i, end);
      return i + 2;
    }
    let length = first;
    if (first & 0x80) {
      const count = first & 0x7f;
      if (count > 4 || i + count > end) fail(at);
      length = 0;
      for (let k = 0; k < count; k++) length = length * 256 + der[i++]!;
    }
    const valueEnd = i + length;
    if (valueEnd > end) fail(at);
    if (constructed) while (i < valueEnd) i = walk(i, valueEnd);
    return valueEnd;
  };
  if (walk(0, der.byteLength) !== der.byteLength) fail(0);
}

export function parse(der: Uint8Array, what: string): asn1js.AsnType {
  assertWellFormed(der, what);
  const parsed = asn1js.fromBER(der);
  if (parsed.offset === -1) throw new SmimeError('smime_malformed', `${what}: ${parsed.result.error}`);
  if (parsed.offset !== der.byteLength) throw new SmimeError('smime_malformed', `${what}: ${der.byteLength - parsed.offset} bytes after the structure`);
  return parsed.result;
}
