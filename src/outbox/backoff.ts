export interface BackoffPolicy {
  baseSeconds: number;
  maxSeconds: number;
}

/**
 * Exponential backoff with jitter: attempt 1 waits about `base`, each further
 * attempt doubles it up to `max`; the wait is drawn from [half, full] so that
 * a batch failing together does not retry together.
 */
export function retryDelaySeconds(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  const ceiling = Math.min(policy.maxSeconds, policy.baseSeconds * 2 ** exponent);
  return Math.max(1, Math.round(ceiling * (0.5 + random() * 0.5)));
}
