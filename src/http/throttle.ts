import { AppError } from '../core/errors.ts';
import type { Principal } from '../core/principal.ts';

export interface ThrottleLimits {
  /** Failed authentications a client address may make per window before it is refused. */
  authFailures: number;
  authFailureWindowMs: number;
  /** Requests per minute per API key (a token bucket: bursts up to this many). */
  requestsPerMinute: number;
}

/** Entries kept at most per table; beyond it the oldest are dropped (memory stays bounded under a flood). */
const MAX_ENTRIES = 100_000;

/**
 * Per-process limits on the authentication step of both doors: a client address
 * that keeps presenting wrong credentials is refused for a while (credential
 * guessing, and the database work each guess costs), and each key has a
 * request budget. Several processes each apply their own limits.
 */
export class RequestThrottle {
  private readonly failures = new Map<string, number[]>();
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly limits: ThrottleLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /** Refuses a client address with too many recent failures, before its credentials cost anything. */
  assertClientAllowed(address: string): void {
    const recent = this.recentFailures(address);
    if (recent.length >= this.limits.authFailures) {
      const retryAfter = Math.ceil((recent[0]! + this.limits.authFailureWindowMs - this.now()) / 1000);
      throw new AppError('rate_limited', `too many failed authentications from this address; retry in ${retryAfter} s`, {
        retryAfterSeconds: Math.max(1, retryAfter),
      });
    }
  }

  recordAuthFailure(address: string): void {
    const recent = this.recentFailures(address);
    recent.push(this.now());
    this.failures.delete(address);
    this.failures.set(address, recent);
    evictOldest(this.failures);
  }

  /** Takes one request from the key's budget, or refuses with the time until one is available. */
  takeRequest(keyId: string): void {
    const perMs = this.limits.requestsPerMinute / 60_000;
    const now = this.now();
    const bucket = this.buckets.get(keyId) ?? { tokens: this.limits.requestsPerMinute, at: now };
    bucket.tokens = Math.min(this.limits.requestsPerMinute, bucket.tokens + (now - bucket.at) * perMs);
    bucket.at = now;
    if (bucket.tokens < 1) {
      throw new AppError('rate_limited', `this API key is over its limit of ${this.limits.requestsPerMinute} requests per minute`, {
        retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000)),
      });
    }
    bucket.tokens -= 1;
    this.buckets.set(keyId, bucket);
    evictOldest(this.buckets);
  }

  private recentFailures(address: string): number[] {
    const since = this.now() - this.limits.authFailureWindowMs;
    return (this.failures.get(address) ?? []).filter((t) => t > since);
  }
}

/** Runs one door's authentication under the throttle. */
export async function authenticateThrottled(
  throttle: RequestThrottle,
  clientAddress: string | undefined,
  authenticate: () => Promise<Principal>,
): Promise<Principal> {
  const address = clientAddress ?? 'unknown';
  throttle.assertClientAllowed(address);
  let principal: Principal;
  try {
    principal = await authenticate();
  } catch (error) {
    if (error instanceof AppError && error.code === 'unauthorized') throttle.recordAuthFailure(address);
    throw error;
  }
  throttle.takeRequest(principal.keyId);
  return principal;
}

function evictOldest(map: Map<string, unknown>): void {
  if (map.size <= MAX_ENTRIES) return;
  const oldest = map.keys().next().value;
  if (oldest !== undefined) map.delete(oldest);
}
