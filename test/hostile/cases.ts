import { pdfLike, submission } from '../support/app.ts';
import { SOAP11, SOAP12, SP, type SoapCredentials } from '../support/soap.ts';
import { raw, send, stream, type Outcome } from './wire.ts';
import { zipOf } from './zip.ts';

/**
 * The hostile-input corpus: one row per attack, run by hostile.test.ts against
 * a real server on loopback, on every door the row names. `expect` is per door:
 * REST answers with the HTTP status of the code; SOAP with a Fault (HTTP 500,
 * faultcode soap:Client) carrying the same code, except where the HTTP layer
 * answers before either door is reached (timeouts, malformed HTTP), which both
 * doors share. docs/reliability.md summarises this table.
 */
export type Door = 'rest' | 'soap';

export interface CaseContext {
  port: number;
  /** `Bearer …` of a submitter allowed to send from example.com. */
  auth: string;
  soap: SoapCredentials;
  /** A message of another tenant. */
  foreignMessageId: string;
  /** Settings of the server under test (see hostile.test.ts). */
  maxRecipients: number;
  authFailureLimit: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
}

export interface Expectation {
  status: number;
  code: string;
}

/** Rows a case that is accepted adds. */
export interface Stored {
  messages: number;
  recipients: number;
  attachments: number;
}

export interface HostileCase {
  name: string;
  door: Door | 'both';
  send(door: Door, ctx: CaseContext): Promise<Outcome>;
  expect: Partial<Record<Door, Expectation>>;
  /** For the few rows that must be accepted (stored verbatim, normalised): what is stored. */
  stores?: Stored;
  /** Further checks on the outcome (what was stored, how early it was refused …). */
  check?(outcome: Outcome, door: Door, ctx: CaseContext): Promise<void> | void;
}

// ---------------------------------------------------------------- requests

const REST_PATH = '/v1/messages';
const SOAP_PATH = '/soap/v1';
const xmlHeaders = { 'content-type': 'text/xml; charset=utf-8' };

const postJson = (ctx: CaseContext, body: string | Buffer, headers: Record<string, string> = {}) =>
  send(ctx.port, { path: REST_PATH, headers: { authorization: ctx.auth, 'content-type': 'application/json', ...headers }, body });

const postSoap = (ctx: CaseContext, xml: string | Buffer, headers: Record<string, string> = {}) =>
  send(ctx.port, { path: SOAP_PATH, headers: { ...xmlHeaders, ...headers }, body: xml });

/** XML text: markup escaped, control characters as character references (so the XML parser hands them on). */
const xmlText = (value: string) =>
  value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/[\u0000-\u0008\u000b-\u001f]/g, (c) => `&#${c.charCodeAt(0)};`);

const el = (name: string, value: string) => `<sp:${name}>${xmlText(value)}</sp:${name}>`;

export function soapEnvelope(body: string, credentials: SoapCredentials | undefined, before = ''): string {
  const header = credentials
    ? '<soapenv:Header><wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">' +
      `<wsse:UsernameToken><wsse:Username>${xmlText(credentials.keyId)}</wsse:Username><wsse:Password>${xmlText(credentials.secret)}</wsse:Password>` +
      '</wsse:UsernameToken></wsse:Security></soapenv:Header>'
    : '';
  return `<?xml version="1.0" encoding="utf-8"?>\n${before}<soapenv:Envelope xmlns:soapenv="${SOAP11}" xmlns:sp="${SP}">${header}<soapenv:Body>${body}</soapenv:Body></soapenv:Envelope>`;
}

type Mailbox = string | { address: string; name?: string };
type Attachment = { filename: string; contentType?: string; content: string };

/** A REST JSON submission as the SOAP SubmitMessage element (WSDL order). */
export function soapSubmission(s: Record<string, unknown>, extra = ''): string {
  const mailbox = (kind: string, m: Mailbox) =>
    typeof m === 'string' ? `<sp:${kind}>${el('address', m)}</sp:${kind}>` : `<sp:${kind}>${el('address', m.address)}${m.name === undefined ? '' : el('name', m.name)}</sp:${kind}>`;
  const text = (name: string) => (typeof s[name] === 'string' ? el(name, s[name] as string) : '');
  return (
    '<sp:SubmitMessage>' +
    text('mode') +
    text('from') +
    text('fromName') +
    ((s.to as Mailbox[] | undefined) ?? []).map((m) => mailbox('to', m)).join('') +
    ((s.cc as Mailbox[] | undefined) ?? []).map((m) => mailbox('cc', m)).join('') +
    text('subject') +
    text('text') +
    text('html') +
    ((s.attachments as Attachment[] | undefined) ?? [])
      .map((a) => `<sp:attachment>${el('filename', a.filename)}${a.contentType === undefined ? '' : el('contentType', a.contentType)}${el('content', a.content)}</sp:attachment>`)
      .join('') +
    text('reference') +
    text('language') +
    text('idempotencyKey') +
    extra +
    '</sp:SubmitMessage>'
  );
}

