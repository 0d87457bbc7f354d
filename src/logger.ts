import { pino, type Logger, type LoggerOptions } from 'pino';

/**
 * Paths that must never reach a log line: message content, attachments, keys,
 * tokens, credentials. Pino replaces them with "[redacted]".
 */
export const redactPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["idempotency-key"]',
  'headers.authorization',
  '*.password',
  '*.secret',
  '*.apiKey',
  '*.token',
  '*.privateKey',
  '*.masterKey',
  '*.content',
  '*.text',
  '*.html',
  '*.subject',
  '*.attachments',
  'body',
];

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: redactPaths, censor: '[redacted]' },
    base: { service: 'sealpost' },
  };
}

/** Long-running processes log to stdout; one-shot commands to stderr, keeping stdout for their output. */
export function createLogger(level: string, destination: 'stdout' | 'stderr' = 'stdout'): Logger {
  return pino(loggerOptions(level), pino.destination({ fd: destination === 'stdout' ? 1 : 2, sync: destination === 'stderr' }));
}

export type { Logger };
