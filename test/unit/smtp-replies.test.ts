import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/core/errors.ts';
import { replyFor } from '../../src/ingress/smtp-replies.ts';

/** Core errors as SMTP replies (docs/ingress.md, "Replies on bad input"): permanent 5xx, temporary 4xx. */
describe('replyFor', () => {
  it.each([
    [new AppError('unauthorized', 'x'), 535, '5.7.8'],
    [new AppError('sender_not_allowed', 'x'), 550, '5.7.1'],
    [new AppError('message_too_large', 'x'), 552, '5.3.4'],
    [new AppError('invalid_address', 'x'), 553, '5.1.3'],
    [new AppError('missing_field', 'x'), 554, '5.6.0'],
    [new AppError('invalid_request', 'x', { smime: 'smime_not_for_recipient' }), 554, '5.7.5'],
    [new AppError('unavailable', 'x'), 451, '4.3.0'],
    [new AppError('overloaded', 'x'), 451, '4.3.2'],
    [new AppError('rate_limited', 'x'), 451, '4.7.0'],
  ])('%s -> %i %s', (error, code, enhanced) => {
    expect(replyFor(error)).toMatchObject({ code, enhanced });
  });

  it('answers an unreachable database with 451 (the client retries) and an unknown failure without its cause', () => {
    const down = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    expect(replyFor(down)).toMatchObject({ code: 451, enhanced: '4.3.0' });
    const bug = replyFor(new TypeError('secret detail'));
    expect(bug.code).toBe(451);
    expect(bug.message).not.toContain('secret detail');
  });

  it('keeps a reply on one line', () => {
    expect(replyFor(new AppError('invalid_field', 'a\r\nb')).message).toBe('a b (invalid_field)');
  });
});
