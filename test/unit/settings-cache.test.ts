import { describe, expect, it } from 'vitest';
import { createSettingsCache, readSetting } from '../../src/core/settings-cache.ts';

describe('settings cache', () => {
  const counting = () => {
    let loads = 0;
    return { load: async () => ++loads, get loads() { return loads; } };
  };

  it('loads once for concurrent and later readers, per tenant and key', async () => {
    const cache = createSettingsCache();
    cache.observe(1);
    const a = counting();
    const [x, y] = await Promise.all([cache.read('t1', 'k', a.load), cache.read('t1', 'k', a.load)]);
    expect([x, y, await cache.read('t1', 'k', a.load)]).toEqual([1, 1, 1]);
    expect(a.loads).toBe(1);
    await cache.read('t2', 'k', a.load);
    await cache.read('t1', 'other', a.load);
    expect(a.loads).toBe(3);
  });

  it('keeps its entries while the version stays and drops them all when it moves', async () => {
    const cache = createSettingsCache();
    const a = counting();
    cache.observe(7);
    await cache.read('t1', 'k', a.load);
    cache.observe(7);
    expect(await cache.read('t1', 'k', a.load)).toBe(1);
    cache.observe(8);
    expect(cache.size).toBe(0);
    expect(await cache.read('t1', 'k', a.load)).toBe(2);
  });

  it('runs a lazy thenable (a query builder) once, not at every await', async () => {
    const cache = createSettingsCache();
    let runs = 0;
    const builder = { then: (resolve: (v: number) => void) => resolve(++runs) } as unknown as Promise<number>;
    await cache.read('t1', 'k', () => builder);
    await cache.read('t1', 'k', () => builder);
    expect(runs).toBe(1);
  });

  it('does not remember a failed load', async () => {
    const cache = createSettingsCache();
    await expect(cache.read('t1', 'k', () => Promise.reject(new Error('database away')))).rejects.toThrow('database away');
    expect(await cache.read('t1', 'k', async () => 'fresh')).toBe('fresh');
  });

  it('holds at most maxEntries, dropping the oldest', async () => {
    const cache = createSettingsCache({ maxEntries: 2 });
    for (const key of ['a', 'b', 'c']) await cache.read('t1', key, async () => key);
    expect(cache.size).toBe(2);
    expect(await cache.read('t1', 'a', async () => 'reloaded')).toBe('reloaded');
  });

  it('reads straight through without a cache (the API and the CLI read fresh)', async () => {
    const a = counting();
    await readSetting({}, 't1', 'k', a.load);
    await readSetting({}, 't1', 'k', a.load);
    expect(a.loads).toBe(2);
  });
});
