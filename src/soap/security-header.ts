import type { DigestCredentials } from '../core/authenticate.ts';
import { AppError } from '../core/errors.ts';

/** A secret as sent (PasswordText, Basic), or a WS-Security PasswordDigest. */
export type Credentials = { keyId: string; secret: string } | DigestCredentials;

const PASSWORD_TEXT = '#PasswordText';
const PASSWORD_DIGEST = '#PasswordDigest';

/**
 * The API key a SOAP request presents: a WS-Security UsernameToken (username =
 * key id, password = secret) in the parsed SOAP header, else HTTP Basic with the
 * same pair. Undefined when the request carries neither; a malformed or
 * unsupported presentation is `unauthorized` with the reason.
 *
 * PasswordDigest is checked by the core against keys created for it
 * (`sealpost key create --password-digest`), with a freshness window and a nonce
 * store against replays.
 */
export function readCredentials(soapHeaders: unknown, authorization: string | undefined): Credentials | undefined {
  const security = field(soapHeaders, 'Security');
  if (security !== undefined) return fromUsernameToken(security);
  if (authorization !== undefined) return fromBasic(authorization);
  return undefined;
}

function fromUsernameToken(security: unknown): Credentials {
  const token = field(security, 'UsernameToken');
  if (token === undefined) throw unauthorized('the WS-Security header carries no UsernameToken');
  const username = text(field(token, 'Username'));
  const password = field(token, 'Password');
  const type = field(field(password, 'attributes'), 'Type');
  if (typeof type === 'string' && type.endsWith(PASSWORD_DIGEST)) {
    const digest = text(password);
    const nonce = text(field(token, 'Nonce'));
    const created = text(field(token, 'Created'));
    if (!username || !digest || !nonce || !created) {
      throw unauthorized('a PasswordDigest UsernameToken needs Username, Password, Nonce and Created');
    }
    if (username.length > 64) throw unauthorized('the API key is unknown, revoked or wrong');
    return { keyId: username, digest, nonce, created };
  }
  if (type !== undefined && !(typeof type === 'string' && type.endsWith(PASSWORD_TEXT))) {
    throw unauthorized('the UsernameToken password Type must be PasswordText');
  }
  const secret = text(password);
  if (!username || !secret) throw unauthorized('the UsernameToken needs a Username (key id) and a Password (secret)');
  return checked(username, secret);
}

function fromBasic(authorization: string): Credentials {
  const match = /^Basic\s+([A-Za-z0-9+/]+={0,2})\s*$/i.exec(authorization);
  if (!match) throw unauthorized('the Authorization header must be "Basic <base64 of key id:secret>"');
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) throw unauthorized('HTTP Basic credentials must be "<key id>:<secret>"');
  return checked(decoded.slice(0, colon), decoded.slice(colon + 1));
}

function checked(keyId: string, secret: string): Credentials {
  if (keyId.length > 64 || secret.length === 0 || secret.length > 256) throw unauthorized('the API key is unknown, revoked or wrong');
  return { keyId, secret };
}

/** node-soap gives an element as a string, or as `{ attributes, $value }` when it has attributes. */
function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim();
  const inner = field(value, '$value');
  return typeof inner === 'string' ? inner.trim() : undefined;
}

function field(value: unknown, name: string): unknown {
  return value !== null && typeof value === 'object' && Object.hasOwn(value, name) ? (value as Record<string, unknown>)[name] : undefined;
}

const unauthorized = (message: string) => new AppError('unauthorized', message);
