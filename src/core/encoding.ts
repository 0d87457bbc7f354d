import { AppError } from './errors.ts';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Strict base64 (RFC 4648 section 4, line breaks tolerated as MIME writers add
 * them): Node's decoder silently skips garbage, so the text is checked first.
 */
export function decodeBase64Strict(text: unknown, field: string): Buffer {
  if (typeof text !== 'string') throw new AppError('invalid_base64', `${field} must be a base64 string`, { field });
  const compact = text.includes('\n') || text.includes('\r') || text.includes(' ') ? text.replace(/[\r\n ]/g, '') : text;
  if (compact.length % 4 !== 0 || !BASE64.test(compact)) {
    throw new AppError('invalid_base64', `${field} is not valid base64`, { field });
  }
  return Buffer.from(compact, 'base64');
}
