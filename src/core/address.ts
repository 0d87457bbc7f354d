import { domainToASCII, domainToUnicode } from 'node:url';
import { AppError } from './errors.ts';

// RFC 5321 dot-atom local part; quoted local parts and SMTPUTF8 are refused on purpose.
const LOCAL_PART = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const DNS_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/**
 * Validates one mailbox address and returns it canonical: domain lower-cased and,
 * for internationalised domains, in its ASCII (punycode) form after UTS #46
 * mapping (so full-width `ｅｘａｍｐｌｅ．org` is example.org). A label of an
 * internationalised domain must be written in one script (UTS #39 "highly
 * restrictive": Latin may join Han with Kana, Bopomofo or Hangul), which refuses
 * look-alikes such as a Cyrillic `а` inside `exаmple.com`. Whole-script
 * look-alikes (every letter Cyrillic) pass in their punycode form, which is what
 * every view shows (docs/reliability.md).
 */
export function normaliseAddress(value: unknown, field: string): string {
  if (typeof value !== 'string') throw invalid(field, 'must be a string');
  if (/[\u0000-\u001f\u007f]/.test(value)) throw invalid(field, 'contains control characters (CR, LF, NUL …)');
  if (value.length > 254) throw invalid(field, 'is longer than 254 characters');
  const at = value.lastIndexOf('@');
  if (at <= 0 || at === value.length - 1) throw invalid(field, 'is not of the form local@domain');
  const local = value.slice(0, at);
  const domainText = value.slice(at + 1);
  if (local.length > 64 || !LOCAL_PART.test(local)) {
    throw invalid(field, 'has an invalid local part (plain ASCII dot-atom expected)');
  }
  const domain = domainToASCII(domainText.toLowerCase());
  if (!domain || domain.length > 253) throw invalid(field, 'has an invalid domain');
  const labels = domain.split('.');
  if (labels.length < 2 || !labels.every((l) => DNS_LABEL.test(l)) || /^[0-9]+$/.test(labels.at(-1) ?? '')) {
    throw invalid(field, 'has an invalid domain');
  }
  if (domain.includes('xn--')) {
    const mixed = domainToUnicode(domain).split('.').find((label) => !isSingleScript(label));
    if (mixed !== undefined) throw invalid(field, `has a domain label mixing scripts ("${mixed}"), as look-alike domains do`);
  }
  return `${local}@${domain}`;
}

const scripts = [
  'Latin', 'Greek', 'Cyrillic', 'Armenian', 'Hebrew', 'Arabic', 'Syriac', 'Thaana', 'Devanagari', 'Bengali', 'Gurmukhi',
  'Gujarati', 'Oriya', 'Tamil', 'Telugu', 'Kannada', 'Malayalam', 'Sinhala', 'Thai', 'Lao', 'Tibetan', 'Myanmar', 'Georgian',
  'Hangul', 'Ethiopic', 'Cherokee', 'Khmer', 'Mongolian', 'Hiragana', 'Katakana', 'Bopomofo', 'Han',
].map((name) => ({ name, pattern: new RegExp(`\\p{Script=${name}}`, 'u') }));
const NEUTRAL = /[\p{Script=Common}\p{Script=Inherited}]/u;
const allowedMixes = [
  ['Latin', 'Han', 'Hiragana', 'Katakana'],
  ['Latin', 'Han', 'Bopomofo'],
  ['Latin', 'Han', 'Hangul'],
];

function isSingleScript(label: string): boolean {
  const used = new Set<string>();
  for (const char of label) {
    if (NEUTRAL.test(char)) continue;
    used.add(scripts.find((s) => s.pattern.test(char))?.name ?? 'Other');
  }
  return used.size <= 1 || allowedMixes.some((mix) => [...used].every((name) => mix.includes(name)));
}

function invalid(field: string, reason: string): AppError {
  return new AppError('invalid_address', `${field} ${reason}`, { field });
}
