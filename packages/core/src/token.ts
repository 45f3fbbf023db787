/**
 * Token endpoint requests (RFC 6749 §4.1.3, §4.4.2, §6; RFC 7523 §2.1; RFC 8693 §2.1) and the
 * validation of their responses (RFC 6749 §5.1 / §5.2, RFC 8693 §2.2, RFC 9449 §5 and §8).
 *
 * `buildTokenRequest` and the `parse*Response` functions do no IO; `requestToken` and
 * `requestTokenExchange` send through the injected client with redirects refused.
 */
import { applyClientAuthentication, type ClientAuthentication } from './client-auth.js';
import { isOAuthClientError, type OAuthClientError, oauthError } from './errors.js';
import {
  formEncode,
  type HttpContext,
  type OAuthHttpResponse,
  parseJsonObject,
  sendRequest,
} from './http.js';
import { parseScope } from './scopes.js';
import type { TokenSet } from './types.js';
import { redactUrl, tryParseUrl } from './url.js';

export const GRANT_TYPE_JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
export const GRANT_TYPE_TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
/** RFC 8628 §3.4: the grant type of a device access token request. */
export const GRANT_TYPE_DEVICE_CODE = 'urn:ietf:params:oauth:grant-type:device_code';
/** RFC 8693 §3 token type of an OpenID Connect ID token. */
export const TOKEN_TYPE_ID_TOKEN = 'urn:ietf:params:oauth:token-type:id_token';
/** Identity Assertion JWT Authorization Grant (ID-JAG), the `requested_token_type` for cross-app access. */
export const TOKEN_TYPE_ID_JAG = 'urn:ietf:params:oauth:token-type:id-jag';

/** `expires_in` values above this (ten years, in seconds) are capped to it. */
export const MAXIMUM_EXPIRES_IN_SECONDS = 10 * 365 * 24 * 60 * 60;

export type TokenGrant =
  | {
      readonly type: 'authorization_code';
      readonly code: string;
      readonly codeVerifier: string;
      readonly redirectUri: string;
    }
  | {
      readonly type: 'refresh_token';
      readonly refreshToken: string;
      readonly scopes?: readonly string[] | undefined;
    }
  | { readonly type: 'client_credentials'; readonly scopes?: readonly string[] | undefined }
  /** RFC 7523 §2.1 (also the second step of cross-app access, with an ID-JAG as the assertion). */
  | {
      readonly type: 'jwt_bearer';
      readonly assertion: string;
      readonly scopes?: readonly string[] | undefined;
    }
  /** RFC 8628 §3.4: one poll of a device authorization. */
  | { readonly type: 'device_code'; readonly deviceCode: string }
  /** RFC 8693; for ID-JAG, `requestedTokenType` is {@link TOKEN_TYPE_ID_JAG}. */
  | {
      readonly type: 'token_exchange';
      readonly subjectToken: string;
      readonly subjectTokenType: string;
      readonly requestedTokenType?: string | undefined;
      readonly audience?: string | undefined;
      readonly scopes?: readonly string[] | undefined;
    };

export interface TokenRequestInput {
  readonly tokenEndpoint: string;
  readonly issuer: string;
  readonly grant: TokenGrant;
  /** RFC 8707 resource indicator. */
  readonly resource?: string | undefined;
  /**
   * How the client authenticates; `undefined` sends no client identity at all (the jwt-bearer
   * grant of a workload with no registration, RFC 7523 §2.1).
   */
  readonly client: ClientAuthentication | undefined;
  /** Milliseconds since the epoch. */
  readonly now: number;
  /** A DPoP proof (RFC 9449) for `POST tokenEndpoint`. */
  readonly dpopProof?: string | undefined;
  /** Further form parameters; they may not replace a parameter the engine sets. */
  readonly extraParameters?: Readonly<Record<string, string>> | undefined;
}

export interface TokenRequest {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

function requireValue(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw oauthError('invalid_options', `token request "${field}" must be a non-empty string`);
  }
  return value;
}

