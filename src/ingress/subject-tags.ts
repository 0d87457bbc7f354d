import { AppError } from '../core/errors.ts';
import { defaultProtection, type Protection } from '../core/protection.ts';
import type { MessageMode } from '../core/states.ts';

/**
 * What mail-only software and mail gateways say with the subject line
 * (docs/ingress.md, "Subject tags"):
 * - IncaMail-style mode prefixes at the start: `<c>` confidential, `<p>` personal,
 *   `<r>` registered, optionally after the routing marker `<im>` (`<im><c> Payslip`);
 * - SecuMail-style gateway tags anywhere: `[confidential]` (encryption or the
 *   portal, never plain), `[noenc]` (no encryption, still signed), `[plain]`
 *   (neither signed nor encrypted), `[nosign]` (not signed).
 * Every recognised tag is removed; the recipient sees the subject without them.
 */
export interface SubjectTags {
  /** The subject without its tags, whitespace at the seams collapsed. */
  subject: string;
  /** The mode a prefix named, if any. */
  mode?: MessageMode;
  confidential: boolean;
  noEncryption: boolean;
  noSignature: boolean;
  /** The tags found, lower-cased, in order (for the logbook). */
  tags: string[];
}

const modePrefixes: Readonly<Record<string, MessageMode>> = { c: 'confidential', p: 'personal', r: 'registered' };
const PREFIX = /^\s*<(im|c|p|r)>/i;
const GATEWAY_TAG = /\[(confidential|noenc|plain|nosign)\]/gi;

export function readSubjectTags(subject: string): SubjectTags {
  const tags: string[] = [];
  let rest = subject;
  let mode: MessageMode | undefined;
  // Bounded: each round removes one prefix from the front.
  for (let m = PREFIX.exec(rest); m; m = PREFIX.exec(rest)) {
    const tag = m[1]!.toLowerCase();
    tags.push(`<${tag}>`);
    rest = rest.slice(m[0].length);
    const named = modePrefixes[tag];
    if (named === undefined) continue;
    if (mode !== undefined && mode !== named) {
      throw new AppError('invalid_mode', `the subject names two modes (${mode} and ${named}); use one of <c>, <p>, <r>`, { field: 'subject' });
    }
    mode = named;
  }
  const gateway = new Set<string>();
  rest = rest.replace(GATEWAY_TAG, (_all, tag: string) => {
    gateway.add(tag.toLowerCase());
    tags.push(`[${tag.toLowerCase()}]`);
    return ' ';
  });
  const confidential = gateway.has('confidential');
  const noEncryption = gateway.has('noenc') || gateway.has('plain');
  const noSignature = gateway.has('nosign') || gateway.has('plain');
  if (confidential && noEncryption) {
    throw new AppError('invalid_mode', 'the subject asks for [confidential] and for no encryption ([noenc] or [plain]) at once', { field: 'subject' });
  }
  return {
    subject: rest.replace(/[ \t]{2,}/g, ' ').trim(),
    ...(mode !== undefined && { mode }),
    confidential,
    noEncryption,
    noSignature,
    tags,
  };
}

export interface ModeChoice {
  mode: MessageMode;
  protection: Protection;
}

/**
 * The mode and protection of a message taken over SMTP. Precedence: a mode
 * prefix in the subject; then `[confidential]` (confidential); then the
 * tenant's default; then the door's default. Protection follows the gateway
 * tags; a personal or registered message that asks for no encryption is
 * refused by the core (src/core/submission.ts), never sent in the clear.
 */
export function chooseMode(tags: SubjectTags, defaults: { tenant?: MessageMode | undefined; door: MessageMode }): ModeChoice {
  const mode = tags.mode ?? (tags.confidential ? 'confidential' : (defaults.tenant ?? defaults.door));
  return {
    mode,
    protection: {
      sign: !tags.noSignature && defaultProtection.sign,
      encryption: tags.noEncryption ? 'never' : tags.confidential ? 'required' : defaultProtection.encryption,
    },
  };
}

/**
 * A recipient written with the routing suffix (`anna@example.org.secure.example`
 * for `anna@example.org`, as IncaMail's `.incamail.ch`) is the address without
 * it. Other addresses are returned as given.
 */
export function stripRoutingSuffix(address: string, suffix: string | undefined): { address: string; routed: boolean } {
  if (!suffix) return { address, routed: false };
  const at = address.lastIndexOf('@');
  const domain = address.slice(at + 1);
  if (at < 1 || !domain.toLowerCase().endsWith(suffix.toLowerCase()) || domain.length <= suffix.length) return { address, routed: false };
  return { address: `${address.slice(0, at + 1)}${domain.slice(0, domain.length - suffix.length)}`, routed: true };
}

/** `<tenant id>=<mode>,…` (SMTP_INGRESS_TENANT_MODES) as a map. */
export function parseTenantModes(text: string | undefined): ReadonlyMap<string, MessageMode> {
  const map = new Map<string, MessageMode>();
  for (const entry of (text ?? '').split(',')) {
    const [id, mode] = entry.split('=').map((s) => s.trim().toLowerCase());
    if (id && mode) map.set(id, mode as MessageMode);
  }
  return map;
}
