import type { SmimeErrorCode } from './errors.ts';
import type { Recipient } from './recipient.ts';
import type { SignOptions } from './sign-message.ts';
import type { Signer } from './signer.ts';

/** Messages between pool.ts and pool-worker.ts. Certificates travel as DER or PEM, keys as KeyObjects (cloneable). */
export interface PoolRequest {
  id: number;
  operation: 'sign' | 'encrypt' | 'sign-then-encrypt';
  mime: Uint8Array;
  signer?: Signer;
  recipients?: Recipient[];
  options?: SignOptions;
}

export type PoolResponse = { id: number; result: Uint8Array; error?: undefined } | { id: number; result?: undefined; error: { message: string; code?: SmimeErrorCode } };
