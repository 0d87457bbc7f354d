/** Why an S/MIME operation refused its input; `code` is stable, the message is for people. */
export type SmimeErrorCode =
  | 'smime_unsupported_key'
  | 'smime_unsupported_algorithm'
  | 'smime_malformed'
  | 'smime_no_recipient'
  | 'smime_not_for_recipient'
  | 'smime_pool_closed';

export class SmimeError extends Error {
  override name = 'SmimeError';
  readonly code: SmimeErrorCode;

  constructor(code: SmimeErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