/** The same submission through either door. */
const submit = (door: Door, ctx: CaseContext, body: Record<string, unknown>) =>
  door === 'rest' ? postJson(ctx, JSON.stringify(body)) : postSoap(ctx, soapEnvelope(soapSubmission(body), ctx.soap));

const fault = (code: string): Expectation => ({ status: 500, code });
const onBoth = (status: number, code: string): HostileCase['expect'] => ({ rest: { status, code }, soap: fault(code) });
/** Accepted: 202 on REST, a SubmitMessageResponse (HTTP 200) on SOAP. */
const accepted: HostileCase['expect'] = { rest: { status: 202, code: 'accepted' }, soap: { status: 200, code: 'accepted' } };
/** Answered by the HTTP layer before a door is reached: the same on both. */
const onHttp = (status: number, code: string): HostileCase['expect'] => ({ rest: { status, code }, soap: { status, code } });

/** A submission with one thing wrong, on both doors. */
const submissionCase = (name: string, overrides: Record<string, unknown>, status: number, code: string): HostileCase => ({
  name,
  door: 'both',
  send: (door, ctx) => submit(door, ctx, submission(overrides)),
  expect: onBoth(status, code),
});

const attachment = (filename: string, content: Buffer, contentType = 'application/pdf'): Attachment => ({ filename, contentType, content: content.toString('base64') });
const withAttachments = (...attachments: Attachment[]) => ({ attachments });
const pdf = () => pdfLike(1024);

// ---------------------------------------------------------------- payloads

