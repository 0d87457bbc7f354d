/** Header fields of a MIME entity (RFC 5322 2.2, RFC 2045), kept as raw bytes so nothing is re-folded. */
export interface HeaderField {
  /** Lower-case field name. */
  name: string;
  /** The whole field as it appeared, folding and trailing CRLF included. */
  raw: string;
}

const CRLF = '\r\n';

/** Where the header section ends: the index of the body's first byte, and the header text before the blank line. */
export function headerEnd(entity: Buffer): { headerText: string; bodyStart: number } {
  if (entity.subarray(0, 2).toString('latin1') === CRLF) return { headerText: '', bodyStart: 2 };
  const blank = entity.indexOf('\r\n\r\n', 0, 'latin1');
  if (blank === -1) return { headerText: entity.toString('latin1') + (entity.subarray(-2).toString('latin1') === CRLF ? '' : CRLF), bodyStart: entity.length };
  return { headerText: entity.toString('latin1', 0, blank + 2), bodyStart: blank + 4 };
}

/** Splits a header section into fields; continuation lines (starting with space or tab) stay with their field. */
export function parseFields(headerText: string): HeaderField[] {
  const fields: HeaderField[] = [];
  for (const line of headerText.split(CRLF)) {
    if (line === '') continue;
    const last = fields.at(-1);
    if ((line.startsWith(' ') || line.startsWith('\t')) && last) {
      last.raw += line + CRLF;
      continue;
    }
    const colon = line.indexOf(':');
    fields.push({ name: (colon === -1 ? line : line.slice(0, colon)).trim().toLowerCase(), raw: line + CRLF });
  }
  return fields;
}

/** A field's unfolded value, or undefined. */
export function fieldValue(fields: HeaderField[], name: string): string | undefined {
  const field = fields.find((f) => f.name === name);
  if (!field) return undefined;
  return field.raw.slice(field.raw.indexOf(':') + 1).replace(/\r\n[ \t]/g, ' ').trim();
}

/** `type/subtype` in lower case plus its parameters (names lower-cased, quotes removed). */
export function parseContentType(value: string | undefined): { type: string; parameters: Record<string, string> } {
  if (!value) return { type: 'text/plain', parameters: {} };
  const [type = '', ...rest] = value.split(';');
  const parameters: Record<string, string> = {};
  const joined = rest.join(';');
  for (const match of joined.matchAll(/([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;\s]*)/g)) {
    const raw = match[2] ?? '';
    parameters[(match[1] ?? '').toLowerCase()] = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
  }
  return { type: type.trim().toLowerCase(), parameters };
}
