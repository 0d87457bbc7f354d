/** What one POST to a webhook came to. */
export interface WebhookAttempt {
  ok: boolean;
  statusCode: number | null;
  /** Why it did not succeed, short and free of the body (network error code, or the status). */
  error: string | null;
  durationMs: number;
}

/**
 * POSTs `body` once: no redirects followed (a 3xx counts as a failure), the
 * whole exchange bounded by `timeoutMs`, the answer's body discarded. Only a
 * 2xx is success.
 */
export async function postWebhook(url: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<WebhookAttempt> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const response = await fetch(url, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'user-agent': 'Sealpost-Webhook/1', ...headers },
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.body?.cancel().catch(() => {});
    const ok = response.status >= 200 && response.status < 300;
    return { ok, statusCode: response.status, error: ok ? null : `HTTP ${response.status}`, durationMs: elapsed() };
  } catch (error) {
    return { ok: false, statusCode: null, error: describe(error, timeoutMs), durationMs: elapsed() };
  }
}

function describe(error: unknown, timeoutMs: number): string {
  const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  return (e.cause?.code ?? e.cause?.message ?? e.message ?? 'request failed').slice(0, 200);
}
