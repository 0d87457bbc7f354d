import { createHash } from 'node:crypto';
import { normaliseAddress } from './address.ts';
import { checkAttachmentAllowed } from './attachment-policy.ts';
import { AppError } from './errors.ts';
import { isDefaultProtection, validateProtection, type Protection } from './protection.ts';
import { validateUnlockCode } from './unlock-code.ts';
import { languages, messageModes, type Language, type MessageMode, type RecipientKind } from './states.ts';

/**
 * A submission as a front door hands it over: JSON-like values straight from the
 * caller, attachments already decoded to bytes (base64 is the door's encoding).
 * Everything else is checked here, once, for SOAP, REST and later SMTP alike.
 */
export interface SubmissionInput {
  from?: unknown;
  fromName?: unknown;
  to?: unknown;
  cc?: unknown;
  subject?: unknown;
  text?: unknown;
  html?: unknown;
  mode?: unknown;
  language?: unknown;
  reference?: unknown;
  attachments?: readonly AttachmentInput[];
  /** Signing and encryption beyond the mode (src/core/protection.ts); set by the SMTP door's subject tags, not a REST/SOAP field. */
  protection?: unknown;
  /** Personal/registered only: a code the recipient must enter in the portal, given out of band (src/core/unlock-code.ts). */
  unlockCode?: unknown;
}

export interface AttachmentInput {
  filename?: unknown;
  contentType?: unknown;
  content: Buffer;
}

export interface Mailbox {
  address: string;
  name?: string;
}

export interface ValidAttachment {
  filename: string;
  contentType: string;
  content: Buffer;
  sha256: Buffer;
}

export interface ValidSubmission {
  from: Mailbox;
  recipients: Array<Mailbox & { kind: RecipientKind }>;
  subject: string;
  text?: string;
  html?: string;
  mode: MessageMode;
  language: Language;
  reference?: string;
  attachments: ValidAttachment[];
  sizeBytes: number;
  protection: Protection;
  unlockCode?: string;
}

export interface SubmissionLimits {
  maxMessageBytes: number;
  maxRecipients: number;
  maxAttachments: number;
}

const knownFields = new Set(['from', 'fromName', 'to', 'cc', 'subject', 'text', 'html', 'mode', 'language', 'reference', 'attachments', 'unlockCode']);

