/**
 * Every failure the engine reports is an {@link OAuthClientError} with a stable `code`.
 *
 * Messages are fixed text that names the field or step. They never contain a token, an
 * authorization code, a PKCE verifier, a client secret, an Authorization header, a response
 * body, or a URL with a query string. `cause` is only ever another `OAuthClientError`.
 */
export const OAUTH_CLIENT_ERROR_CODES = [
  'invalid_options',
  'unsafe_url',
  'network_error',
  'timeout',
  'aborted',
  'response_too_large',
  'redirect_not_allowed',
  'http_error',
  'discovery_failed',
  'metadata_invalid',
  'resource_mismatch',
  'issuer_mismatch',
  'pkce_unsupported',
  'client_configuration_required',
  'registration_failed',
  'state_mismatch',
  'authorization_denied',
  'authorization_required',
  'authorization_failed',
  'device_flow_unsupported',
  'device_authorization_failed',
  'device_code_expired',
  'token_request_failed',
  'token_response_invalid',
  'refresh_failed',
  'insufficient_scope',
  'invalid_key',
  'dpop_failed',
  'revocation_failed',
  'store_failed',
  'request_not_replayable',
] as const;

export type OAuthClientErrorCode = (typeof OAUTH_CLIENT_ERROR_CODES)[number];

const BRAND = Symbol.for('@mcp-oauth/core/OAuthClientError');

/** Only RFC 6749 `error` values made of the allowed characters survive; anything else is dropped. */
const OAUTH_ERROR_VALUE = /^[\x20\x21\x23-\x5B\x5D-\x7E]{1,64}$/;

export interface OAuthClientErrorOptions {
  /** The server's OAuth `error` value (RFC 6749 §5.2), when one was given. */
  oauthError?: string | undefined;
  /** HTTP status of the response that caused the error. */
  status?: number | undefined;
  /** Another engine error (for a transport failure, its sanitized summary) that led to this one. */
  cause?: OAuthClientError | undefined;
  /** For `insufficient_scope`: what the server required and what the authorization server granted. */
  scopes?: { readonly required: readonly string[]; readonly granted: readonly string[] } | undefined;
}

/** RFC 6749 §5.2 `error_description` characters; anything else makes the description unusable. */
const DESCRIPTION = /^[\x20\x21\x23-\x5B\x5D-\x7E]+$/;
const MAX_DESCRIPTION = 200;

/**
 * A server's `error_description` fit for a message: RFC 6749 characters only, no URL (which could
 * carry a query), at most 200 characters. `undefined` when nothing usable is left.
 */
export function serverDescription(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const text = value
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/[a-z][a-z0-9+.-]*:\/\/\S+/gi, '[url]')
    // A long run of token characters may be a credential the server echoed back: never repeat it.
    .replace(/[A-Za-z0-9._~+/=-]{24,}/g, '[redacted]');
  if (text === '' || !DESCRIPTION.test(text)) return undefined;
  return text.length > MAX_DESCRIPTION ? `${text.slice(0, MAX_DESCRIPTION - 1)}…` : text;
}

/** `message`, then the server's description marked as its words. */
export function withServerWords(message: string, description: string | undefined): string {
  return description === undefined ? message : `${message} (the server said: "${description}")`;
}

/**
 * Registered OAuth `error` values that are safe to name in a message: RFC 6749 §4.1.2.1 and §5.2,
 * RFC 8628 §3.5, RFC 8693 §2.2.2, RFC 8707, RFC 9449 §8 and OpenID Connect Core §3.1.2.6.
 */
const KNOWN_OAUTH_ERRORS = new Set(
  `invalid_request invalid_client invalid_grant unauthorized_client unsupported_grant_type invalid_scope
invalid_target invalid_dpop_proof use_dpop_nonce unsupported_token_type access_denied authorization_pending
slow_down expired_token server_error temporarily_unavailable unsupported_response_type interaction_required
login_required account_selection_required consent_required invalid_request_uri invalid_request_object
request_not_supported request_uri_not_supported registration_not_supported`.split(/\s/),
);

/** ` (error)` for a registered OAuth `error` value, else nothing: other values are server-controlled text. */
export function knownErrorSuffix(error: string | undefined): string {
  return KNOWN_OAUTH_ERRORS.has(error!) ? ` (${error})` : '';
}

