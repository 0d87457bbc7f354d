import type { FastifyInstance, LightMyRequestResponse } from 'fastify';

export const SOAP11 = 'http://schemas.xmlsoap.org/soap/envelope/';
export const SOAP12 = 'http://www.w3.org/2003/05/soap-envelope';
export const SP = 'urn:sealpost:v1';
const WSSE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';
const TOKEN_PROFILE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0';

export interface SoapCredentials {
  keyId: string;
  secret: string;
}

/** Key id and secret of an API token `<key id>.<secret>`. */
export function credentialsOf(token: string): SoapCredentials {
  const dot = token.indexOf('.');
  return { keyId: token.slice(0, dot), secret: token.slice(dot + 1) };
}

/** A SOAP 1.1 envelope around `body` (request element and all), with a UsernameToken when credentials are given. */
export function envelope(body: string, credentials?: SoapCredentials, passwordType = 'PasswordText'): string {
  const header = credentials
    ? `<soapenv:Header><wsse:Security xmlns:wsse="${WSSE}" soapenv:mustUnderstand="1"><wsse:UsernameToken>` +
      `<wsse:Username>${credentials.keyId}</wsse:Username>` +
      `<wsse:Password Type="${TOKEN_PROFILE}#${passwordType}">${credentials.secret}</wsse:Password>` +
      `</wsse:UsernameToken></wsse:Security></soapenv:Header>`
    : '';
  return `<?xml version="1.0" encoding="utf-8"?>\n<soapenv:Envelope xmlns:soapenv="${SOAP11}" xmlns:sp="${SP}">${header}<soapenv:Body>${body}</soapenv:Body></soapenv:Envelope>`;
}

/** `<sp:name>…</sp:name>` for each entry; arrays repeat the element, objects nest. Text is escaped. */
export function elements(fields: Record<string, unknown>): string {
  return Object.entries(fields)
    .flatMap(([name, value]) => (Array.isArray(value) ? value.map((v) => [name, v] as const) : [[name, value] as const]))
    .map(([name, value]) =>
      value !== null && typeof value === 'object' ? `<sp:${name}>${elements(value as Record<string, unknown>)}</sp:${name}>` : `<sp:${name}>${escape(String(value))}</sp:${name}>`,
    )
    .join('');
}

export const operation = (name: string, fields: Record<string, unknown> = {}) => `<sp:${name}>${elements(fields)}</sp:${name}>`;

export function soapPost(app: FastifyInstance, xml: string | Buffer, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url: '/soap/v1', headers: { 'content-type': 'text/xml; charset=utf-8', ...headers }, payload: xml });
}

/** The text of the first element with this local name (any prefix), or undefined. */
export function textOf(xml: string, localName: string): string | undefined {
  const match = new RegExp(`<(?:[\\w.-]+:)?${localName}(?:\\s[^>]*)?>([^<]*)</(?:[\\w.-]+:)?${localName}>`).exec(xml);
  return match ? unescape(match[1]!) : undefined;
}

export function allTextOf(xml: string, localName: string): string[] {
  const re = new RegExp(`<(?:[\\w.-]+:)?${localName}(?:\\s[^>]*)?>([^<]*)</(?:[\\w.-]+:)?${localName}>`, 'g');
  return [...xml.matchAll(re)].map((m) => unescape(m[1]!));
}

export interface ParsedFault {
  faultcode: string | undefined;
  code: string | undefined;
  message: string | undefined;
  details: Record<string, string>;
}

export function faultOf(res: LightMyRequestResponse): ParsedFault {
  const xml = res.body;
  const details: Record<string, string> = {};
  for (const m of xml.matchAll(/<sp:entry key="([^"]*)">([^<]*)<\/sp:entry>/g)) details[unescape(m[1]!)] = unescape(m[2]!);
  return { faultcode: textOf(xml, 'faultcode'), code: textOf(xml, 'code'), message: textOf(xml, 'message'), details };
}

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const unescape = (s: string) =>
  s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&#xA;/g, '\n').replace(/&amp;/g, '&');
