/** Where a recipient certificate came from; mirrored by the Postgres enum certificate_source. */
export const certificateSources = ['import', 'harvested'] as const;
export type CertificateSource = (typeof certificateSources)[number];
