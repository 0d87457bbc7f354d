import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** A revocation source that did not answer usefully; the message names the URL and what went wrong. */
export class RevocationFetchError extends Error {
  override name = 'RevocationFetchError';
}

export interface FetchLimits {
  timeoutMs: number;
  maxBytes: number;
}

/**
 * One bounded HTTP exchange for CRLs and OCSP: a single deadline for connect,
 * request and the whole body, a size cap enforced while reading, 200 required,
 * redirects not followed (a CRL or OCSP URL is named by a CA; a redirect would
 * let anyone on the path point us elsewhere), no proxy from the environment.
 */
export function fetchBytes(
  url: URL,
  limits: FetchLimits,
  post?: { body: Buffer; contentType: string; accept: string },
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const fail = (why: string, cause?: unknown) => {
      clearTimeout(deadline);
      req.destroy();
      reject(new RevocationFetchError(`${url.href}: ${why}`, cause === undefined ? undefined : { cause }));
    };
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = request(url, {
      method: post ? 'POST' : 'GET',
      headers: post ? { 'content-type': post.contentType, accept: post.accept, 'content-length': post.body.length } : { accept: '*/*' },
      agent: false,
    });
    const deadline = setTimeout(() => fail(`no complete answer within ${limits.timeoutMs} ms`), limits.timeoutMs);
    req.on('error', (error) => fail((error as NodeJS.ErrnoException).code ?? error.message, error));
    req.on('response', (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        fail(`answered HTTP ${res.statusCode}${res.headers.location ? ` (redirect to ${res.headers.location}, not followed)` : ''}`);
        return;
      }
      const declared = Number(res.headers['content-length']);
      if (declared > limits.maxBytes) {
        fail(`the answer is ${declared} bytes, more than the ${limits.maxBytes} allowed`);
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > limits.maxBytes) fail(`the answer exceeds ${limits.maxBytes} bytes`);
        else chunks.push(chunk);
      });
      res.on('error', (error) => fail(error.message, error));
      res.on('end', () => {
        clearTimeout(deadline);
        if (size <= limits.maxBytes) resolve(Buffer.concat(chunks, size));
      });
    });
    req.end(post?.body);
  });
}

/** http(s) URLs only; anything else (ldap:, file:, garbage) is skipped by the caller. */
export function httpUrl(text: string, allowHttps: boolean): URL | undefined {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || (allowHttps && url.protocol === 'https:') ? url : undefined;
  } catch {
    return undefined;
  }
}
