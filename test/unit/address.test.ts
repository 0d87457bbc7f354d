import { describe, expect, it } from 'vitest';
import { normaliseAddress } from '../../src/core/address.ts';
import { AppError } from '../../src/core/errors.ts';

describe('normaliseAddress', () => {
  it.each([
    ['anna.muster@example.org', 'anna.muster@example.org'],
    ['Anna.Muster@EXAMPLE.Org', 'Anna.Muster@example.org'],
    ["o'brien+payroll@mail.example.co.uk", "o'brien+payroll@mail.example.co.uk"],
    ['info@bücher.de', 'info@xn--bcher-kva.de'],
    ['x@a-b.example', 'x@a-b.example'],
  ])('accepts %s as %s', (input, canonical) => {
    expect(normaliseAddress(input, 'to[0]')).toBe(canonical);
  });

  it.each([
    ['a non-string', 42],
    ['an empty string', ''],
    ['no @', 'anna.example.org'],
    ['nothing before @', '@example.org'],
    ['nothing after @', 'anna@'],
    ['two @', 'anna@b@example.org'],
    ['a space in the local part', 'anna muster@example.org'],
    ['a quoted local part', '"anna muster"@example.org'],
    ['a leading dot', '.anna@example.org'],
    ['consecutive dots', 'anna..muster@example.org'],
    ['a trailing dot in the local part', 'anna.@example.org'],
    ['a non-ASCII local part', 'jürg@example.org'],
    ['angle brackets', '<anna@example.org>'],
    ['a display name', 'Anna <anna@example.org>'],
    ['a single-label domain', 'anna@localhost'],
    ['an all-numeric top-level label', 'anna@10.0.0.1'],
    ['an address literal', 'anna@[10.0.0.1]'],
    ['a label starting with a hyphen', 'anna@-example.org'],
    ['a label ending with a hyphen', 'anna@example-.org'],
    ['an empty label', 'anna@example..org'],
    ['a trailing dot in the domain', 'anna@example.org.'],
    ['an underscore in the domain', 'anna@ex_ample.org'],
    ['a 64+ character local part', `${'a'.repeat(65)}@example.org`],
    ['a 254+ character address', `anna@${'a'.repeat(62)}.${'b'.repeat(62)}.${'c'.repeat(62)}.${'d'.repeat(62)}.org`],
    ['a 63+ character label', `anna@${'a'.repeat(64)}.org`],
    ['CRLF header injection', 'anna@example.org\r\nBcc: eve@example.net'],
    ['a NUL', 'anna@example.org\u0000'],
    ['a tab', 'anna\t@example.org'],
  ])('refuses %s', (_case, input) => {
    let error: unknown;
    try {
      normaliseAddress(input, 'to[0]');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'invalid_address', status: 422, details: { field: 'to[0]' } });
    expect((error as Error).message).toMatch(/^to\[0\] /);
  });
});
