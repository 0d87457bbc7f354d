/**
 * Polls, bounded, until `check` holds (for setup code, where expect.poll does
 * not fit); throws after `timeoutMs`, naming the wait.
 */
export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Polls, bounded, until `read` returns a value, and returns it. */
export async function waitForValue<T>(read: () => Promise<T | undefined>, timeoutMs = 30_000, what = 'value'): Promise<T> {
  let value: T | undefined;
  await waitFor(async () => (value = await read()) !== undefined, timeoutMs, what);
  return value!;
}
