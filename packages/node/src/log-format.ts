/**
 * One log line from an event name and its data: `event key=value …`, on a single line, with no
 * secret and no query string in it. Core's events carry only non-secret facts already; this is
 * the second line of defence, for any event and any data (an application's own events too):
 *
 * - a value under a key that names a secret (`access_token`, `refreshToken`, `client_secret`,
 *   `code_verifier`, `client_assertion`, `authorization`, `password`, `code`, …) is `[redacted]`,
 *   unless the key's last word says what the value is about (`token_endpoint`, `token_type`,
 *   `code_challenge_method`) or it is a boolean; a `code` that is one of core's error codes stays;
 * - a string that looks like a JWT or an `Authorization` value (`Bearer …`) is `[redacted]`;
 * - every URL in a string loses its query, fragment and user information;
 * - an `Error` shows as its name, `code` and message, sanitised the same way.
 */
import { OAUTH_CLIENT_ERROR_CODES } from '@mcp-oauth/core';

export const REDACTED = '[redacted]';

/** Words that make a key's value a secret. */
const SECRET_WORDS = new Set([
  ...['token', 'tokens', 'secret', 'secrets', 'code', 'codes', 'verifier', 'assertion', 'assertions'],
  ...['authorization', 'password', 'passwd', 'cookie', 'cookies', 'credential', 'credentials'],
  ...['jwt', 'proof', 'key', 'keys', 'signature', 'jwk', 'pkce', 'otp'],
]);
/** Last words that make a key about a secret, not the secret itself (`token_endpoint`). */
const DESCRIPTIVE_WORDS = new Set([
  ...['endpoint', 'url', 'uri', 'type', 'types', 'method', 'methods', 'hint', 'expiry', 'expires', 'at'],
  ...['in', 'count', 'length', 'status', 'supported', 'present', 'missing', 'reason', 'kind', 'source'],
  ...['name', 'path', 'issuer', 'alg', 'algs', 'algorithm', 'algorithms', 'id'],
]);
const ERROR_CODES: ReadonlySet<string> = new Set(OAUTH_CLIENT_ERROR_CODES);

const MAX_DEPTH = 4;
const MAX_ITEMS = 32;
const MAX_STRING = 512;
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi;
const JWT = /\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/;
const CREDENTIAL_SCHEME = /^\s*(bearer|dpop|basic|mac|negotiate)\s+\S/i;

function words(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((word) => word !== '');
}

/** Whether the value under `key` must not be shown. */
export function isSecretKey(key: string): boolean {
  const parts = words(key);
  const last = parts.at(-1);
  if (last === undefined || DESCRIPTIVE_WORDS.has(last)) return false;
  return parts.some((word) => SECRET_WORDS.has(word));
}

/** `text` with each URL's query, fragment and user information taken out. */
function withoutQueries(text: string): string {
  return text.replace(URL_IN_TEXT, (match) =>
    (match.split(/[?#]/, 1)[0] ?? '').replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/]*@/i, '$1'),
  );
}

function sanitizeString(text: string): string {
  if (JWT.test(text) || CREDENTIAL_SCHEME.test(text)) return REDACTED;
  const clean = withoutQueries(text);
  return clean.length > MAX_STRING ? `${clean.slice(0, MAX_STRING)}…` : clean;
}

function sanitizeUnderKey(key: string, value: unknown, depth: number, seen: Set<object>): unknown {
  if (isSecretKey(key) && typeof value !== 'boolean' && value !== undefined && value !== null) {
    const isErrorCode = words(key).at(-1) === 'code' && typeof value === 'string' && ERROR_CODES.has(value);
    if (!isErrorCode) return REDACTED;
  }
  return sanitize(value, depth, seen);
}

/** A copy of `value` fit for a log: secrets redacted, URLs without queries, bounded in size. */
export function sanitize(value: unknown, depth = 0, seen = new Set<object>()): unknown {
  switch (typeof value) {
    case 'string':
      return sanitizeString(value);
    case 'number':
    case 'boolean':
    case 'undefined':
      return value;
    case 'bigint':
      return value.toString();
    case 'symbol':
      return sanitizeString(value.toString());
    case 'function':
      return '[function]';
  }
  if (value === null) return null;
  const object = value as object;
  if (seen.has(object)) return '[circular]';
  if (depth >= MAX_DEPTH) return '[…]';
  seen.add(object);
  try {
    if (value instanceof Error) {
      const code = (value as { code?: unknown }).code;
      return {
        name: sanitizeString(value.name),
        ...(typeof code === 'string' ? { code: sanitizeString(code) } : {}),
        message: sanitizeString(value.message),
      };
    }
    if (value instanceof URL) return sanitizeString(value.href);
    if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
    if (Array.isArray(value)) {
      const items = value.slice(0, MAX_ITEMS).map((item) => sanitize(item, depth + 1, seen));
      return value.length > MAX_ITEMS ? [...items, `… ${value.length - MAX_ITEMS} more`] : items;
    }
    const entries = Object.entries(object).slice(0, MAX_ITEMS);
    return Object.fromEntries(
      entries.map(([key, item]) => [key, sanitizeUnderKey(key, item, depth + 1, seen)]),
    );
  } finally {
    seen.delete(object);
  }
}

/** A bare word when it reads unambiguously, else a JSON string (quotes, escapes, no line break). */
function renderValue(value: unknown): string {
  if (value === REDACTED) return value;
  if (typeof value === 'string') return /^[^\s"'=\\[\]{}]+$/.test(value) ? value : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return JSON.stringify(value) ?? String(value);
}

/** `event key=value …` for `data`, sanitised; keys holding `undefined` are left out. */
export function formatLogEvent(event: string, data?: unknown): string {
  const name = /^[\w.:-]{1,128}$/.test(event) ? event : JSON.stringify(sanitizeString(String(event)));
  if (data === undefined || data === null) return name;
  if (typeof data !== 'object' || Array.isArray(data) || data instanceof Error) {
    return `${name} data=${renderValue(sanitize(data))}`;
  }
  const fields = sanitize(data) as Record<string, unknown>;
  const parts = Object.entries(fields)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => {
      const safeKey = /^[\w.-]{1,64}$/.test(key) ? key : JSON.stringify(key.slice(0, 64));
      return `${safeKey}=${renderValue(value)}`;
    });
  return [name, ...parts].join(' ');
}
