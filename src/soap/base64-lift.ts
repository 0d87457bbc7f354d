import { randomBytes } from 'node:crypto';
import { AppError } from '../core/errors.ts';
import { endOf, tagEnd } from './envelope-guard.ts';
import { SEALPOST_NS, SOAP11_ENVELOPE_NS } from './wsdl.ts';

/** Base64 texts taken out of an envelope, by the placeholder left in their place. */
export type LiftedContents = ReadonlyMap<string, string>;

/**
 * Takes the text of every `Envelope/Body/SubmitMessage/attachment/content`
 * element (SOAP 1.1 Envelope and Body, the rest in urn:sealpost:v1, whatever
 * the prefixes) out of the envelope and leaves a short placeholder in its place,
 * so node-soap's generic parser never builds a 33 MB base64 string through its
 * sax machinery: that was most of the SOAP door's cost per attachment (CPU and
 * peak memory, bench/README.md). The operation then decodes the lifted text
 * directly (operations.ts `attachmentOf`).
 *
 * Runs after inspectEnvelope, on markup it has accepted. Like it, it jumps from
 * one `<` to the next, so base64 text is skipped with `indexOf`, never walked
 * through. The text is lifted only when it is plain character data directly
 * followed by the element's end tag; anything else there (CDATA, comments, child
 * elements) stays in place for node-soap to parse as before. Character and
 * predefined entity references in the text are expanded here (some XML writers
 * encode a CR as `&#xD;`); any other `&` is a malformed_xml fault.
 */
export function liftAttachmentContents(xml: string): { xml: string; lifted: LiftedContents } {
  const lifted = new Map<string, string>();
  const stack: Frame[] = [];
  const parts: string[] = [];
  const nonce = randomBytes(6).toString('hex');
  let copiedUpTo = 0;
  let pos = 0;

  for (;;) {
    const lt = xml.indexOf('<', pos);
    if (lt < 0) break;
    const next = xml.charCodeAt(lt + 1);
    if (next === 0x21 /* ! comment or CDATA; the guard refused the rest */) {
      pos = xml.startsWith('<!--', lt) ? endOf(xml, '-->', lt + 4) : endOf(xml, ']]>', lt + 9);
      continue;
    }
    if (next === 0x3f /* ? */) {
      pos = endOf(xml, '?>', lt + 2);
      continue;
    }
    const gt = tagEnd(xml, lt);
    if (next === 0x2f /* / */) {
      stack.pop();
      pos = gt + 1;
      continue;
    }
    const tag = xml.slice(lt + 1, gt);
    const selfClosing = tag.endsWith('/');
    const qname = /^[^\s/>]+/.exec(tag)?.[0] ?? '';
    const frame = frameOf(qname, tag, stack);
    pos = gt + 1;
    if (selfClosing) continue;
    stack.push(frame);
    if (!isAttachmentContent(stack)) continue;

    const end = xml.indexOf('<', pos);
    if (end < 0 || end === pos || xml.charCodeAt(end + 1) !== 0x2f) continue; // empty, or not plain text: node-soap's part
    const closeEnd = tagEnd(xml, end);
    if (xml.slice(end + 2, closeEnd).trim() !== qname) continue; // mismatched end tag: node-soap reports it
    const token = `sealpost-lifted-${nonce}-${lifted.size}`;
    lifted.set(token, expandReferences(xml.slice(pos, end)));
    parts.push(xml.slice(copiedUpTo, pos), token);
    copiedUpTo = end;
    pos = end;
  }
  if (lifted.size === 0) return { xml, lifted };
  parts.push(xml.slice(copiedUpTo));
  return { xml: parts.join(''), lifted };
}

interface Frame {
  local: string;
  namespace: string | undefined;
  /** Prefix ('' for the default namespace) to namespace, declared on this element. */
  declared: Map<string, string> | undefined;
}

const XMLNS = /\sxmlns(?::([^\s=/>]+))?\s*=\s*(["'])(.*?)\2/g;

function frameOf(qname: string, tag: string, stack: Frame[]): Frame {
  let declared: Map<string, string> | undefined;
  if (tag.includes('xmlns')) {
    for (const m of tag.matchAll(XMLNS)) (declared ??= new Map()).set(m[1] ?? '', m[3]!);
  }
  const colon = qname.indexOf(':');
  const prefix = colon < 0 ? '' : qname.slice(0, colon);
  let namespace = declared?.get(prefix);
  for (let i = stack.length - 1; namespace === undefined && i >= 0; i -= 1) namespace = stack[i]!.declared?.get(prefix);
  return { local: qname.slice(colon + 1), namespace: namespace === '' ? undefined : namespace, declared };
}

function isAttachmentContent(stack: Frame[]): boolean {
  if (stack.length !== 5) return false;
  const [envelope, body, operation, attachment, content] = stack as [Frame, Frame, Frame, Frame, Frame];
  return (
    content.local === 'content' &&
    content.namespace === SEALPOST_NS &&
    attachment.local === 'attachment' &&
    attachment.namespace === SEALPOST_NS &&
    operation.local === 'SubmitMessage' &&
    operation.namespace === SEALPOST_NS &&
    body.local === 'Body' &&
    body.namespace === SOAP11_ENVELOPE_NS &&
    envelope.local === 'Envelope' &&
    envelope.namespace === SOAP11_ENVELOPE_NS
  );
}

const PREDEFINED: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** XML character data to its text: character references and the five predefined entities; nothing else exists without a DTD. */
function expandReferences(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&([^;&<]{0,10});?/g, (whole, name: string) => {
    if (whole.endsWith(';')) {
      if (name in PREDEFINED) return PREDEFINED[name]!;
      const code = /^#x([0-9a-fA-F]{1,6})$/.exec(name)?.[1] ?? /^#([0-9]{1,7})$/.exec(name)?.[1];
      if (code !== undefined) {
        const point = name.startsWith('#x') ? parseInt(code, 16) : parseInt(code, 10);
        if (point <= 0x10ffff) return String.fromCodePoint(point);
      }
    }
    throw new AppError('malformed_xml', `the body is not an acceptable SOAP message: an attachment's content has an undefined or broken reference "${whole.slice(0, 12)}"`, {
      reference: whole.slice(0, 12),
    });
  });
}