const MAX_SUBJECT = 998;
const MAX_NAME = 200;
const MAX_REFERENCE = 200;
const MAX_FILENAME = 255;
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f]/; // tab is allowed in header text
const CONTROL_OR_TAB = /[\u0000-\u001f\u007f]/;
const CONTENT_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/;
// Characters Windows cannot save in a name (":" also opens NTFS alternate data streams).
const NOT_IN_FILE_NAMES = /[<>:"|?*]/;
// Bidirectional controls make "invoice\u202Efdp.exe" display as "invoiceexe.pdf".
const BIDI_CONTROL = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
// Names Windows reserves for devices, with or without an extension.
const DEVICE_NAME = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$/i;

export function assertKnownFields(input: object): void {
  const unknown = Object.keys(input).filter((k) => !knownFields.has(k));
  if (unknown.length > 0) {
    throw new AppError('unknown_field', `unknown field${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`, { fields: unknown });
  }
}

export function validateSubmission(input: SubmissionInput, limits: SubmissionLimits): ValidSubmission {
  const from: Mailbox = { address: normaliseAddress(required(input.from, 'from'), 'from') };
  const fromName = optionalHeaderText(input.fromName, 'fromName', MAX_NAME);
  if (fromName) from.name = fromName;

  const recipients = [...mailboxList(input.to, 'to'), ...mailboxList(input.cc, 'cc')];
  if (recipients.length === 0) throw new AppError('missing_field', 'at least one recipient in "to" is required', { field: 'to' });
  if (!recipients.some((r) => r.kind === 'to')) throw new AppError('missing_field', 'at least one recipient in "to" is required', { field: 'to' });
  if (recipients.length > limits.maxRecipients) {
    throw new AppError('too_many_recipients', `at most ${limits.maxRecipients} recipients per message (got ${recipients.length})`, {
      limit: limits.maxRecipients,
    });
  }
  const seen = new Set<string>();
  for (const r of recipients) {
    const key = r.address.toLowerCase();
    if (seen.has(key)) throw new AppError('duplicate_recipient', `recipient ${r.address} is listed more than once`, { address: r.address });
    seen.add(key);
  }

  const subject = optionalHeaderText(required(input.subject, 'subject'), 'subject', MAX_SUBJECT) ?? '';
  const text = optionalBody(input.text, 'text');
  const html = optionalBody(input.html, 'html');
  if (text === undefined && html === undefined) {
    throw new AppError('missing_field', 'a body is required: "text", "html" or both', { field: 'text' });
  }

  const mode = input.mode ?? 'confidential';
  if (typeof mode !== 'string' || !messageModes.includes(mode as MessageMode)) {
    throw new AppError('invalid_mode', `mode must be one of ${messageModes.join(', ')}`, { field: 'mode', allowed: messageModes });
  }
  const language = input.language ?? 'en';
  if (typeof language !== 'string' || !languages.includes(language as Language)) {
    throw new AppError('invalid_field', `language must be one of ${languages.join(', ')}`, { field: 'language', allowed: languages });
  }
  const reference = optionalHeaderText(input.reference, 'reference', MAX_REFERENCE);
  const protection = validateProtection(input.protection);
  if (mode !== 'confidential' && protection.encryption === 'never') {
    throw new AppError('invalid_field', `a ${mode} message is never delivered unencrypted; only a confidential one may waive encryption`, { field: 'protection' });
  }

  const unlockCode = validateUnlockCode(input.unlockCode);
  if (unlockCode !== undefined && mode === 'confidential') {
    throw new AppError('invalid_field', 'unlockCode is for personal and registered messages (read after a portal login)', { field: 'unlockCode' });
  }

  const attachmentInputs = input.attachments ?? [];
  if (attachmentInputs.length > limits.maxAttachments) {
    throw new AppError('too_many_attachments', `at most ${limits.maxAttachments} attachments per message`, { limit: limits.maxAttachments });
  }
  const attachments = attachmentInputs.map((a, i) => validateAttachment(a, `attachments[${i}]`));
  const names = new Map<string, number>();
  attachments.forEach((a, i) => {
    // Case-insensitive, as Windows and macOS save files: two such attachments would overwrite each other.
    const name = a.filename.normalize('NFC').toLowerCase();
    const first = names.get(name);
    if (first !== undefined) {
      throw new AppError('duplicate_attachment_name', `attachments[${i}] has the same file name as attachments[${first}] ("${a.filename}")`, {
        field: `attachments[${i}].filename`,
        filename: a.filename,
      });
    }
    names.set(name, i);
  });

  const sizeBytes =
    Buffer.byteLength(subject) +
    Buffer.byteLength(text ?? '') +
    Buffer.byteLength(html ?? '') +
    attachments.reduce((n, a) => n + a.content.length, 0);
  if (sizeBytes > limits.maxMessageBytes) {
    throw new AppError('message_too_large', `message is ${sizeBytes} bytes; the limit is ${limits.maxMessageBytes}`, {
      limit: limits.maxMessageBytes,
      size: sizeBytes,
    });
  }

  return {
    from,
    recipients,
    subject,
    ...(text !== undefined && { text }),
    ...(html !== undefined && { html }),
    mode: mode as MessageMode,
    language: language as Language,
    ...(reference !== undefined && { reference }),
    attachments,
    sizeBytes,
    protection,
    ...(unlockCode !== undefined && { unlockCode }),
  };
}

/**
 * Fingerprint of what was asked, independent of the door and its encoding: the
 * same submission over JSON, multipart or SOAP hashes the same.
 */
export function submissionFingerprint(s: ValidSubmission): Buffer {
  const canonical = JSON.stringify([
    s.from,
    s.recipients,
    s.subject,
    s.text ?? null,
    s.html ?? null,
    s.mode,
    s.language,
    s.reference ?? null,
    s.attachments.map((a) => [a.filename, a.contentType, a.sha256.toString('hex')]),
    // Only when set, so fingerprints of submissions without it stay what they were.
    ...(isDefaultProtection(s.protection) ? [] : [s.protection]),
    ...(s.unlockCode === undefined ? [] : [{ unlockCode: s.unlockCode }]),
  ]);
  return createHash('sha256').update(canonical).digest();
}

function required(value: unknown, field: string): unknown {
  if (value === undefined || value === null || value === '') {
    throw new AppError('missing_field', `"${field}" is required`, { field });
  }
  return value;
}

function optionalHeaderText(value: unknown, field: string, max: number): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new AppError('invalid_field', `${field} must be a string`, { field });
  if (CONTROL.test(value)) {
    throw new AppError('invalid_header_value', `${field} must not contain CR, LF, NUL or other control characters`, { field });
  }
  if (value.length > max) throw new AppError('invalid_field', `${field} is longer than ${max} characters`, { field, limit: max });
  return value;
}

