/**
 * The authorization response (OAuth 2.1 §4.1.2): parse what arrived at the redirect URI, then
 * validate it against the pending authorization — `state`, RFC 9207 `iss` as the MCP 2026-07-28
 * table requires, an error response, and finally the code.
 */
import {
  invalidField,
  knownErrorSuffix,
  OAuthClientError,
  oauthError,
  serverDescription,
  withServerWords,
} from './errors.js';
import { isNonEmptyString } from './fields.js';
import type { PendingAuthorization } from './types.js';
import { tryParseUrl } from './url.js';

export interface CallbackParameters {
  readonly code?: string;
  readonly state?: string;
  readonly iss?: string;
  readonly error?: string;
  readonly errorDescription?: string;
  readonly errorUri?: string;
}

type CallbackInput = string | URL | URLSearchParams | Readonly<Record<string, string | undefined>>;

/** Wire name → field name. Only these are read; other parameters are ignored. */
const FIELDS = [
  ['code', 'code'],
  ['state', 'state'],
  ['iss', 'iss'],
  ['error', 'error'],
  ['error_description', 'errorDescription'],
  ['error_uri', 'errorUri'],
] as const;

type Field = (typeof FIELDS)[number][1];

const RESPONSE = 'authorization response';

const invalidResponse = (message: string) => oauthError('authorization_failed', `${RESPONSE} ${message}`);

/**
 * Reads `code`, `state`, `iss`, `error`, `error_description` and `error_uri` from the redirect:
 * a full URL, a query string (`?code=…` or `code=…`), `URLSearchParams` or a plain object of
 * already-decoded values. A parameter given more than once makes the response invalid (RFC 6749
 * §3.1). Throws only `OAuthClientError` (`authorization_failed`).
 */
export function parseCallback(input: CallbackInput): CallbackParameters {
  let read: (wire: string) => unknown;
  if (input instanceof URL || input instanceof URLSearchParams || typeof input === 'string') {
    let parameters: URLSearchParams;
    if (typeof input !== 'string') {
      parameters = input instanceof URL ? input.searchParams : input;
    } else if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(input)) {
      // A full redirect URL, or a bare query string with or without its `?`. Fragments are
      // ignored: the code flow returns its response in the query.
      const url = tryParseUrl(input);
      if (url === undefined) throw invalidResponse('URL is not a valid URL');
      parameters = url.searchParams;
    } else {
      parameters = new URLSearchParams(input.split('#')[0]!.replace(/^\?/, ''));
    }
    read = (wire) => {
      const values = parameters.getAll(wire);
      return values.length > 1 ? values : values[0];
    };
  } else if (typeof input === 'object' && input !== null) {
    read = (wire) => (Object.hasOwn(input, wire) ? (input as Record<string, unknown>)[wire] : undefined);
  } else {
    throw invalidResponse('must be a URL, a query string or an object');
  }
  const result: { -readonly [K in Field]?: string } = {};
  try {
    for (const [wire, field] of FIELDS) {
      const value = read(wire);
      if (value === undefined) continue;
      // Frameworks turn a repeated query parameter into an array (Express `req.query`, for example).
      if (Array.isArray(value)) throw invalidResponse(`repeats the "${wire}" parameter`);
      if (typeof value !== 'string')
        throw invalidField('authorization_failed', RESPONSE, wire, 'must be a string');
      result[field] = value;
    }
  } catch (error) {
    if (error instanceof OAuthClientError) throw error;
    throw invalidResponse('could not be read');
  }
  return result;
}

/** Compares without returning early on the first differing character. */
function equalStrings(actual: string, expected: string): boolean {
  let difference = actual.length ^ expected.length;
  for (let index = 0; index < expected.length; index++) {
    difference |= (actual.charCodeAt(index) || 0) ^ expected.charCodeAt(index);
  }
  return difference === 0;
}

/**
 * Validates an authorization response and returns the code to exchange. `pending` is the record
 * taken (atomically, so it cannot be used twice) from the store under the response's `state`;
 * `now` is milliseconds since the epoch. In order:
 *
 * 1. no pending record, a missing or different `state`, or an expired record → `state_mismatch`;
 * 2. RFC 9207 per MCP 2026-07-28: `iss` absent while the server advertised it, or present and not
 *    exactly the recorded issuer → `issuer_mismatch` (error responses included; their text is
 *    then neither acted on nor shown);
 * 3. `error` → `authorization_denied` for `access_denied`, otherwise `authorization_failed`;
 * 4. no `code` → `authorization_failed`.
 *
 * Messages never contain the state or the code; the server's `error_description` appears only
 * after the `iss` check, sanitized (no URL, no long token-like run, at most 200 characters) and
 * marked as the server's words.
 */
export function validateCallback(
  parameters: CallbackParameters,
  pending: PendingAuthorization | undefined,
  now: number,
): { readonly code: string } {
  const { state, iss, error, code } = parameters;
  const mismatch = (code: 'state_mismatch' | 'issuer_mismatch', message: string) =>
    oauthError(code, `${RESPONSE} ${message}`);
  if (typeof state !== 'string' || state === '') throw mismatch('state_mismatch', 'is missing "state"');
  if (pending === undefined || !equalStrings(state, pending.state)) {
    throw mismatch('state_mismatch', '"state" does not match a pending authorization');
  }
  if (!(now <= pending.expiresAt)) {
    throw mismatch('state_mismatch', 'arrived after the pending authorization expired');
  }

  if (iss === undefined) {
    if (pending.issParameterSupported) {
      throw mismatch('issuer_mismatch', 'is missing "iss" although the authorization server advertises it');
    }
  } else if (iss !== pending.issuer) {
    // Simple string comparison (RFC 3986 §6.2.1): no case folding, port or slash normalisation.
    throw mismatch('issuer_mismatch', '"iss" does not match the expected issuer');
  }

  if (error !== undefined) {
    // The `iss` check above has passed: the description is the expected server's, sanitized.
    const description = serverDescription(parameters.errorDescription);
    throw oauthError(
      error === 'access_denied' ? 'authorization_denied' : 'authorization_failed',
      withServerWords(
        `authorization server ${error === 'access_denied' ? 'denied the request' : 'returned error'}${knownErrorSuffix(error)}`,
        description,
      ),
      { oauthError: error },
    );
  }

  if (!isNonEmptyString(code)) throw invalidResponse('is missing "code"');
  return { code };
}