const DOCTYPE_FILE = '<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>';
const billionLaughs =
  '<!DOCTYPE lolz [<!ENTITY lol "lol">' +
  Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`).join('') +
  ']>';
const quadratic = `<!DOCTYPE q [<!ENTITY a "${'a'.repeat(50_000)}">]>`;
const foreignXml = (ctx: CaseContext, operation: string) =>
  soapEnvelope(`<sp:${operation}>${el('messageId', ctx.foreignMessageId)}</sp:${operation}>`, ctx.soap);

const headerFields: Array<[string, (v: string) => Record<string, unknown>, string]> = [
  ['subject', (v) => ({ subject: `Payslip${v}Bcc: eve@example.net` }), 'invalid_header_value'],
  ['fromName', (v) => ({ fromName: `Payroll${v}Bcc: eve@example.net` }), 'invalid_header_value'],
  ['to[].name', (v) => ({ to: [{ address: 'anna@example.org', name: `Anna${v}Bcc: eve@example.net` }] }), 'invalid_header_value'],
  ['cc[].name', (v) => ({ cc: [{ address: 'hr@example.org', name: `HR${v}Bcc: eve@example.net` }] }), 'invalid_header_value'],
  ['reference', (v) => ({ reference: `PAY-1${v}X-Evil: yes` }), 'invalid_header_value'],
  ['from', (v) => ({ from: `payroll@example.com${v}Bcc: eve@example.net` }), 'invalid_address'],
  ['to[]', (v) => ({ to: [`anna@example.org${v}Bcc: eve@example.net`] }), 'invalid_address'],
  ['cc[]', (v) => ({ cc: [`hr@example.org${v}Bcc: eve@example.net`] }), 'invalid_address'],
  ['attachment filename', (v) => withAttachments(attachment(`payslip.pdf${v}Content-Type: text/html`, pdf())), 'invalid_attachment_name'],
  ['attachment contentType', (v) => withAttachments(attachment('payslip.pdf', pdf(), `application/pdf${v}X-Evil: yes`)), 'invalid_header_value'],
  ['idempotencyKey (SOAP element)', (v) => ({ idempotencyKey: `key-1${v}X-Evil: yes` }), 'invalid_header_value'],
];

// ---------------------------------------------------------------- the corpus

export const hostileCases: HostileCase[] = [
  // ---- XML (SOAP door): DTDs are refused before any parser sees them
  ...(
    [
      ['XXE: external entity reading a local file', DOCTYPE_FILE, '<sp:GetMessageStatus><sp:messageId>&xxe;</sp:messageId></sp:GetMessageStatus>'],
      ['XXE: external entity fetching a URL', '<!DOCTYPE foo [<!ENTITY xxe SYSTEM "http://127.0.0.1:9/x">]>', '<sp:GetMessageStatus><sp:messageId>&xxe;</sp:messageId></sp:GetMessageStatus>'],
      ['XXE: parameter entity', '<!DOCTYPE foo [<!ENTITY % p SYSTEM "http://127.0.0.1:9/p.dtd"> %p;]>', '<sp:ListMessages/>'],
      ['billion laughs', billionLaughs, '<sp:GetMessageStatus><sp:messageId>&lol9;</sp:messageId></sp:GetMessageStatus>'],
      ['quadratic blowup (50 KB entity referenced 10,000 times)', quadratic, `<sp:GetMessageStatus><sp:messageId>${'&a;'.repeat(10_000)}</sp:messageId></sp:GetMessageStatus>`],
      ['DOCTYPE without entities', '<!DOCTYPE Envelope>', '<sp:ListMessages/>'],
    ] as const
  ).map(([name, doctype, body]): HostileCase => ({
    name,
    door: 'soap',
    send: (_door, ctx) => postSoap(ctx, soapEnvelope(body, ctx.soap, doctype)),
    expect: { soap: fault('malformed_xml') },
  })),
  {
    name: 'deep nesting (XML, 10,000 levels)',
    door: 'soap',
    send: (_door, ctx) => postSoap(ctx, soapEnvelope(`<sp:ListMessages>${'<a>'.repeat(10_000)}${'</a>'.repeat(10_000)}</sp:ListMessages>`, ctx.soap)),
    expect: { soap: fault('malformed_xml') },
  },
  {
    name: 'element flood (XML, 50,000 siblings)',
    door: 'soap',
    send: (_door, ctx) => postSoap(ctx, soapEnvelope(`<sp:ListMessages>${'<a/>'.repeat(50_000)}</sp:ListMessages>`, ctx.soap)),
    expect: { soap: fault('malformed_xml') },
  },
  {
    name: 'attribute flood (XML, 20,000 attributes on one element)',
    door: 'soap',
    send: (_door, ctx) =>
      postSoap(ctx, soapEnvelope(`<sp:ListMessages ${Array.from({ length: 20_000 }, (_, i) => `a${i}="x"`).join(' ')}/>`, ctx.soap)),
    expect: { soap: fault('malformed_xml') },
  },
  {
    name: '__proto__ element (SOAP)',
    door: 'soap',
    send: (_door, ctx) => postSoap(ctx, soapEnvelope(soapSubmission(submission(), '<sp:__proto__><sp:isAdmin>true</sp:isAdmin></sp:__proto__>'), ctx.soap)),
    expect: { soap: fault('unknown_field') },
  },
  {
    name: 'constructor element (SOAP)',
    door: 'soap',
    send: (_door, ctx) => postSoap(ctx, soapEnvelope(soapSubmission(submission(), '<sp:constructor><sp:prototype><sp:isAdmin>true</sp:isAdmin></sp:prototype></sp:constructor>'), ctx.soap)),
    expect: { soap: fault('unknown_field') },
  },
  {
    name: 'SOAP 1.2 envelope',
    door: 'soap',
    send: (_door, ctx) => postSoap(ctx, `<?xml version="1.0"?><e:Envelope xmlns:e="${SOAP12}"><e:Body><sp:ListMessages xmlns:sp="${SP}"/></e:Body></e:Envelope>`),
    expect: { soap: fault('invalid_request') },
  },

  // ---- JSON (REST door)
  {
    name: 'deep nesting (JSON, 100,000 levels)',
    door: 'rest',
    send: (_door, ctx) => postJson(ctx, JSON.stringify(submission()).replace('"to":["anna.muster@example.org"]', `"to":${'['.repeat(100_000)}${']'.repeat(100_000)}`)),
    expect: { rest: { status: 422, code: 'invalid_field' } },
  },
  {
    name: 'duplicate keys (JSON: a second "to" after the first)',
    door: 'rest',
    send: (_door, ctx) => postJson(ctx, JSON.stringify(submission()).replace('"to":', '"to":["eve@example.net"],"to":')),
    expect: { rest: { status: 400, code: 'malformed_json' } },
  },
  {
    name: 'duplicate keys, one escaped (JSON: "to" and "\\u0074o")',
    door: 'rest',
    send: (_door, ctx) => postJson(ctx, JSON.stringify(submission()).replace('"to":', '"\\u0074o":["eve@example.net"],"to":')),
    expect: { rest: { status: 400, code: 'malformed_json' } },
  },
  {
    name: 'prototype pollution: __proto__ key',
    door: 'rest',
    send: (_door, ctx) => postJson(ctx, JSON.stringify(submission()).replace('{', '{"__proto__":{"isAdmin":true},')),
    expect: { rest: { status: 422, code: 'unknown_field' } },
  },
  {
    name: 'prototype pollution: constructor.prototype key',
    door: 'rest',
    send: (_door, ctx) => postJson(ctx, JSON.stringify(submission()).replace('{', '{"constructor":{"prototype":{"isAdmin":true}},')),
    expect: { rest: { status: 422, code: 'unknown_field' } },
  },

  // ---- Encoding
  {
    name: 'invalid UTF-8 (a lone 0xFF byte in the subject)',
    door: 'both',
    send: (door, ctx) => {
      const [before, after] =
        door === 'rest' ? JSON.stringify(submission({ subject: 'Pay@@slip' })).split('@@') : soapEnvelope(soapSubmission(submission({ subject: 'Pay@@slip' })), ctx.soap).split('@@');
      const bytes = Buffer.concat([Buffer.from(before!), Buffer.from([0xff]), Buffer.from(after!)]);
      return door === 'rest' ? postJson(ctx, bytes) : postSoap(ctx, bytes);
    },
    expect: { rest: { status: 400, code: 'malformed_json' }, soap: fault('malformed_xml') },
  },
  {
    name: 'invalid UTF-8 (overlong encoding of "/", C0 AF)',
    door: 'both',
    send: (door, ctx) => {
      const [before, after] =
        door === 'rest' ? JSON.stringify(submission({ subject: 'a@@b' })).split('@@') : soapEnvelope(soapSubmission(submission({ subject: 'a@@b' })), ctx.soap).split('@@');
      const bytes = Buffer.concat([Buffer.from(before!), Buffer.from([0xc0, 0xaf]), Buffer.from(after!)]);
      return door === 'rest' ? postJson(ctx, bytes) : postSoap(ctx, bytes);
    },
    expect: { rest: { status: 400, code: 'malformed_json' }, soap: fault('malformed_xml') },
  },

  // ---- Wrong content types and empty bodies
  {
    name: 'wrong content type: text/plain',
    door: 'both',
    send: (door, ctx) =>
      send(ctx.port, { path: door === 'rest' ? REST_PATH : SOAP_PATH, headers: { authorization: ctx.auth, 'content-type': 'text/plain' }, body: 'hello' }),
    expect: onBoth(415, 'unsupported_media_type'),
  },
  {
    name: 'wrong content type: XML to REST, JSON to SOAP',
    door: 'both',
    send: (door, ctx) =>
      door === 'rest'
        ? send(ctx.port, { path: REST_PATH, headers: { authorization: ctx.auth, 'content-type': 'application/xml' }, body: soapEnvelope(soapSubmission(submission()), ctx.soap) })
        : send(ctx.port, { path: SOAP_PATH, headers: { 'content-type': 'application/json' }, body: JSON.stringify(submission()) }),
    expect: onBoth(415, 'unsupported_media_type'),
  },
  {
    name: 'wrong content type: form-urlencoded',
    door: 'both',
    send: (door, ctx) =>
      send(ctx.port, { path: door === 'rest' ? REST_PATH : SOAP_PATH, headers: { authorization: ctx.auth, 'content-type': 'application/x-www-form-urlencoded' }, body: 'from=a%40example.com' }),
    expect: onBoth(415, 'unsupported_media_type'),
  },
  {
    name: 'empty body',
    door: 'both',
    send: (door, ctx) => (door === 'rest' ? postJson(ctx, '') : postSoap(ctx, '')),
    expect: { rest: { status: 400, code: 'malformed_json' }, soap: fault('malformed_xml') },
  },

  // ---- Size: 100 MB, streamed; refused when the limit is passed, never read to the end
  {
    name: '100 MB body with its length declared',
    door: 'both',
    send: (door, ctx) =>
      stream(ctx.port, {
        path: door === 'rest' ? REST_PATH : SOAP_PATH,
        headers: door === 'rest' ? { authorization: ctx.auth, 'content-type': 'application/json' } : xmlHeaders,
        totalBytes: 100 * 1024 * 1024,
        declareLength: true,
      }),
    expect: onBoth(413, 'message_too_large'),
    // Refused on the declared length alone, before a byte of the body was sent.
    check: (o) => expectEarly(o, 0),
  },
  {
    name: '100 MB body streamed without a length (chunked)',
    door: 'both',
    send: (door, ctx) =>
      stream(ctx.port, {
        path: door === 'rest' ? REST_PATH : SOAP_PATH,
        headers: door === 'rest' ? { authorization: ctx.auth, 'content-type': 'application/json' } : xmlHeaders,
        totalBytes: 100 * 1024 * 1024,
        declareLength: false,
      }),
    expect: onBoth(413, 'message_too_large'),
    // The body limit here is about 2.4 MB; socket buffers add a few MB at most.
    check: (o) => expectEarly(o, 16 * 1024 * 1024),
  },
  {
    name: '100 MB multipart file',
    door: 'rest',
    send: (_door, ctx) =>
      stream(ctx.port, {
        path: REST_PATH,
        headers: { authorization: ctx.auth, 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
        prefix: `${multipartFields}--${BOUNDARY}\r\nContent-Disposition: form-data; name="attachments"; filename="big.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.7\n`,
        totalBytes: 100 * 1024 * 1024,
        declareLength: false,
      }),
    expect: { rest: { status: 413, code: 'message_too_large' } },
    check: (o) => expectEarly(o, 16 * 1024 * 1024),
  },

  // ---- Slow and broken clients (raw sockets; the HTTP layer answers for both doors)
  {
    name: 'slowloris: headers one byte at a time',
    door: 'both',
    send: (door, ctx) => {
      const head = `POST ${door === 'rest' ? REST_PATH : SOAP_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: `;
      const drip = Array.from({ length: 200 }, () => ['a', { pauseMs: 100 }]).flat() as Array<string | { pauseMs: number }>;
      return raw(ctx.port, [head, ...drip], { maxMs: ctx.headersTimeoutMs * 6 });
    },
    expect: onHttp(408, 'request_timeout'),
    check: (o, _door, ctx) => expectClosedWithin(o, ctx.headersTimeoutMs * 4),
  },
  {
    name: 'slow body: one byte at a time after complete headers',
    door: 'both',
    send: (door, ctx) => {
      const head = `POST ${door === 'rest' ? REST_PATH : SOAP_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${ctx.auth}\r\nContent-Type: ${door === 'rest' ? 'application/json' : 'text/xml'}\r\nContent-Length: 5000\r\n\r\n`;
      const drip = Array.from({ length: 200 }, () => [' ', { pauseMs: 100 }]).flat() as Array<string | { pauseMs: number }>;
      return raw(ctx.port, [head, ...drip], { maxMs: ctx.requestTimeoutMs * 4 });
    },
    expect: onHttp(408, 'request_timeout'),
    check: (o, _door, ctx) => expectClosedWithin(o, ctx.requestTimeoutMs * 3),
  },
  {
    name: 'stalled body: headers promise 5,000 bytes, none come',
    door: 'both',
    send: (door, ctx) =>
      raw(
        ctx.port,
        [`POST ${door === 'rest' ? REST_PATH : SOAP_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${ctx.auth}\r\nContent-Type: ${door === 'rest' ? 'application/json' : 'text/xml'}\r\nContent-Length: 5000\r\n\r\n{`],
        { maxMs: ctx.requestTimeoutMs * 4 },
      ),
    expect: onHttp(408, 'request_timeout'),
    check: (o, _door, ctx) => expectClosedWithin(o, ctx.requestTimeoutMs * 3),
  },
  {
    name: 'body cut short: the client closes its side halfway',
    door: 'both',
    send: (door, ctx) => {
      const body = door === 'rest' ? JSON.stringify(submission()) : soapEnvelope(soapSubmission(submission()), ctx.soap);
      const head = `POST ${door === 'rest' ? REST_PATH : SOAP_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${ctx.auth}\r\nContent-Type: ${door === 'rest' ? 'application/json' : 'text/xml'}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
      return raw(ctx.port, [head, body.slice(0, body.length / 2), { endWrites: true }], { maxMs: ctx.requestTimeoutMs * 4 });
    },
    // The parser meets the end of the stream inside the body: 400, and the request is dropped.
    expect: onHttp(400, 'invalid_request'),
  },
  {
    name: 'NUL byte in an HTTP header value',
    door: 'both',
    send: (door, ctx) =>
      raw(ctx.port, [`POST ${door === 'rest' ? REST_PATH : SOAP_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Reference: PAY\u0000-1\r\nContent-Length: 0\r\n\r\n`], { maxMs: 5000 }),
    expect: onHttp(400, 'invalid_request'),
  },
  {
    name: 'request smuggling: Content-Length and Transfer-Encoding together',
    door: 'both',
    send: (door, ctx) =>
      raw(
        ctx.port,
        [`POST ${door === 'rest' ? REST_PATH : SOAP_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n`],
        { maxMs: 5000 },
      ),
    expect: onHttp(400, 'invalid_request'),
  },
  {
    name: 'oversized headers (64 KB)',
    door: 'both',
    send: (door, ctx) =>
      raw(ctx.port, [`POST ${door === 'rest' ? REST_PATH : SOAP_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\nContent-Length: 0\r\n\r\n`], { maxMs: 5000 }),
    expect: onHttp(431, 'headers_too_large'),
  },

  // ---- multipart (REST door)
  {
    name: 'truncated multipart (no closing boundary)',
    door: 'rest',
    send: (_door, ctx) =>
      send(ctx.port, {
        path: REST_PATH,
        headers: { authorization: ctx.auth, 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
        body: `${multipartFields}--${BOUNDARY}\r\nContent-Disposition: form-data; name="attachments"; filename="a.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.7 cut here`,
      }),
    expect: { rest: { status: 400, code: 'malformed_multipart' } },
  },
  {
    name: 'multipart file name with a path (../../etc/passwd.pdf)',
    door: 'rest',
    send: (_door, ctx) =>
      send(ctx.port, {
        path: REST_PATH,
        headers: { authorization: ctx.auth, 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
        body: `${multipartFields}--${BOUNDARY}\r\nContent-Disposition: form-data; name="attachments"; filename="../../etc/passwd.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.7\r\n--${BOUNDARY}--\r\n`,
      }),
    expect: { rest: { status: 422, code: 'invalid_attachment_name' } },
  },

  // ---- CR, LF and NUL in every field that ends up in a mail header
  ...headerFields.flatMap(([field, make, code]) =>
    (
      [
        ['CRLF', '\r\n'],
        ['NUL', '\u0000'],
      ] as const
    ).map(([what, chars]): HostileCase => ({
      name: `${what} in ${field}`,
      door: field.includes('SOAP') ? 'soap' : 'both',
      send: (door, ctx) => submit(door, ctx, submission(make(chars))),
      // XML 1.0 cannot carry NUL at all, not even as &#0;: the envelope is not well-formed.
      expect: { rest: { status: 422, code }, soap: fault(what === 'NUL' ? 'malformed_xml' : code) },
    })),
  ),

  // ---- Unicode look-alikes and internationalised domains (docs/reliability.md: IDNA handling)
  submissionCase('confusable recipient domain (Cyrillic а in exаmple.org)', { to: ['anna@ex\u0430mple.org'] }, 422, 'invalid_address'),
  submissionCase('confusable sender domain (Cyrillic а in exаmple.com)', { from: 'payroll@ex\u0430mple.com' }, 422, 'invalid_address'),
  submissionCase('confusable local part (Cyrillic а in аnna)', { to: ['\u0430nna@example.org'] }, 422, 'invalid_address'),
  submissionCase('right-to-left override in a domain', { to: ['anna@exa\u202emple.org'] }, 422, 'invalid_address'),
  submissionCase('punycode of a mixed-script label (xn--exmple-4nf.org)', { to: ['anna@xn--exmple-4nf.org'] }, 422, 'invalid_address'),
  submissionCase('right-to-left override in an attachment name (invoice+U+202E+fdp.txt shows as invoicetxt.pdf)', withAttachments(attachment('invoice\u202Efdp.txt', pdf())), 422, 'invalid_attachment_name'),
  {
    name: 'IDN recipient (bücher.de): accepted, stored in punycode',
    door: 'both',
    send: (door, ctx) => submit(door, ctx, submission({ to: ['anna@bücher.de'] })),
    expect: accepted,
    stores: { messages: 1, recipients: 1, attachments: 1 },
    check: (o) => expectRecipientAddress(o, 'anna@xn--bcher-kva.de'),
  },
  {
    name: 'full-width domain (ｅｘａｍｐｌｅ．org): accepted, normalised to example.org',
    door: 'both',
    send: (door, ctx) => submit(door, ctx, submission({ to: ['anna@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45\uff0eorg'] })),
    expect: accepted,
    stores: { messages: 1, recipients: 1, attachments: 1 },
    check: (o) => expectRecipientAddress(o, 'anna@example.org'),
  },

  // ---- Recipients
  {
    name: '1,000 recipients',
    door: 'both',
    send: (door, ctx) => submit(door, ctx, submission({ to: Array.from({ length: 1000 }, (_, i) => `r${i}@example.org`) })),
    expect: onBoth(422, 'too_many_recipients'),
  },
  submissionCase('the same recipient twice, differently cased', { to: ['anna@example.org'], cc: ['ANNA@Example.ORG'] }, 422, 'duplicate_recipient'),

  // ---- Attachment names
  submissionCase('duplicate attachment names', withAttachments(attachment('payslip.pdf', pdf()), attachment('payslip.pdf', pdf())), 422, 'duplicate_attachment_name'),
  submissionCase('duplicate attachment names differing in case', withAttachments(attachment('Payslip.PDF', pdf()), attachment('payslip.pdf', pdf())), 422, 'duplicate_attachment_name'),
  submissionCase('path traversal (../../etc/passwd)', withAttachments(attachment('../../etc/passwd', pdf())), 422, 'invalid_attachment_name'),
  submissionCase('path traversal, Windows (..\\..\\Windows\\win.ini)', withAttachments(attachment('..\\..\\Windows\\win.ini', pdf())), 422, 'invalid_attachment_name'),
  submissionCase('absolute path (/etc/cron.d/job)', withAttachments(attachment('/etc/cron.d/job', pdf())), 422, 'invalid_attachment_name'),
  submissionCase('NTFS alternate data stream (invoice.pdf:evil.exe)', withAttachments(attachment('invoice.pdf:evil.exe', pdf())), 422, 'invalid_attachment_name'),
  submissionCase('Windows device name (CON.pdf)', withAttachments(attachment('CON.pdf', pdf())), 422, 'invalid_attachment_name'),

  // ---- Executables, renamed or packed
  submissionCase('Windows executable renamed payslip.pdf (MZ)', withAttachments(attachment('payslip.pdf', Buffer.concat([Buffer.from('MZ\x90\x00', 'latin1'), pdf()]))), 422, 'attachment_blocked'),
  submissionCase('ELF executable renamed report.txt', withAttachments(attachment('report.txt', Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]), pdf()]), 'text/plain')), 422, 'attachment_blocked'),
  submissionCase('Mach-O executable renamed photo.jpg', withAttachments(attachment('photo.jpg', Buffer.concat([Buffer.from([0xcf, 0xfa, 0xed, 0xfe]), pdf()]), 'image/jpeg')), 422, 'attachment_blocked'),
  submissionCase('shell script renamed notes.txt (#!)', withAttachments(attachment('notes.txt', Buffer.from('#!/bin/sh\ncurl http://127.0.0.1:9/x | sh\n'), 'text/plain')), 422, 'attachment_blocked'),
  submissionCase('.exe declared as application/pdf', withAttachments(attachment('payslip.pdf.exe', pdf())), 422, 'attachment_blocked'),
  submissionCase('zip with an .exe inside', withAttachments(attachment('docs.zip', zipOf([{ name: 'readme.txt', content: Buffer.from('hi') }, { name: 'setup.exe', content: pdf() }]), 'application/zip')), 422, 'attachment_blocked'),
  submissionCase('zip with a renamed executable inside (MZ as readme.txt, deflated)', withAttachments(attachment('docs.zip', zipOf([{ name: 'readme.txt', content: Buffer.concat([Buffer.from('MZ\x90\x00', 'latin1'), pdf()]) }]), 'application/zip')), 422, 'attachment_blocked'),
  submissionCase('zip with a script inside a folder (bin/run.sh, stored)', withAttachments(attachment('docs.zip', zipOf([{ name: 'bin/run.sh', content: Buffer.from('echo hi'), stored: true }]), 'application/zip')), 422, 'attachment_blocked'),
  submissionCase('zip inside a zip', withAttachments(attachment('docs.zip', zipOf([{ name: 'inner.zip', content: zipOf([{ name: 'setup.exe', content: pdf() }]) }]), 'application/zip')), 422, 'attachment_blocked'),
  submissionCase('zip renamed payslip.pdf, with an .exe inside', withAttachments(attachment('payslip.pdf', zipOf([{ name: 'payslip.exe', content: pdf() }]))), 422, 'attachment_blocked'),
  submissionCase('truncated zip (members cannot be listed)', withAttachments(attachment('docs.zip', zipOf([{ name: 'a.txt', content: pdf() }]).subarray(0, 200), 'application/zip')), 422, 'attachment_blocked'),
  {
    name: 'zip of documents only (control: accepted)',
    door: 'both',
    send: (door, ctx) =>
      submit(door, ctx, submission(withAttachments(attachment('payslips.zip', zipOf([{ name: 'word/document.xml', content: Buffer.from('<w/>') }, { name: 'payslip.pdf', content: pdf() }]), 'application/zip')))),
    expect: accepted,
    stores: { messages: 1, recipients: 1, attachments: 1 },
  },

  // ---- SQL-looking input: data, stored verbatim
  {
    name: 'SQL-ish strings in subject, reference, names and body: stored verbatim',
    door: 'both',
    send: (door, ctx) =>
      submit(door, ctx, submission({ subject: SQLISH, reference: "PAY-1' OR '1'='1", fromName: 'Robert"); DROP TABLE recipients;--', text: `${SQLISH} \\x00 $$ ;`, to: [{ address: 'anna@example.org', name: "O'Brien; DELETE FROM tenants" }] })),
    expect: accepted,
    stores: { messages: 1, recipients: 1, attachments: 1 },
    check: async (o, door, ctx) => {
      const id = door === 'rest' ? (JSON.parse(o.body) as { id: string }).id : /<(?:[\w-]+:)?id>([^<]+)<\/(?:[\w-]+:)?id>/.exec(o.body)?.[1];
      const view = await send(ctx.port, { method: 'GET', path: `/v1/messages/${id}`, headers: { authorization: ctx.auth } });
      const message = JSON.parse(view.body) as { reference: string; recipients: Array<{ address: string }> };
      if (message.reference !== "PAY-1' OR '1'='1") throw new Error(`reference not stored verbatim: ${message.reference}`);
    },
  },
  {
    name: 'SQL-ish message id',
    door: 'both',
    send: (door, ctx) =>
      door === 'rest'
        ? send(ctx.port, { method: 'GET', path: `/v1/messages/${encodeURIComponent("' OR '1'='1")}`, headers: { authorization: ctx.auth } })
        : postSoap(ctx, soapEnvelope(`<sp:GetMessageStatus>${el('messageId', "' OR '1'='1; --")}</sp:GetMessageStatus>`, ctx.soap)),
    expect: onBoth(404, 'not_found'),
  },
  {
    name: 'SQL-ish list filter',
    door: 'both',
    send: (door, ctx) =>
      door === 'rest'
        ? send(ctx.port, { method: 'GET', path: `/v1/messages?status=${encodeURIComponent("accepted' OR 1=1 --")}`, headers: { authorization: ctx.auth } })
        : postSoap(ctx, soapEnvelope(`<sp:ListMessages>${el('status', "accepted' OR 1=1 --")}</sp:ListMessages>`, ctx.soap)),
    expect: onBoth(422, 'invalid_field'),
  },

  // ---- Tenancy: another tenant's message is not there
  {
    name: "cross-tenant read of another tenant's message",
    door: 'both',
    send: (door, ctx) =>
      door === 'rest'
        ? send(ctx.port, { method: 'GET', path: `/v1/messages/${ctx.foreignMessageId}`, headers: { authorization: ctx.auth } })
        : postSoap(ctx, foreignXml(ctx, 'GetMessageStatus')),
    expect: onBoth(404, 'not_found'),
  },
  {
    name: "cross-tenant logbook of another tenant's message",
    door: 'both',
    send: (door, ctx) =>
      door === 'rest'
        ? send(ctx.port, { method: 'GET', path: `/v1/messages/${ctx.foreignMessageId}/events`, headers: { authorization: ctx.auth } })
        : postSoap(ctx, foreignXml(ctx, 'GetMessageEvents')),
    expect: onBoth(404, 'not_found'),
  },
  {
    name: "cross-tenant cancel of another tenant's message",
    door: 'both',
    send: (door, ctx) =>
      door === 'rest'
        ? send(ctx.port, { method: 'DELETE', path: `/v1/messages/${ctx.foreignMessageId}`, headers: { authorization: ctx.auth } })
        : postSoap(ctx, foreignXml(ctx, 'CancelMessage')),
    expect: onBoth(404, 'not_found'),
  },

  // ---- Credentials: guessing is throttled per client address
  {
    name: 'wrong credentials, brute force: 401 until AUTH_FAILURE_LIMIT, then 429 even for the right key',
    door: 'both',
    send: async (door, ctx) => {
      // Each door guesses from its own loopback address, so the rest of the corpus (from 127.0.0.1) is unaffected.
      const localAddress = door === 'rest' ? '127.0.0.2' : '127.0.0.3';
      const guess = (i: number, auth?: string) =>
        door === 'rest'
          ? send(ctx.port, { method: 'GET', path: REST_PATH, headers: { authorization: auth ?? `Bearer sp_0123456789abcdef.guess${i}${'x'.repeat(38)}` }, localAddress })
          : send(ctx.port, {
              path: SOAP_PATH,
              headers: xmlHeaders,
              body: soapEnvelope('<sp:ListMessages/>', auth === undefined ? { keyId: 'sp_0123456789abcdef', secret: `guess${i}` } : ctx.soap),
              localAddress,
            });
      for (let i = 0; i < ctx.authFailureLimit; i += 1) {
        const o = await guess(i);
        if (o.code !== 'unauthorized') throw new Error(`guess ${i} answered ${o.status} ${o.code}, expected unauthorized`);
      }
      return guess(-1, ctx.auth);
    },
    expect: { rest: { status: 429, code: 'rate_limited' }, soap: fault('rate_limited') },
    check: (o) => {
      if (!(Number(o.headers['retry-after']) > 0)) throw new Error(`no Retry-After on the 429: ${String(o.headers['retry-after'])}`);
    },
  },
];