function optionalBody(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new AppError('invalid_field', `${field} must be a string`, { field });
  if (value.includes('\u0000')) throw new AppError('invalid_field', `${field} must not contain NUL characters`, { field });
  return value;
}

function mailboxList(value: unknown, kind: RecipientKind): Array<Mailbox & { kind: RecipientKind }> {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new AppError('invalid_field', `${kind} must be a list of addresses`, { field: kind });
  return value.map((entry: unknown, i) => {
    const field = `${kind}[${i}]`;
    if (typeof entry === 'string') return { kind, address: normaliseAddress(entry, field) };
    if (entry && typeof entry === 'object') {
      const { address, name, ...rest } = entry as Record<string, unknown>;
      if (Object.keys(rest).length > 0) {
        throw new AppError('unknown_field', `${field} has unknown fields: ${Object.keys(rest).join(', ')}`, { field });
      }
      const mailbox: Mailbox & { kind: RecipientKind } = { kind, address: normaliseAddress(address, `${field}.address`) };
      const display = optionalHeaderText(name, `${field}.name`, MAX_NAME);
      if (display) mailbox.name = display;
      return mailbox;
    }
    throw new AppError('invalid_field', `${field} must be an address or { address, name }`, { field });
  });
}

function validateAttachment(a: AttachmentInput, field: string): ValidAttachment {
  const filename = a.filename;
  if (typeof filename !== 'string' || filename.length === 0) {
    throw new AppError('missing_field', `${field}.filename is required`, { field: `${field}.filename` });
  }
  if (
    filename.length > MAX_FILENAME ||
    CONTROL_OR_TAB.test(filename) ||
    /[/\\]/.test(filename) ||
    NOT_IN_FILE_NAMES.test(filename) ||
    BIDI_CONTROL.test(filename) ||
    DEVICE_NAME.test(filename) ||
    /^\.+$/.test(filename) ||
    filename.trim() !== filename
  ) {
    throw new AppError(
      'invalid_attachment_name',
      `${field}.filename must be a plain file name: no path separators, control or bidirectional-override characters, none of < > : " | ? *, no surrounding spaces, not only dots nor a Windows device name (CON, NUL, COM1 …), at most ${MAX_FILENAME} characters`,
      { field: `${field}.filename` },
    );
  }
  if (typeof a.contentType === 'string' && CONTROL.test(a.contentType)) {
    throw new AppError('invalid_header_value', `${field}.contentType must not contain CR, LF, NUL or other control characters`, {
      field: `${field}.contentType`,
    });
  }
  const contentType = (typeof a.contentType === 'string' && a.contentType !== '' ? a.contentType : 'application/octet-stream').toLowerCase();
  if (!CONTENT_TYPE.test(contentType)) {
    throw new AppError('invalid_field', `${field}.contentType must be a MIME type such as application/pdf`, {
      field: `${field}.contentType`,
    });
  }
  checkAttachmentAllowed(filename, contentType, a.content, field);
  return { filename, contentType, content: a.content, sha256: createHash('sha256').update(a.content).digest() };
}
