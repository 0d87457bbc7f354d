import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/core/errors.ts';
import { validateSubmission } from '../../src/core/submission.ts';
import { chooseMode, parseTenantModes, readSubjectTags, stripRoutingSuffix } from '../../src/ingress/subject-tags.ts';

const door = { door: 'confidential' as const };
const choose = (subject: string, tenant?: 'confidential' | 'personal' | 'registered') => {
  const tags = readSubjectTags(subject);
  return { subject: tags.subject, ...chooseMode(tags, { ...door, tenant }) };
};

describe('subject tags', () => {
  it.each([
    ['Payslip', 'Payslip', 'confidential', { sign: true, encryption: 'auto' }],
    ['<c> Payslip', 'Payslip', 'confidential', { sign: true, encryption: 'auto' }],
    ['<p>Payslip', 'Payslip', 'personal', { sign: true, encryption: 'auto' }],
    ['<R> Contract', 'Contract', 'registered', { sign: true, encryption: 'auto' }],
    ['<im><c> Test-Mail outbound', 'Test-Mail outbound', 'confidential', { sign: true, encryption: 'auto' }],
    ['<im><p> Salary', 'Salary', 'personal', { sign: true, encryption: 'auto' }],
    ['<im> routed only', 'routed only', 'confidential', { sign: true, encryption: 'auto' }],
    ['Offer [confidential]', 'Offer', 'confidential', { sign: true, encryption: 'required' }],
    ['[noenc] Newsletter', 'Newsletter', 'confidential', { sign: true, encryption: 'never' }],
    ['Invoice [plain] 42', 'Invoice 42', 'confidential', { sign: false, encryption: 'never' }],
    ['[NOSIGN] Minutes', 'Minutes', 'confidential', { sign: false, encryption: 'auto' }],
    ['<p> [nosign] Letter', 'Letter', 'personal', { sign: false, encryption: 'auto' }],
    ['[nosign][noenc] Both', 'Both', 'confidential', { sign: false, encryption: 'never' }],
  ] as const)('%j -> %j, %s, %j', (subject, stripped, mode, protection) => {
    expect(choose(subject)).toEqual({ subject: stripped, mode, protection });
  });

  it('keeps angle brackets that are not a leading prefix, and unknown bracket tags', () => {
    expect(readSubjectTags('Re: <c> is not a prefix here').subject).toBe('Re: <c> is not a prefix here');
    expect(readSubjectTags('[secure] [ticket 42] Hello').subject).toBe('[secure] [ticket 42] Hello');
  });

  it('lists the tags found, for the logbook', () => {
    expect(readSubjectTags('<im><c> X [nosign]').tags).toEqual(['<im>', '<c>', '[nosign]']);
  });

  it('refuses two modes and contradictory gateway tags, naming them', () => {
    expect(() => readSubjectTags('<c><p> X')).toThrow(/two modes \(confidential and personal\)/);
    expect(() => readSubjectTags('[confidential] [noenc] X')).toThrow(AppError);
    expect(() => readSubjectTags('[plain] X [confidential]')).toThrow(/\[confidential\] and for no encryption/);
  });

  it('takes the mode from the subject first, then [confidential], then the tenant default, then the door default', () => {
    expect(choose('<r> X', 'personal').mode).toBe('registered');
    expect(choose('[confidential] X', 'personal').mode).toBe('confidential');
    expect(choose('X', 'personal').mode).toBe('personal');
    expect(choose('X').mode).toBe('confidential');
  });

  it('leaves personal and registered mail that waives encryption to the core, which refuses it', () => {
    const { mode, protection } = choose('<p> [noenc] Salary');
    const limits = { maxMessageBytes: 1e6, maxRecipients: 10, maxAttachments: 10 };
    expect(() => validateSubmission({ from: 'a@example.com', to: ['b@example.org'], subject: 'S', text: 't', mode, protection }, limits)).toThrow(
      /personal message is never delivered unencrypted/,
    );
    expect(validateSubmission({ from: 'a@example.com', to: ['b@example.org'], subject: 'S', text: 't', protection: { sign: true, encryption: 'never' } }, limits).protection).toEqual({
      sign: true,
      encryption: 'never',
    });
  });
});

describe('routing suffix', () => {
  it('removes the configured suffix from the domain, case-insensitively', () => {
    expect(stripRoutingSuffix('anna@example.org.secure.test', '.secure.test')).toEqual({ address: 'anna@example.org', routed: true });
    expect(stripRoutingSuffix('hans.muster@gmail.com.INCAMAIL.CH', '.incamail.ch')).toEqual({ address: 'hans.muster@gmail.com', routed: true });
  });

  it('leaves other addresses, and everything when no suffix is configured', () => {
    expect(stripRoutingSuffix('anna@example.org', '.secure.test')).toEqual({ address: 'anna@example.org', routed: false });
    expect(stripRoutingSuffix('anna@secure.test', '.secure.test')).toEqual({ address: 'anna@secure.test', routed: false });
    expect(stripRoutingSuffix('anna@example.org.secure.test', undefined)).toEqual({ address: 'anna@example.org.secure.test', routed: false });
  });
});

describe('per-tenant default modes', () => {
  it('reads SMTP_INGRESS_TENANT_MODES', () => {
    const id = '3f1c6a52-8a4e-4a57-9c64-0d1f7a9f2b10';
    expect(parseTenantModes(` ${id} = Personal ,`).get(id)).toBe('personal');
    expect(parseTenantModes(undefined).size).toBe(0);
  });
});