/**
 * Recipient-portal token guessing (issue #9): the portal engineer adds its rows
 * here (wrong, expired and replayed tokens; 429 after the portal's limit). The
 * runner runs them like the rest; `door` is 'rest' for portal URLs.
 */
export const portalTokenCases: HostileCase[] = [
  {
    name: 'portal: a guessed link token (well-formed, never issued) is a plain 404 page that echoes nothing',
    door: 'rest',
    send: async (_door, ctx) => {
      const o = await send(ctx.port, { method: 'GET', path: `/r/${'AbC-_9'.repeat(7)}x`, headers: { 'accept-language': 'en' } });
      return { ...o, code: String(o.headers['content-type']).startsWith('text/html') ? 'html page' : o.code };
    },
    expect: { rest: { status: 404, code: 'html page' } },
    check: (o) => {
      if (o.body.includes('AbC-_9')) throw new Error('the 404 page echoes the guessed token');
      if (!String(o.headers['content-security-policy']).includes("default-src 'none'")) throw new Error('the 404 page has no strict CSP');
    },
  },
];

// ---------------------------------------------------------------- helpers used above

const SQLISH = "'; DROP TABLE messages; -- \" OR 1=1; /* */ UNION SELECT * FROM api_keys";
const BOUNDARY = 'sealpost-hostile';
const part = (name: string, value: string) => `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
const multipartFields = part('from', 'payroll@example.com') + part('to', 'anna@example.org') + part('subject', 'Payslip') + part('text', 'Hi');

function expectEarly(o: Outcome, maxBytes: number): void {
  if (o.bytesSent === undefined || o.bytesSent > maxBytes) {
    throw new Error(`refused only after ${o.bytesSent} bytes had been sent (expected at most ${maxBytes})`);
  }
}

function expectClosedWithin(o: Outcome & { closedByServer?: boolean }, ms: number): void {
  if (!o.closedByServer) throw new Error('the server did not close the connection');
  if ((o.elapsedMs ?? Infinity) > ms) throw new Error(`the connection was closed after ${o.elapsedMs} ms, expected within ${ms} ms`);
}

function expectRecipientAddress(o: Outcome, address: string): void {
  if (!o.body.includes(address)) throw new Error(`the answer does not show the recipient as ${address}: ${o.body.slice(0, 300)}`);
}
