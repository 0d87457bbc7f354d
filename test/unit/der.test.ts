import * as asn1js from 'asn1js';
import { describe, expect, it } from 'vitest';
import { octetString, oid, smallInteger } from '../../src/smime/der.ts';
import { OID } from '../../src/smime/oids.ts';

const asn1 = (value: asn1js.AsnType) => Buffer.from(value.toBER(false));

/** src/smime/der.ts's hand-written encodings are the bytes asn1js writes (openssl checks the structures around them). */
describe('DER helpers', () => {
  it('writes OCTET STRINGs of every length form as asn1js does', () => {
    for (const size of [0, 1, 127, 128, 255, 256, 70_000]) {
      const bytes = Buffer.alloc(size, 0xa5);
      expect(Buffer.concat(octetString(bytes))).toEqual(asn1(new asn1js.OctetString({ valueHex: bytes })));
    }
  });

  it('writes small INTEGERs as asn1js does, and refuses what does not fit one byte', () => {
    for (const value of [0, 1, 2, 3, 127]) expect(smallInteger(value)).toEqual(asn1(new asn1js.Integer({ value })));
    for (const bad of [-1, 128, 1.5]) expect(() => smallInteger(bad)).toThrow(RangeError);
  });

  it('encodes each OID once and the same as asn1js', () => {
    for (const value of Object.values(OID)) {
      expect(oid(value)).toEqual(asn1(new asn1js.ObjectIdentifier({ value })));
      expect(oid(value)).toBe(oid(value));
    }
  });
});
