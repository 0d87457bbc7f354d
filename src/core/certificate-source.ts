/** Where a recipient certificate came from; mirrored by the Postgres enum certificate_source. */
export const certificateSources = ['import', 'harvested'] as const;
export type CertificateSource = (typeof certificateSources)[number];

/**
 * How a message key is wrapped for a recipient's RSA certificate; mirrored by the
 * Postgres enum key_transport. PKCS#1 v1.5 is what every mail client decrypts;
 * OAEP (SHA-256) where the recipient's software is known to take it.
 */
export const keyTransports = ['rsaes-pkcs1-v1_5', 'rsaes-oaep-sha256'] as const;
export type KeyTransport = (typeof keyTransports)[number];
