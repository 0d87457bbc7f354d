import type { ServerOptions } from 'node:http';
import type { Socket } from 'node:net';
import type { Config } from '../config.ts';
import { errorCodes, type ErrorCode } from '../core/errors.ts';

/**
 * Server-side timeouts against slow or stalled clients (slowloris): headers must
 * arrive within HTTP_HEADERS_TIMEOUT_MS, the whole request within
 * HTTP_REQUEST_TIMEOUT_MS, and a connection where nothing moves for
 * HTTP_IDLE_TIMEOUT_MS is closed. Node checks the first two on a timer, so its
 * interval follows the headers timeout (a quarter of it, at most 5 s) instead of
 * node's default 30 s. These are constructor options of the HTTP server, which
 * Fastify creates: buildApp passes them through.
 */
export function serverTimeouts(config: Config) {
  const node: ServerOptions = {
    headersTimeout: config.HTTP_HEADERS_TIMEOUT_MS,
    requestTimeout: config.HTTP_REQUEST_TIMEOUT_MS,
    connectionsCheckingInterval: Math.max(50, Math.min(5000, Math.floor(config.HTTP_HEADERS_TIMEOUT_MS / 4))),
  };
  return {
    /** Options of node's http(s).createServer (for HTTPS, merged into the TLS options). */
    node,
    fastify: {
      requestTimeout: config.HTTP_REQUEST_TIMEOUT_MS,
      connectionTimeout: config.HTTP_IDLE_TIMEOUT_MS,
      keepAliveTimeout: config.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      clientErrorHandler: answerClientError,
    },
  };
}

/**
 * What node's HTTP parser refuses before any route sees it (a request timeout,
 * oversized headers, CR/LF/NUL in a header, a Content-Length that contradicts
 * Transfer-Encoding) still gets our error shape and code, then the connection is
 * closed.
 */
function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const code: ErrorCode =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'request_timeout' : error.code === 'HPE_HEADER_OVERFLOW' ? 'headers_too_large' : 'invalid_request';
  const message =
    code === 'request_timeout'
      ? 'the request did not arrive in time; the connection is closed and nothing was stored'
      : code === 'headers_too_large'
        ? 'the request headers are larger than this server accepts'
        : 'the request is not valid HTTP/1.1 (malformed request line or header, or conflicting Content-Length and Transfer-Encoding)';
  const { status } = errorCodes[code];
  const body = JSON.stringify({ code, message, details: {} });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${reason[status] ?? 'Bad Request'}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

const reason: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' };
