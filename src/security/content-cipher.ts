import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Authenticated encryption of content at rest (AES-256-GCM).
 *
 * Layout: version(1) | nonce(12) | ciphertext | tag(16). The associated data binds
 * each ciphertext to what it belongs to ("attachment:<id>"), so a row's bytes
 * cannot be swapped into another row without failing to decrypt.
 */
const VERSION = 1;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

export interface ContentCipher {
  seal(plaintext: Buffer, context: string): Buffer;
  open(sealed: Buffer, context: string): Buffer;
}

export function createContentCipher(masterKey: Buffer): ContentCipher {
  const key = Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), 'sealpost/content/v1', 32));

  return {
    seal(plaintext, context) {
      const nonce = randomBytes(NONCE_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, nonce);
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const body = cipher.update(plaintext);
      const final = cipher.final();
      return Buffer.concat([Buffer.of(VERSION), nonce, body, final, cipher.getAuthTag()]);
    },
    open(sealed, context) {
      if (sealed.length < 1 + NONCE_BYTES + TAG_BYTES || sealed[0] !== VERSION) {
        throw new Error(`sealed content for ${context} has an unknown format`);
      }
      const nonce = sealed.subarray(1, 1 + NONCE_BYTES);
      const tag = sealed.subarray(sealed.length - TAG_BYTES);
      const decipher = createDecipheriv('aes-256-gcm', key, nonce);
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(sealed.subarray(1 + NONCE_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
    },
  };
}
