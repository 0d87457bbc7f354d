import { createHash, createPrivateKey, KeyObject } from 'node:crypto';
import { SmimeError } from './errors.ts';

/** A private key as callers hold it: a node KeyObject, PEM text, or PKCS#8 DER. */
export type PrivateKeyInput = KeyObject | string | Buffer | Uint8Array;

/** Normalises a private key once, at the boundary; everything inside works on KeyObjects. */
export function toPrivateKey(input: PrivateKeyInput): KeyObject {
  if (input instanceof KeyObject) {
    if (input.type !== 'private') throw new SmimeError('smime_unsupported_key', `expected a private key, got a ${input.type} key`);
    return input;
  }
  // The same few identity keys arrive as bytes for every copy: parsing one costs far more than hashing it.
  const digest = createHash('sha256').update(input).digest('base64');
  let key = parsedKeys.get(digest);
  if (!key) {
    key = parsePrivateKey(input);
    if (parsedKeys.size >= PARSED_KEYS_KEPT) parsedKeys.delete(parsedKeys.keys().next().value!);
    parsedKeys.set(digest, key);
  }
  return key;
}

/** Parsed keys by the SHA-256 of their PEM or DER bytes; the oldest goes first beyond this many. */
const PARSED_KEYS_KEPT = 64;
const parsedKeys = new Map<string, KeyObject>();

function parsePrivateKey(input: string | Buffer | Uint8Array): KeyObject {
  try {
    if (typeof input === 'string') return createPrivateKey(input);
    const bytes = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    if (bytes.subarray(0, 11).toString('latin1') === '-----BEGIN ') return createPrivateKey(bytes);
    return createPrivateKey({ key: bytes, format: 'der', type: 'pkcs8' });
  } catch (cause) {
    throw new SmimeError('smime_unsupported_key', 'the private key is neither PEM nor PKCS#8 DER', { cause });
  }
}

/** Signature schemes a signer can use (RFC 8551 2.2, RFC 4056, RFC 5753). */
export type SignatureScheme = 'rsassa-pkcs1-v1_5' | 'rsassa-pss' | 'ecdsa';

/** The scheme a key implies: RSA keys default to PKCS#1 v1.5 (what every client verifies) unless the key is an RSA-PSS key. */
export function defaultScheme(key: KeyObject): SignatureScheme {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return 'rsassa-pkcs1-v1_5';
    case 'rsa-pss':
      return 'rsassa-pss';
    case 'ec':
      if (key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
        throw new SmimeError('smime_unsupported_key', `EC curve ${key.asymmetricKeyDetails?.namedCurve} is not supported; use P-256`);
      }
      return 'ecdsa';
    default:
      throw new SmimeError('smime_unsupported_key', `${key.asymmetricKeyType} keys are not supported`);
  }
}
