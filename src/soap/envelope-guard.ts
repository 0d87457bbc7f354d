import { AppError } from '../core/errors.ts';
import { SOAP11_ENVELOPE_NS, SOAP12_ENVELOPE_NS } from './wsdl.ts';

export interface EnvelopeLimits {
  maxDepth: number;
  maxElements: number;
  /** Longest tag, attributes included (a flood of attributes is refused here, not parsed). */
  maxTagLength: number;
}

export interface EnvelopeShape {
  /** Local name of the Body's first child: the operation asked for. */
  operation: string | undefined;
}

/**
 * Looks at the markup of a request before node-soap parses it, and refuses what
 * a SOAP 1.1 endpoint must not process: any DTD or markup declaration (SOAP
 * forbids DTDs; this closes XXE and entity expansion for good), nesting or
 * element counts far beyond what the contract needs, and anything that is not a
 * SOAP 1.1 Envelope (a SOAP 1.2 one gets a fault naming the version).
 *
 * It jumps from one `<` to the next, so the cost grows with the number of tags,
 * not with the size of base64 content. It is not a validating parser: what it
 * lets through, node-soap's sax parser still checks.
 */
export function inspectEnvelope(xml: string, limits: EnvelopeLimits): EnvelopeShape {
  let depth = 0;
  let elements = 0;
  let rootClosed = false;
  let bodyOpen = false;
  let operation: string | undefined;
  let pos = 0;

  for (;;) {
    const lt = xml.indexOf('<', pos);
    if (lt < 0) break;
    const next = xml.charCodeAt(lt + 1);
    if (next === 0x21 /* ! */) {
      pos = skipDeclaration(xml, lt);
      continue;
    }
    if (next === 0x3f /* ? */) {
      pos = endOf(xml, '?>', lt + 2);
      continue;
    }
    const gt = tagEnd(xml, lt);
    if (gt - lt > limits.maxTagLength) {
      throw malformed(`a tag is longer than ${limits.maxTagLength} characters`, { limit: limits.maxTagLength });
    }
    if (next === 0x2f /* / */) {
      depth -= 1;
      if (depth < 0) throw malformed('a closing tag has no matching opening tag');
      if (depth === 0) rootClosed = true;
      if (depth === 1) bodyOpen = false;
      pos = gt + 1;
      continue;
    }

    if (rootClosed) throw malformed('there is markup after the root element');
    elements += 1;
    if (elements > limits.maxElements) {
      throw malformed(`the message has more than ${limits.maxElements} elements`, { limit: limits.maxElements });
    }
    const tag = xml.slice(lt + 1, gt);
    const selfClosing = tag.endsWith('/');
    const name = /^[^\s/>]+/.exec(tag)?.[0] ?? '';
    const local = name.slice(name.indexOf(':') + 1);
    // node-soap builds plain objects from element names: these would reach into prototypes.
    if (local === '__proto__' || local === 'constructor' || local === 'prototype') {
      throw new AppError('unknown_field', `unknown field: ${local} (no element of this service has that name)`, { fields: [local] });
    }
    if (depth === 0) checkEnvelope(tag, name, local);
    else if (depth === 1 && local === 'Body' && !selfClosing) bodyOpen = true;
    else if (depth === 2 && bodyOpen && operation === undefined) operation = local;

    if (!selfClosing) {
      depth += 1;
      if (depth > limits.maxDepth) {
        throw malformed(`elements are nested more than ${limits.maxDepth} levels deep`, { limit: limits.maxDepth });
      }
    }
    pos = gt + 1;
  }
  if (elements === 0) throw malformed('the body is not XML');
  if (depth !== 0) throw malformed('the XML ends before its root element is closed');
  return { operation };
}

function checkEnvelope(tag: string, name: string, local: string): void {
  const prefix = name.includes(':') ? name.slice(0, name.indexOf(':')) : '';
  const declaration = prefix === '' ? /\sxmlns\s*=\s*(["'])(.*?)\1/ : new RegExp(`\\sxmlns:${escapeRegExp(prefix)}\\s*=\\s*(["'])(.*?)\\1`);
  const namespace = declaration.exec(tag)?.[2];
  if (local === 'Envelope' && namespace === SOAP12_ENVELOPE_NS) {
    throw new AppError('invalid_request', 'this is a SOAP 1.2 envelope; this endpoint speaks SOAP 1.1 (send text/xml with the http://schemas.xmlsoap.org/soap/envelope/ namespace)', {
      soapVersion: '1.2',
      supported: '1.1',
    });
  }
  if (local !== 'Envelope' || namespace !== SOAP11_ENVELOPE_NS) {
    throw new AppError('invalid_request', `the root element must be a SOAP 1.1 Envelope (namespace ${SOAP11_ENVELOPE_NS})`, {
      element: name,
      ...(namespace !== undefined && { namespace }),
    });
  }
}

/** Comments and CDATA are skipped; every other `<!` (DOCTYPE, ENTITY, ELEMENT ...) is refused. */
function skipDeclaration(xml: string, lt: number): number {
  if (xml.startsWith('<!--', lt)) return endOf(xml, '-->', lt + 4);
  if (xml.startsWith('<![CDATA[', lt)) return endOf(xml, ']]>', lt + 9);
  const what = /^<!([A-Za-z]*)/.exec(xml.slice(lt, lt + 12))?.[1]?.toUpperCase() || 'markup';
  throw malformed(`a SOAP message must not contain a DTD or markup declarations (found <!${what}>)`, { declaration: what });
}

/** Index just past `terminator`, searched from `from`. */
export function endOf(xml: string, terminator: string, from: number): number {
  const at = xml.indexOf(terminator, from);
  if (at < 0) throw malformed(`unterminated markup: "${terminator}" is missing`);
  return at + terminator.length;
}

/** Index of the `>` closing the tag at `lt`, skipping quoted attribute values. */
export function tagEnd(xml: string, lt: number): number {
  let quote = 0;
  for (let i = lt + 1; i < xml.length; i += 1) {
    const c = xml.charCodeAt(i);
    if (quote !== 0) {
      if (c === quote) quote = 0;
    } else if (c === 0x22 || c === 0x27) {
      quote = c;
    } else if (c === 0x3e) {
      return i;
    } else if (c === 0x3c) {
      break;
    }
  }
  throw malformed('a tag is not closed with ">"');
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const malformed = (reason: string, details: Record<string, unknown> = {}) =>
  new AppError('malformed_xml', `the body is not an acceptable SOAP message: ${reason}`, details);
