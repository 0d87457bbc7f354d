/** The S/MIME engine (RFC 8551 over RFC 5652 CMS): pure async functions on bytes and keys. */
export { signMessage, type SignOptions } from './sign-message.ts';
export { encryptMessage } from './encrypt-message.ts';
export { signThenEncrypt } from './sign-then-encrypt.ts';
export { decryptMessage } from './decrypt-message.ts';
export { verifyMessage, type VerifyResult } from './verify-message.ts';
export { createCmsEngine, type CmsEngine } from './engine.ts';
export { toCertificate, type CertificateInput, type SmimeCertificate } from './certificates.ts';
export { toPrivateKey, type PrivateKeyInput, type SignatureScheme } from './keys.ts';
export type { Signer } from './signer.ts';
export type { Recipient } from './recipient.ts';
export type { KeyTransport } from './enveloped-data.ts';
export { SmimeError, type SmimeErrorCode } from './errors.ts';
export { createSmimePool, type SmimePool } from './pool.ts';
