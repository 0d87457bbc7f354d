import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/core/errors.ts';
import { authenticateThrottled, RequestThrottle } from '../../src/http/throttle.ts';

const principal = { tenantId: 't', keyId: 'sp_0123456789abcdef', role: 'submitter' as const, senderDomains: [] };

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return error as AppError;
  }
  throw new Error('expected a refusal');
};

describe('RequestThrottle', () => {
  it('refuses an address after the allowed failures until the oldest leaves the window', () => {
    const c = clock();
    const throttle = new RequestThrottle({ authFailures: 3, authFailureWindowMs: 60_000, requestsPerMinute: 100 }, c.now);
    for (let i = 0; i < 3; i++) {
      throttle.assertClientAllowed('10.0.0.1');
      throttle.recordAuthFailure('10.0.0.1');
      c.advance(1000);
    }
    const error = refusal(() => throttle.assertClientAllowed('10.0.0.1'));
    expect(error).toMatchObject({ code: 'rate_limited', status: 429, details: { retryAfterSeconds: 57 } });
    expect(() => throttle.assertClientAllowed('10.0.0.2')).not.toThrow();
    c.advance(57_000);
    expect(() => throttle.assertClientAllowed('10.0.0.1')).not.toThrow();
  });

  it('meters each key with a bucket that refills at the per-minute rate', () => {
    const c = clock();
    const throttle = new RequestThrottle({ authFailures: 3, authFailureWindowMs: 60_000, requestsPerMinute: 60 }, c.now);
    for (let i = 0; i < 60; i++) throttle.takeRequest('a');
    expect(refusal(() => throttle.takeRequest('a'))).toMatchObject({ code: 'rate_limited', details: { retryAfterSeconds: 1 } });
    expect(() => throttle.takeRequest('b')).not.toThrow();
    c.advance(1000);
    expect(() => throttle.takeRequest('a')).not.toThrow();
    expect(() => throttle.takeRequest('a')).toThrow(AppError);
  });
});

describe('authenticateThrottled', () => {
  it('counts only failed authentications and meters only successful ones', async () => {
    const throttle = new RequestThrottle({ authFailures: 2, authFailureWindowMs: 60_000, requestsPerMinute: 1 });
    const wrong = () => Promise.reject(new AppError('unauthorized', 'wrong'));
    const broken = () => Promise.reject(new AppError('unavailable', 'database down'));
    await expect(authenticateThrottled(throttle, 'x', broken)).rejects.toMatchObject({ code: 'unavailable' });
    await expect(authenticateThrottled(throttle, 'x', wrong)).rejects.toMatchObject({ code: 'unauthorized' });
    await expect(authenticateThrottled(throttle, 'x', async () => principal)).resolves.toBe(principal);
    await expect(authenticateThrottled(throttle, 'x', async () => principal)).rejects.toMatchObject({ code: 'rate_limited' });
    await expect(authenticateThrottled(throttle, 'x', wrong)).rejects.toMatchObject({ code: 'unauthorized' });
    await expect(authenticateThrottled(throttle, 'x', async () => principal)).rejects.toMatchObject({
      code: 'rate_limited',
      message: expect.stringMatching(/failed authentications/),
    });
  });
});
