import type * as pkijs from 'pkijs';
import { fingerprintOf, type Certificate } from './certificate.ts';
import { fetchBytes, type FetchLimits } from './http-fetch.ts';
import { buildOcspRequest, OCSP_NO_NEXT_UPDATE_TTL_MS, readOcspResponse, type OcspAnswer } from './ocsp.ts';

export interface OcspClient {
  /** The status of `cert` at `at` from the responder at `url`; issuerPath is [issuer, …, anchor], already validated. */
  status(cert: Certificate, issuerPath: readonly Certificate[], url: URL, at: Date): Promise<OcspAnswer>;
}

export interface OcspClientOptions {
  timeoutMs: number;
  engine: pkijs.ICryptoEngine;
  /** Send a nonce (default true); a response that echoes a different one is refused, one without is accepted. */
  nonce?: boolean;
  /** After a responder fails, it is not asked again for this long. */
  retryAfterMs?: number;
  now?: () => number;
}

const MAX_RESPONSE_BYTES = 256 * 1024;
const MAX_ENTRIES = 10_000;

/**
 * OCSP over HTTP POST (RFC 6960 A.1) with an in-memory cache: a good or revoked
 * answer is reused while it is fresh at the time of use (until its nextUpdate,
 * or 15 minutes after thisUpdate without one); concurrent questions share one
 * request. A responder that cannot be reached (refused, timeout, HTTP error,
 * too large) is not asked again for retryAfterMs, so a dead responder costs one timeout, not one
 * per validation.
 */
export function createOcspClient(options: OcspClientOptions): OcspClient {
  const now = options.now ?? Date.now;
  const retryAfterMs = options.retryAfterMs ?? 30_000;
  const limits: FetchLimits = { timeoutMs: options.timeoutMs, maxBytes: MAX_RESPONSE_BYTES };
  const answers = new Map<string, Extract<OcspAnswer, { thisUpdate: Date }>>();
  const failures = new Map<string, { at: number; reason: string }>();
  const inFlight = new Map<string, Promise<OcspAnswer>>();

  async function ask(cert: Certificate, issuerPath: readonly Certificate[], url: URL, at: Date): Promise<OcspAnswer> {
    const request = buildOcspRequest(cert, issuerPath[0]!, { nonce: options.nonce ?? true });
    let body: Buffer;
    try {
      body = await fetchBytes(url, limits, { body: request.der, contentType: 'application/ocsp-request', accept: 'application/ocsp-response' });
    } catch (error) {
      const reason = `the OCSP responder ${(error as Error).message}`;
      failures.set(url.href, { at: now(), reason });
      return { status: 'unknown', reason };
    }
    failures.delete(url.href);
    const answer = await readOcspResponse(new Uint8Array(body), request, { issuerPath, at, engine: options.engine, now: new Date(now()) });
    return answer.status === 'unknown' ? { status: 'unknown', reason: `the OCSP responder ${url.href}: ${answer.reason}` } : answer;
  }

  return {
    async status(cert, issuerPath, url, at) {
      const key = `${url.href} ${fingerprintOf(issuerPath[0]!)} ${cert.serialNumber.toLowerCase()}`;
      const cached = answers.get(key);
      if (cached && at <= (cached.nextUpdate ?? new Date(cached.thisUpdate.getTime() + OCSP_NO_NEXT_UPDATE_TTL_MS))) return cached;
      const failed = failures.get(url.href);
      if (failed && now() - failed.at < retryAfterMs) return { status: 'unknown', reason: `${failed.reason} (not asked again for ${Math.ceil(retryAfterMs / 1000)} s)` };
      let pending = inFlight.get(key);
      if (!pending) {
        pending = ask(cert, issuerPath, url, at).finally(() => inFlight.delete(key));
        inFlight.set(key, pending);
      }
      const answer = await pending;
      if (answer.status !== 'unknown') {
        if (answers.size >= MAX_ENTRIES) answers.delete(answers.keys().next().value!);
        answers.set(key, answer);
      }
      return answer;
    },
  };
}
