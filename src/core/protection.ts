import { AppError } from './errors.ts';

/**
 * How the worker protects each copy of a message, beyond its mode. The default
 * is the gateway's: sign when the sender has an identity, encrypt when the
 * recipient has a valid certificate. The SMTP door's subject tags change it
 * (docs/ingress.md): `[nosign]` drops the signature, `[noenc]` the encryption,
 * `[plain]` both, `[confidential]` makes encryption (or the portal) required.
 */
export const encryptionPolicies = ['auto', 'never', 'required'] as const;
export type EncryptionPolicy = (typeof encryptionPolicies)[number];

export interface Protection {
  sign: boolean;
  encryption: EncryptionPolicy;
}

export const defaultProtection: Readonly<Protection> = Object.freeze({ sign: true, encryption: 'auto' });

export const isDefaultProtection = (p: Protection): boolean => p.sign && p.encryption === 'auto';

/** Checks a protection handed over by a door; undefined is the default. */
export function validateProtection(value: unknown): Protection {
  if (value === undefined || value === null) return { ...defaultProtection };
  const { sign = true, encryption = 'auto', ...rest } = value as Record<string, unknown>;
  if (typeof value !== 'object' || Object.keys(rest).length > 0 || typeof sign !== 'boolean' || !encryptionPolicies.includes(encryption as EncryptionPolicy)) {
    throw new AppError('invalid_field', `protection must be { sign: boolean, encryption: ${encryptionPolicies.join(' | ')} }`, { field: 'protection' });
  }
  return { sign, encryption: encryption as EncryptionPolicy };
}
