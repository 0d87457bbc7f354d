import { describe, expect, it } from 'vitest';
import { retryDelaySeconds } from '../../src/outbox/backoff.ts';

const policy = { baseSeconds: 30, maxSeconds: 3600 };
const low = () => 0;
const high = () => 0.999999;

describe('retryDelaySeconds', () => {
  it.each([
    [1, 15, 30],
    [2, 30, 60],
    [3, 60, 120],
    [5, 240, 480],
    [8, 1800, 3600],
    [20, 1800, 3600],
    [1_000, 1800, 3600],
  ])('attempt %i waits between %i and %i seconds', (attempt, min, max) => {
    expect(retryDelaySeconds(attempt, policy, low)).toBe(min);
    expect(retryDelaySeconds(attempt, policy, high)).toBe(max);
  });

  it('treats attempt 0 and below as the first', () => {
    expect(retryDelaySeconds(0, policy, high)).toBe(30);
    expect(retryDelaySeconds(-3, policy, high)).toBe(30);
  });

  it('waits at least one second', () => {
    expect(retryDelaySeconds(1, { baseSeconds: 1, maxSeconds: 1 }, low)).toBe(1);
  });

  it('spreads retries that fail together', () => {
    const delays = new Set(Array.from({ length: 50 }, () => retryDelaySeconds(4, policy)));
    expect(delays.size).toBeGreaterThan(10);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(120);
    expect(Math.max(...delays)).toBeLessThanOrEqual(240);
  });
});