function grantParameters(grant: TokenGrant): Record<string, string> {
  const scope = (scopes: readonly string[] | undefined): Record<string, string> => {
    const value = (scopes ?? []).filter((item) => item.length > 0).join(' ');
    return value === '' ? {} : { scope: value };
  };
  switch (grant.type) {
    case 'authorization_code':
      return {
        grant_type: 'authorization_code',
        code: requireValue(grant.code, 'code'),
        code_verifier: requireValue(grant.codeVerifier, 'code_verifier'),
        redirect_uri: requireValue(grant.redirectUri, 'redirect_uri'),
      };
    case 'refresh_token':
      return {
        grant_type: 'refresh_token',
        refresh_token: requireValue(grant.refreshToken, 'refresh_token'),
        ...scope(grant.scopes),
      };
    case 'client_credentials':
      return { grant_type: 'client_credentials', ...scope(grant.scopes) };
    case 'jwt_bearer':
      return {
        grant_type: GRANT_TYPE_JWT_BEARER,
        assertion: requireValue(grant.assertion, 'assertion'),
        ...scope(grant.scopes),
      };
    case 'device_code':
      return {
        grant_type: GRANT_TYPE_DEVICE_CODE,
        device_code: requireValue(grant.deviceCode, 'device_code'),
      };
    case 'token_exchange': {
      const parameters: Record<string, string> = {
        grant_type: GRANT_TYPE_TOKEN_EXCHANGE,
        subject_token: requireValue(grant.subjectToken, 'subject_token'),
        subject_token_type: requireValue(grant.subjectTokenType, 'subject_token_type'),
      };
      if (grant.requestedTokenType !== undefined) {
        parameters.requested_token_type = requireValue(grant.requestedTokenType, 'requested_token_type');
      }
      if (grant.audience !== undefined) parameters.audience = requireValue(grant.audience, 'audience');
      return { ...parameters, ...scope(grant.scopes) };
    }
    default:
      throw oauthError('invalid_options', 'token request grant type is not supported');
  }
}

/**
 * Builds a token request as data: the form parameters of the grant, `resource` when given, the
 * client's authentication (header or parameters), and a `dpop` header when a proof is given.
 */
export async function buildTokenRequest(input: TokenRequestInput): Promise<TokenRequest> {
  if (tryParseUrl(input.tokenEndpoint) === undefined) {
    throw oauthError('invalid_options', 'token endpoint must be an absolute URL');
  }
  const parameters = grantParameters(input.grant);
  if (input.resource !== undefined) parameters.resource = requireValue(input.resource, 'resource');
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
  };
  if (input.dpopProof !== undefined) headers.dpop = requireValue(input.dpopProof, 'DPoP');
  if (input.client !== undefined) {
    await applyClientAuthentication(
      input.client,
      { parameters, headers },
      { issuer: input.issuer, tokenEndpoint: input.tokenEndpoint, now: input.now },
    );
  }
  for (const [name, value] of Object.entries(input.extraParameters ?? {})) {
    if (Object.hasOwn(parameters, name)) {
      throw oauthError('invalid_options', `extra token request parameter "${name}" is set by the engine`);
    }
    if (typeof value !== 'string') {
      throw oauthError('invalid_options', `extra token request parameter "${name}" must be a string`);
    }
    parameters[name] = value;
  }
  return { url: input.tokenEndpoint, headers, body: formEncode(parameters) };
}

// ---------------------------------------------------------------- responses

/**
 * RFC 6749 §5.2, RFC 8693 §2.2.2, RFC 9449 §8, RFC 8628 §3.5 (and RFC 8707 `invalid_target`)
 * error codes.
 */
const KNOWN_ERRORS = new Set([
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'invalid_target',
  'invalid_dpop_proof',
  'use_dpop_nonce',
  'unsupported_token_type',
  'access_denied',
  'authorization_pending',
  'slow_down',
  'expired_token',
  'server_error',
  'temporarily_unavailable',
]);

/** The `error` of an RFC 6749 §5.2 error body, or `undefined` when the body is not one. Never throws. */
export function readOAuthErrorCode(response: OAuthHttpResponse): string | undefined {
  try {
    const value: unknown = JSON.parse(response.body);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    const error = (value as Record<string, unknown>).error;
    return typeof error === 'string' && error.length > 0 ? error : undefined;
  } catch {
    return undefined;
  }
}

/**
 * An engine error for a failed response. The message names the status and, when it is one of the
 * registered values, the OAuth error code; `error_description`, `error_uri` and the body are never
 * carried (they are server-controlled text).
 */
export function oauthErrorResponse(
  code: 'token_request_failed' | 'revocation_failed',
  what: string,
  response: OAuthHttpResponse,
): OAuthClientError {
  const errorCode = readOAuthErrorCode(response);
  const suffix = errorCode !== undefined && KNOWN_ERRORS.has(errorCode) ? ` (${errorCode})` : '';
  return oauthError(code, `${what} failed with HTTP status ${response.status}${suffix}`, {
    status: response.status,
    oauthError: errorCode,
  });
}

