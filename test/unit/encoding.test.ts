import { describe, expect, it } from 'vitest';
import { decodeBase64Strict } from '../../src/core/encoding.ts';

describe('decodeBase64Strict', () => {
  it.each([
    ['', ''],
    ['AA==', '00'],
    ['AAE=', '0001'],
    ['AAEC', '000102'],
    ['+/+/', 'fbffbf'],
    ['AAEC\r\nAwQF', '000102030405'],
    ['AAEC AwQF\n', '000102030405'],
  ])('decodes %j', (text, hex) => {
    expect(decodeBase64Strict(text, 'content').toString('hex')).toBe(hex);
  });

  it('round-trips arbitrary bytes', () => {
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    expect(decodeBase64Strict(bytes.toString('base64'), 'content').equals(bytes)).toBe(true);
  });

  it.each([
    ['a number', 1234],
    ['null', null],
    ['a length that is not a multiple of 4', 'AAE'],
    ['characters outside the alphabet', 'AA!='],
    ['the url-safe alphabet', '-_-_'],
    ['padding in the middle', 'AA==AAAA'],
    ['three padding characters', 'A==='],
    ['only padding', '===='],
    ['a data: URL', 'data:application/pdf;base64,AAEC'],
    ['a tab', 'AAEC\tAwQF'],
    ['non-ASCII', 'AAEÄ'],
  ])('refuses %s', (_case, text) => {
    expect(() => decodeBase64Strict(text, 'attachments[0].content')).toThrowError(
      expect.objectContaining({ code: 'invalid_base64', status: 422, details: { field: 'attachments[0].content' } }),
    );
  });
});
