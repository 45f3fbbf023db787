/**
 * The authorization response (OAuth 2.1 §4.1.2): parse what arrived at the redirect URI, then
 * validate it against the pending authorization — `state`, RFC 9207 `iss` as the MCP 2026-07-28
 * table requires, an error response, and finally the code.
 */
import { OAuthClientError, oauthError, serverDescription, withServerWords } from './errors.js';
import type { PendingAuthorization } from './types.js';

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

const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;

function invalidResponse(message: string): OAuthClientError {
  return oauthError('authorization_failed', message);
}

function duplicate(name: string): OAuthClientError {
  return invalidResponse(`authorization response repeats the "${name}" parameter`);
}

function searchParamsOf(input: string | URL | URLSearchParams): URLSearchParams {
  if (input instanceof URLSearchParams) return input;
  if (input instanceof URL) return input.searchParams;
  // A full redirect URL, or a bare query string with or without its `?`. Fragments are ignored:
  // the code flow returns its response in the query.
  if (SCHEME.test(input)) {
    try {
      return new URL(input).searchParams;
    } catch {
      throw invalidResponse('authorization response URL is not a valid URL');
    }
  }
  const hash = input.indexOf('#');
  const query = hash === -1 ? input : input.slice(0, hash);
  return new URLSearchParams(query.startsWith('?') ? query.slice(1) : query);
}

function fromSearchParams(parameters: URLSearchParams): CallbackParameters {
  const result: { -readonly [K in Field]?: string } = {};
  for (const [wire, field] of FIELDS) {
    const values = parameters.getAll(wire);
    if (values.length > 1) throw duplicate(wire);
    const value = values[0];
    if (value !== undefined) result[field] = value;
  }
  return result;
}

function fromRecord(record: Readonly<Record<string, unknown>>): CallbackParameters {
  const result: { -readonly [K in Field]?: string } = {};
  for (const [wire, field] of FIELDS) {
    if (!Object.hasOwn(record, wire)) continue;
    const value = record[wire];
    if (value === undefined) continue;
    // Frameworks turn a repeated query parameter into an array (Express `req.query`, for example).
    if (Array.isArray(value)) throw duplicate(wire);
    if (typeof value !== 'string') {
      throw invalidResponse(`authorization response "${wire}" must be a string`);
    }
    result[field] = value;
  }
  return result;
}

/**
 * Reads `code`, `state`, `iss`, `error`, `error_description` and `error_uri` from the redirect:
 * a full URL, a query string (`?code=…` or `code=…`), `URLSearchParams` or a plain object of
 * already-decoded values. A parameter given more than once makes the response invalid (RFC 6749
 * §3.1). Throws only `OAuthClientError` (`authorization_failed`).
 */
export function parseCallback(input: CallbackInput): CallbackParameters {
  try {
    if (typeof input === 'string' || input instanceof URL || input instanceof URLSearchParams) {
      return fromSearchParams(searchParamsOf(input));
    }
    if (typeof input === 'object' && input !== null) return fromRecord(input);
  } catch (error) {
    if (error instanceof OAuthClientError) throw error;
    throw invalidResponse('authorization response could not be read');
  }
  throw invalidResponse('authorization response must be a URL, a query string or an object');
}

/** Compares without returning early on the first differing character. */
function equalStrings(actual: string, expected: string): boolean {
  let difference = actual.length ^ expected.length;
  for (let index = 0; index < expected.length; index++) {
    difference |= (actual.charCodeAt(index) || 0) ^ expected.charCodeAt(index);
  }
  return difference === 0;
}

/** RFC 6749 §4.1.2.1, RFC 8707 and OpenID Connect error codes that are safe to name in a message. */
const KNOWN_ERRORS: ReadonlySet<string> = new Set([
  'invalid_request',
  'unauthorized_client',
  'access_denied',
  'unsupported_response_type',
  'invalid_scope',
  'server_error',
  'temporarily_unavailable',
  'invalid_target',
  'interaction_required',
  'login_required',
  'account_selection_required',
  'consent_required',
  'invalid_request_uri',
  'invalid_request_object',
  'request_not_supported',
  'request_uri_not_supported',
  'registration_not_supported',
]);

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
  if (pending === undefined) {
    throw oauthError(
      'state_mismatch',
      'authorization response "state" does not match a pending authorization',
    );
  }
  if (typeof parameters.state !== 'string' || parameters.state.length === 0) {
    throw oauthError('state_mismatch', 'authorization response is missing "state"');
  }
  if (!equalStrings(parameters.state, pending.state)) {
    throw oauthError(
      'state_mismatch',
      'authorization response "state" does not match a pending authorization',
    );
  }
  if (!(now <= pending.expiresAt)) {
    throw oauthError(
      'state_mismatch',
      'authorization response arrived after the pending authorization expired',
    );
  }

  if (parameters.iss === undefined) {
    if (pending.issParameterSupported) {
      throw oauthError(
        'issuer_mismatch',
        'authorization response is missing "iss" although the authorization server advertises it',
      );
    }
  } else if (parameters.iss !== pending.issuer) {
    // Simple string comparison (RFC 3986 §6.2.1): no case folding, port or slash normalisation.
    throw oauthError('issuer_mismatch', 'authorization response "iss" does not match the expected issuer');
  }

  if (parameters.error !== undefined) {
    const error = parameters.error;
    const named = KNOWN_ERRORS.has(error) ? ` "${error}"` : '';
    // The `iss` check above has passed: the description is the expected server's, sanitized.
    const description = serverDescription(parameters.errorDescription);
    if (error === 'access_denied') {
      throw oauthError(
        'authorization_denied',
        withServerWords('authorization server denied the request ("access_denied")', description),
        { oauthError: error },
      );
    }
    throw oauthError(
      'authorization_failed',
      withServerWords(`authorization server returned error${named}`, description),
      {
        oauthError: error,
      },
    );
  }

  if (typeof parameters.code !== 'string' || parameters.code.length === 0) {
    throw oauthError('authorization_failed', 'authorization response is missing "code"');
  }
  return { code: parameters.code };
}