function isSuccess(response: OAuthHttpResponse): boolean {
  return response.status >= 200 && response.status < 300;
}

function invalid(message: string, response: OAuthHttpResponse): OAuthClientError {
  return oauthError('token_response_invalid', message, { status: response.status });
}

function readAccessToken(body: Record<string, unknown>, response: OAuthHttpResponse): string {
  const value = body.access_token;
  if (typeof value !== 'string' || value.length === 0) {
    throw invalid('token response "access_token" must be a non-empty string', response);
  }
  return value;
}

/** Reads an optional field; JSON `null` counts as absent. */
function optional(body: Record<string, unknown>, field: string): unknown {
  const value = body[field];
  return value === null ? undefined : value;
}

function readOptionalString(
  body: Record<string, unknown>,
  field: string,
  response: OAuthHttpResponse,
): string | undefined {
  const value = optional(body, field);
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) {
    throw invalid(`token response "${field}" must be a non-empty string`, response);
  }
  return value;
}

/**
 * `expires_in` in seconds: a finite number ≥ 0, or a string of decimal digits (some servers send
 * one); values above {@link MAXIMUM_EXPIRES_IN_SECONDS} are capped.
 */
function readExpiresIn(body: Record<string, unknown>, response: OAuthHttpResponse): number | undefined {
  const raw = optional(body, 'expires_in');
  if (raw === undefined) return undefined;
  let value: number;
  if (typeof raw === 'number') value = raw;
  else if (typeof raw === 'string' && /^\d{1,15}$/.test(raw)) value = Number(raw);
  else value = Number.NaN;
  if (!Number.isFinite(value) || value < 0) {
    throw invalid('token response "expires_in" must be a non-negative number', response);
  }
  return Math.min(value, MAXIMUM_EXPIRES_IN_SECONDS);
}

function readScope(body: Record<string, unknown>, response: OAuthHttpResponse): string[] | undefined {
  const value = optional(body, 'scope');
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalid('token response "scope" must be a string', response);
  // GitHub separates granted scopes with commas; RFC 6749 §3.3 with spaces.
  return parseScope(value.includes(',') && !value.includes(' ') ? value.replaceAll(',', ' ') : value);
}

function readSuccessBody(response: OAuthHttpResponse, what: string): Record<string, unknown> {
  if (!isSuccess(response)) throw oauthErrorResponse('token_request_failed', what, response);
  return parseJsonObject(response, 'token response', 'token_response_invalid');
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
  const body = readSuccessBody(response, 'token request');
  const accessToken = readAccessToken(body, response);
  const rawType = body.token_type;
  if (typeof rawType !== 'string') throw invalid('token response "token_type" must be a string', response);
  let tokenType: TokenSet['tokenType'];
  const normalized = rawType.toLowerCase();
  if (normalized === 'bearer') tokenType = 'Bearer';
  else if (normalized === 'dpop') {
    if (!expectations.dpop)
      throw invalid('token response "token_type" is DPoP but DPoP was not used', response);
    tokenType = 'DPoP';
  } else {
    throw invalid('token response "token_type" must be Bearer or DPoP', response);
  }
  const expiresIn = readExpiresIn(body, response);
  const isRefresh = expectations.grant === 'refresh_token';
  const refreshToken =
    readOptionalString(body, 'refresh_token', response) ??
    (isRefresh ? expectations.previous?.refreshToken : undefined);
  const idToken = readOptionalString(body, 'id_token', response);
  const grantedScopes =
    readScope(body, response) ??
    (isRefresh && expectations.previous !== undefined
      ? [...expectations.previous.grantedScopes]
      : [...expectations.requestedScopes]);
  return {
    accessToken,
    tokenType,
    ...(expiresIn === undefined ? {} : { expiresAt: expectations.now + Math.round(expiresIn * 1000) }),
    ...(refreshToken === undefined ? {} : { refreshToken }),
    grantedScopes,
    requestedScopes: [...expectations.requestedScopes],
    issuedAt: expectations.now,
    ...(idToken === undefined ? {} : { idToken }),
  };
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
  const body = readSuccessBody(response, 'token exchange');
  const accessToken = readAccessToken(body, response);
  const issuedTokenType = body.issued_token_type;
  if (typeof issuedTokenType !== 'string' || issuedTokenType.length === 0) {
    throw invalid('token response "issued_token_type" must be a non-empty string', response);
  }
  const tokenType = body.token_type;
  if (typeof tokenType !== 'string' || tokenType.length === 0) {
    throw invalid('token response "token_type" must be a non-empty string', response);
  }
  const expiresIn = readExpiresIn(body, response);
  return {
    accessToken,
    issuedTokenType,
    tokenType,
    ...(expiresIn === undefined ? {} : { expiresAt: now + Math.round(expiresIn * 1000) }),
    grantedScopes: readScope(body, response) ?? [],
  };
}

