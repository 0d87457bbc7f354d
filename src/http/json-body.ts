import { isUtf8 } from 'node:buffer';
import { AppError } from '../core/errors.ts';

/**
 * A JSON request body to its value, refusing what JSON.parse would let through
 * silently: bytes that are not UTF-8 (decoding would turn them into U+FFFD) and
 * an object key given twice (JSON.parse keeps the last one, so a proxy or
 * validator in front reading the first would see another message than we store).
 */
export function parseJsonBody(body: Buffer): unknown {
  if (!isUtf8(body)) throw new AppError('malformed_json', 'the body is not valid UTF-8');
  const text = body.toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new AppError('malformed_json', `the body is not valid JSON: ${(error as Error).message}`, {}, { cause: error });
  }
  const duplicate = findDuplicateKey(text);
  if (duplicate !== undefined) {
    throw new AppError('malformed_json', `the body has the key "${duplicate.slice(0, 64)}" twice in one object`, { key: duplicate.slice(0, 64) });
  }
  return value;
}

/**
 * The first key that appears twice in one object of a text JSON.parse accepted.
 * Strings are skipped with indexOf (base64 attachments cost one search each);
 * only structure is walked, without recursion, so nesting depth costs nothing.
 */
export function findDuplicateKey(text: string): string | undefined {
  const stack: Array<Set<string> | null> = []; // a Set per open object, null per open array
  let expectKey = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const end = stringEnd(text, i);
      const keys = stack.at(-1);
      if (keys && expectKey) {
        const raw = text.slice(i + 1, end);
        const key = raw.includes('\\') ? (JSON.parse(text.slice(i, end + 1)) as string) : raw;
        if (keys.has(key)) return key;
        keys.add(key);
        expectKey = false;
      }
      i = end;
    } else if (c === 0x7b /* { */) {
      stack.push(new Set());
      expectKey = true;
    } else if (c === 0x5b /* [ */) {
      stack.push(null);
      expectKey = false;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      expectKey = Boolean(stack.at(-1));
    }
  }
  return undefined;
}

/** Index of the quote closing the string opened at `start`. */
function stringEnd(text: string, start: number): number {
  let at = text.indexOf('"', start + 1);
  for (;;) {
    let backslashes = 0;
    while (text.charCodeAt(at - 1 - backslashes) === 0x5c) backslashes += 1;
    if (backslashes % 2 === 0) return at;
    at = text.indexOf('"', at + 1);
  }
}