const SAFE_NAME = /^[A-Za-z][A-Za-z0-9_]{0,39}$/;
const SAFE_CODE = /^[A-Z][A-Z0-9_]{1,39}$/;

/**
 * What a transport failure was, without its message (which may hold a URL with a query): an
 * engine error whose message is the failure's `name` and system `code` (`ECONNREFUSED`,
 * `UND_ERR_SOCKET`, …), read from it or its causes. It becomes the `cause` of `network_error`.
 */
export function networkFailure(error: unknown): OAuthClientError {
  let kind: string | undefined;
  let code: string | undefined;
  let current = error;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
    const { name, code: candidate } = current as { name?: unknown; code?: unknown };
    if (kind === undefined && typeof name === 'string' && SAFE_NAME.test(name)) kind = name;
    if (code === undefined && typeof candidate === 'string' && SAFE_CODE.test(candidate)) code = candidate;
    current = (current as { cause?: unknown }).cause;
  }
  return new OAuthClientError(
    'network_error',
    code === undefined ? (kind ?? 'Error') : `${kind ?? 'Error'} ${code}`,
  );
}

export class OAuthClientError extends Error {
  override readonly name = 'OAuthClientError';
  readonly code: OAuthClientErrorCode;
  readonly oauthError: string | undefined;
  readonly status: number | undefined;
  /** For `insufficient_scope`: the scopes the server required and those the authorization server granted. */
  readonly scopes: { readonly required: readonly string[]; readonly granted: readonly string[] } | undefined;
  declare readonly cause: OAuthClientError | undefined;

  constructor(code: OAuthClientErrorCode, message: string, options: OAuthClientErrorOptions = {}) {
    super(message);
    this.code = code;
    this.oauthError =
      options.oauthError !== undefined && OAUTH_ERROR_VALUE.test(options.oauthError)
        ? options.oauthError
        : undefined;
    this.status = options.status;
    this.scopes = options.scopes;
    Object.defineProperty(this, 'cause', { value: options.cause, enumerable: false, writable: false });
    Object.defineProperty(this, BRAND, { value: true, enumerable: false });
  }
}

/**
 * Thrown when the user has to take part (authorization mode `throw`, or a headless session).
 * `authorizationUrl` is where to send the user; it is kept off the enumerable properties so that
 * serialising the error does not carry it into logs.
 */
export class AuthorizationRequiredError extends OAuthClientError {
  declare readonly authorizationUrl: string | undefined;
  declare readonly state: string | undefined;

  constructor(
    message: string,
    options: {
      authorizationUrl?: string | undefined;
      state?: string | undefined;
      cause?: OAuthClientError | undefined;
    } = {},
  ) {
    super('authorization_required', message, { cause: options.cause });
    Object.defineProperty(this, 'authorizationUrl', { value: options.authorizationUrl, enumerable: false });
    Object.defineProperty(this, 'state', { value: options.state, enumerable: false });
  }
}

/** True for an `OAuthClientError` from any copy of this package (works across bundles and realms). */
export function isOAuthClientError(value: unknown, code?: OAuthClientErrorCode): value is OAuthClientError {
  if (typeof value !== 'object' || value === null) return false;
  if ((value as Record<symbol, unknown>)[BRAND] !== true) return false;
  return code === undefined || (value as OAuthClientError).code === code;
}

export function oauthError(
  code: OAuthClientErrorCode,
  message: string,
  options?: OAuthClientErrorOptions,
): OAuthClientError {
  return new OAuthClientError(code, message, options);
}

/**
 * The one shape of a message about a field: `${subject} "${field}" ${rule}`, e.g.
 * `token response "expires_in" must be a non-negative number`. `subject` may be empty (an option).
 */
export function invalidField(
  code: OAuthClientErrorCode,
  subject: string,
  field: string,
  rule: string,
  options?: OAuthClientErrorOptions,
): OAuthClientError {
  return new OAuthClientError(code, `${subject && `${subject} `}"${field}" ${rule}`, options);
}

/** `invalid_options` about one option: `"${option}" ${rule}`. */
export function invalidOption(option: string, rule: string): OAuthClientError {
  return invalidField('invalid_options', '', option, rule);
}
