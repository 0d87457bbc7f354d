import { domainToASCII } from 'node:url';
import { AppError } from './errors.ts';

// RFC 5321 dot-atom local part; quoted local parts and SMTPUTF8 are refused on purpose.
const LOCAL_PART = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const DNS_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/**
 * Validates one mailbox address and returns it canonical: domain lower-cased and,
 * for internationalised domains, in its ASCII (punycode) form.
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
  return `${local}@${domain}`;
}

function invalid(field: string, reason: string): AppError {
  return new AppError('invalid_address', `${field} ${reason}`, { field });
}
