/**
 * Validation of token endpoint responses (RFC 6749 §5.1 / §5.2, RFC 8693 §2.2, RFC 9449 §5 and §8),
 * and the engine error for any failed OAuth error response. Pure: no IO.
 */
import { invalidField, knownErrorSuffix, type OAuthClientError, oauthError } from './errors.js';
import { fieldReader, isNonEmptyString, readErrorBody, withoutUndefined } from './fields.js';
import { type OAuthHttpResponse, parseJsonObject } from './http.js';
import { parseScope } from './scopes.js';
import type { TokenGrant } from './token.js';
import type { TokenSet } from './types.js';

/** `expires_in` values above this (ten years, in seconds) are capped to it. */
export const MAXIMUM_EXPIRES_IN_SECONDS = 10 * 365 * 24 * 60 * 60;

/** The `error` of an RFC 6749 §5.2 error body, or `undefined` when the body is not one. Never throws. */
export function readOAuthErrorCode(response: OAuthHttpResponse): string | undefined {
  return readErrorBody(response).error;
}

/**
 * An engine error for a failed response. The message names the status and, when it is one of the
 * registered values, the OAuth error code; `error_description`, `error_uri` and the body are never
 * carried (they are server-controlled text).
 */
export function oauthErrorResponse(
  code: 'token_request_failed' | 'revocation_failed' | 'device_authorization_failed',
  what: string,
  response: OAuthHttpResponse,
): OAuthClientError {
  const { status } = response;
  const serverError = readOAuthErrorCode(response);
  return oauthError(code, `${what} failed with HTTP status ${status}${knownErrorSuffix(serverError)}`, {
    status,
    oauthError: serverError,
  });
}

/** The 2xx body of a token endpoint response, and a reader of its fields (`token response "…" …`). */
function readSuccessBody(response: OAuthHttpResponse, what: string) {
  const { status } = response;
  if (status < 200 || status > 299) throw oauthErrorResponse('token_request_failed', what, response);
  const body = parseJsonObject(response, 'token response', 'token_response_invalid');
  const fail = (field: string, rule: string) =>
    invalidField('token_response_invalid', 'token response', field, rule, { status });
  const fields = fieldReader(body, fail);
  return {
    ...fields,
    fail,
    /**
     * `expires_in` in seconds as an expiry time: a finite number ≥ 0, or a string of decimal
     * digits (some servers send one); values above {@link MAXIMUM_EXPIRES_IN_SECONDS} are capped.
     */
    expiresAt(now: number): number | undefined {
      const raw = fields.get('expires_in');
      const seconds = fields.number(
        'expires_in',
        typeof raw === 'string' && /^\d{1,15}$/.test(raw) ? Number(raw) : raw,
      );
      return seconds === undefined
        ? undefined
        : now + Math.round(Math.min(seconds, MAXIMUM_EXPIRES_IN_SECONDS) * 1000);
    },
    scope(): string[] | undefined {
      const value = fields.get('scope');
      if (value === undefined) return undefined;
      if (typeof value !== 'string') throw fail('scope', 'must be a string');
      // GitHub separates granted scopes with commas; RFC 6749 §3.3 with spaces.
      return parseScope(value.includes(' ') ? value : value.replaceAll(',', ' '));
    },
  };
}

export interface TokenResponseExpectations {
  /** Milliseconds since the epoch when the request was sent. */
  readonly now: number;
  readonly requestedScopes: readonly string[];
  /** Whether the request carried a DPoP proof. */
  readonly dpop: boolean;
  /**
   * The tokens being refreshed. For a refresh, an omitted `refresh_token` keeps the old one and an
   * omitted `scope` keeps the old granted scopes (RFC 6749 §6).
   */
  readonly previous?: TokenSet | undefined;
  readonly grant: TokenGrant['type'];
}

/**
 * Validates a token endpoint response (RFC 6749 §5.1) field by field.
 * - non-2xx: `token_request_failed` with `status` and the server's `error` as `oauthError`;
 * - `token_type` `Bearer` is always accepted (RFC 9449 §5 lets the server decline DPoP); `DPoP`
 *   only when a proof was sent; anything else is `token_response_invalid`;
 * - `scope` absent: the previous granted scopes on refresh, else the requested ones (RFC 6749 §5.1).
 */
export function parseTokenResponse(
  response: OAuthHttpResponse,
  expectations: TokenResponseExpectations,
): TokenSet {
  const fields = readSuccessBody(response, 'token request');
  const { now, requestedScopes } = expectations;
  const accessToken = fields.string('access_token', true)!;
  const rawType = fields.get('token_type');
  if (typeof rawType !== 'string') throw fields.fail('token_type', 'must be a string');
  const lower = rawType.toLowerCase();
  const tokenType = lower === 'bearer' ? 'Bearer' : lower === 'dpop' ? 'DPoP' : undefined;
  if (tokenType === undefined) throw fields.fail('token_type', 'must be Bearer or DPoP');
  if (tokenType === 'DPoP' && !expectations.dpop)
    throw fields.fail('token_type', 'is DPoP but DPoP was not used');
  const expiresAt = fields.expiresAt(now);
  const refresh = expectations.grant === 'refresh_token' ? expectations.previous : undefined;
  return withoutUndefined<TokenSet>({
    accessToken,
    tokenType,
    expiresAt,
    refreshToken: fields.string('refresh_token') ?? refresh?.refreshToken,
    grantedScopes: fields.scope() ?? [...(refresh?.grantedScopes ?? requestedScopes)],
    requestedScopes: [...requestedScopes],
    issuedAt: now,
    idToken: fields.string('id_token'),
  });
}

export interface TokenExchangeResult {
  /** The issued token (for ID-JAG, the JWT to use as a `jwt_bearer` assertion). */
  readonly accessToken: string;
  readonly issuedTokenType: string;
  /** As sent; `N_A` when the token is not an access token (RFC 8693 §2.2.1). */
  readonly tokenType: string;
  readonly expiresAt?: number;
  /** The `scope` field, or none when it was omitted. */
  readonly grantedScopes: readonly string[];
}

/** Validates an RFC 8693 §2.2.1 token exchange response (errors as in {@link parseTokenResponse}). */
export function parseTokenExchangeResponse(response: OAuthHttpResponse, now: number): TokenExchangeResult {
  const fields = readSuccessBody(response, 'token exchange');
  const accessToken = fields.string('access_token', true)!;
  const issuedTokenType = fields.string('issued_token_type', true)!;
  const tokenType = fields.get('token_type');
  if (!isNonEmptyString(tokenType)) throw fields.fail('token_type', 'must be a non-empty string');
  return withoutUndefined<TokenExchangeResult>({
    accessToken,
    issuedTokenType,
    tokenType,
    expiresAt: fields.expiresAt(now),
    grantedScopes: fields.scope() ?? [],
  });
}
