import { webcrypto } from 'node:crypto';
import * as pkijs from 'pkijs';

/**
 * The PKI.js crypto engine over node's WebCrypto, created once by the
 * composition root and passed explicitly to the functions that need it
 * (certificate chain validation). Nothing here calls pkijs.setEngine.
 *
 * PKI.js itself, on import, installs a global default engine over
 * globalThis.crypto (its initCryptoEngine); we cannot prevent that and do not
 * rely on it. Bulk work (AES, digests, RSA/EC signatures) does not go through
 * WebCrypto at all: see sign-message.ts and encrypt-message.ts.
 */
export type CmsEngine = pkijs.ICryptoEngine;

export function createCmsEngine(crypto: Crypto = webcrypto as unknown as Crypto): CmsEngine {
  return new pkijs.CryptoEngine({ name: 'node-webcrypto', crypto });
}