// ---------------------------------------------------------------- sending

/** What `requestToken` needs from a DPoP key holder (RFC 9449). */
export interface DpopProofSource {
  proof(method: string, url: string, options: { nonce?: string | undefined }): Promise<string>;
  nonceFor(url: string): string | undefined;
  rememberNonce(url: string, nonce: string): void;
}

/** RFC 9449 §8.1: `nonce = 1*NQCHAR`. */
const DPOP_NONCE = /^[\x21\x23-\x5B\x5D-\x7E]{1,1024}$/;

export type TokenRequestOptions = Omit<TokenRequestInput, 'dpopProof'> & {
  readonly dpop?: DpopProofSource | undefined;
  readonly signal?: AbortSignal | undefined;
};

async function createProof(dpop: DpopProofSource, url: string): Promise<string> {
  try {
    return await dpop.proof('POST', url, { nonce: dpop.nonceFor(url) });
  } catch (error) {
    if (isOAuthClientError(error)) throw error;
    throw oauthError('dpop_failed', 'could not create a DPoP proof for the token request');
  }
}

/**
 * POSTs a token request (redirects refused). With DPoP, a `DPoP-Nonce` response header is always
 * remembered, and a `use_dpop_nonce` error with a new nonce is retried exactly once with a freshly
 * built request (RFC 9449 §8).
 */
export async function postTokenRequest(
  context: HttpContext,
  input: TokenRequestOptions,
): Promise<OAuthHttpResponse> {
  const { dpop, signal, ...rest } = input;
  for (let attempt = 0; ; attempt++) {
    const dpopProof = dpop === undefined ? undefined : await createProof(dpop, input.tokenEndpoint);
    const request = await buildTokenRequest({ ...rest, ...(dpopProof === undefined ? {} : { dpopProof }) });
    context.logger.debug('token.request', {
      grant: input.grant.type,
      endpoint: redactUrl(request.url),
      dpop: dpopProof !== undefined,
      attempt,
    });
    const response = await sendRequest(context, {
      method: 'POST',
      url: request.url,
      headers: request.headers,
      body: request.body,
      redirect: 'never',
      signal,
    });
    context.logger.debug('token.response', { grant: input.grant.type, status: response.status });
    if (dpop === undefined) return response;
    const nonce = response.headers['dpop-nonce']?.trim();
    const validNonce = nonce !== undefined && DPOP_NONCE.test(nonce) ? nonce : undefined;
    if (validNonce !== undefined) dpop.rememberNonce(input.tokenEndpoint, validNonce);
    const retry =
      attempt === 0 &&
      validNonce !== undefined &&
      (response.status === 400 || response.status === 401) &&
      readOAuthErrorCode(response) === 'use_dpop_nonce';
    if (!retry) return response;
    context.logger.debug('token.dpop_nonce_retry', { endpoint: redactUrl(request.url) });
  }
}

/** Requests tokens and validates the response (see {@link parseTokenResponse}). */
export async function requestToken(
  context: HttpContext,
  input: TokenRequestOptions & {
    readonly requestedScopes: readonly string[];
    readonly previous?: TokenSet | undefined;
  },
): Promise<TokenSet> {
  const { requestedScopes, previous, ...options } = input;
  const response = await postTokenRequest(context, options);
  return parseTokenResponse(response, {
    now: input.now,
    requestedScopes,
    dpop: input.dpop !== undefined,
    previous,
    grant: input.grant.type,
  });
}

/** Performs an RFC 8693 token exchange (for example, ID token → ID-JAG at the identity provider). */
export async function requestTokenExchange(
  context: HttpContext,
  input: TokenRequestOptions & { readonly grant: Extract<TokenGrant, { type: 'token_exchange' }> },
): Promise<TokenExchangeResult> {
  const response = await postTokenRequest(context, input);
  return parseTokenExchangeResponse(response, input.now);
}
