import { headerEnd, parseFields, type HeaderField } from './mime-headers.ts';

/**
 * How a rendered message is protected: the RFC 5322 header fields (From, To,
 * Subject, Date, Message-ID, X-*) stay outside, in clear, where MTAs and clients
 * expect them; the body entity (the Content-* fields and the body) is what gets
 * signed or encrypted (RFC 8551 3.1). MIME-Version belongs to the message, not the
 * entity, so it stays outside and is written once on the result.
 *
 * Input can be a whole message or a bare entity (only Content-* fields): then the
 * outer part is empty.
 */
export interface SplitMessage {
  /** Outer header fields, each ending in CRLF, MIME-Version removed. */
  outer: string;
  /** Content-* fields, blank line and body: the entity to protect, as chunks (the body is a view of the input, not a copy). */
  entity: Buffer[];
}

export function splitMessage(message: Buffer): SplitMessage {
  const { headerText, bodyStart } = headerEnd(message);
  const fields = parseFields(headerText);
  const isContent = (f: HeaderField) => f.name.startsWith('content-');
  const outer = fields.filter((f) => !isContent(f) && f.name !== 'mime-version').map((f) => f.raw).join('');
  const contentHeaders = fields.filter(isContent).map((f) => f.raw).join('');
  const body = message.subarray(bodyStart);
  return { outer, entity: [Buffer.from(contentHeaders + '\r\n', 'latin1'), body] };
}

/** The protected result: the outer fields, MIME-Version, the new entity's own fields, a blank line, the body chunks. */
export function joinMessage(outer: string, entityHeaders: string[], body: Buffer[]): Buffer {
  const head = outer + 'MIME-Version: 1.0\r\n' + entityHeaders.map((h) => h + '\r\n').join('') + '\r\n';
  return Buffer.concat([Buffer.from(head, 'latin1'), ...body]);
}
