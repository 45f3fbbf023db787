/**
 * Token endpoint requests (RFC 6749 §4.1.3, §4.4.2, §6; RFC 7523 §2.1; RFC 8693 §2.1) and the
 * validation of their responses (RFC 6749 §5.1 / §5.2, RFC 8693 §2.2, RFC 9449 §5 and §8).
 *
 * `buildTokenRequest` and the `parse*Response` functions do no IO; `requestToken` and
 * `requestTokenExchange` send through the injected client with redirects refused.
 */
import {
  applyClientAuthentication,
  type ClientAuthentication,
  type ClientAuthenticationContext,
} from './client-auth.js';
import { invalidField, isOAuthClientError, type OAuthClientError, oauthError } from './errors.js';
import { fieldReader, isNonEmptyString, readErrorBody, withoutUndefined } from './fields.js';
import { type HttpContext, type OAuthHttpResponse, parseJsonObject, sendRequest } from './http.js';
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
  if (!isNonEmptyString(value)) {
    throw invalidField('invalid_options', 'token request', field, 'must be a non-empty string');
  }
  return value;
}

function grantParameters(grant: TokenGrant): Record<string, string | undefined> {
  const scope = (grant as { scopes?: readonly string[] }).scopes?.filter((item) => item !== '').join(' ');
  const withScope = { scope: scope || undefined };
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
        ...withScope,
      };
    case 'client_credentials':
      return { grant_type: 'client_credentials', ...withScope };
    case 'jwt_bearer':
      return {
        grant_type: GRANT_TYPE_JWT_BEARER,
        assertion: requireValue(grant.assertion, 'assertion'),
        ...withScope,
      };
    case 'device_code':
      return {
        grant_type: GRANT_TYPE_DEVICE_CODE,
        device_code: requireValue(grant.deviceCode, 'device_code'),
      };
    case 'token_exchange':
      return {
        grant_type: GRANT_TYPE_TOKEN_EXCHANGE,
        subject_token: requireValue(grant.subjectToken, 'subject_token'),
        subject_token_type: requireValue(grant.subjectTokenType, 'subject_token_type'),
        requested_token_type:
          grant.requestedTokenType === undefined
            ? undefined
            : requireValue(grant.requestedTokenType, 'requested_token_type'),
        audience: grant.audience === undefined ? undefined : requireValue(grant.audience, 'audience'),
        ...withScope,
      };
    default:
      throw invalidField('invalid_options', 'token request', 'grant_type', 'is not supported');
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
  return formRequest(
    input.tokenEndpoint,
    parameters,
    input.client,
    { issuer: input.issuer, tokenEndpoint: input.tokenEndpoint, now: input.now },
    input.dpopProof === undefined ? {} : { dpop: requireValue(input.dpopProof, 'DPoP') },
    input.extraParameters,
  );
}

/**
 * An `application/x-www-form-urlencoded` POST to a token-endpoint style URL: `parameters` (those
 * `undefined` left out), the client's authentication (when there is a client), then `extra`, which
 * may not replace any of them.
 */
export async function formRequest(
  url: string,
  parameters: Record<string, string | undefined>,
  client: ClientAuthentication | undefined,
  context: ClientAuthenticationContext,
  headers: Record<string, string> = {},
  extra: Readonly<Record<string, string>> = {},
): Promise<TokenRequest> {
  const defined = withoutUndefined<Record<string, string>>(parameters);
  const target = {
    parameters: defined,
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', ...headers },
  };
  if (client !== undefined) await applyClientAuthentication(client, target, context);
  for (const [name, value] of Object.entries(extra)) {
    const subject = 'extra request parameter';
    if (Object.hasOwn(defined, name))
      throw invalidField('invalid_options', subject, name, 'is set by the engine');
    if (typeof value !== 'string') throw invalidField('invalid_options', subject, name, 'must be a string');
  }
  return { url, headers: target.headers, body: new URLSearchParams({ ...defined, ...extra }).toString() };
}

// ---------------------------------------------------------------- responses

/**
 * RFC 6749 §5.2, RFC 8693 §2.2.2, RFC 9449 §8, RFC 8628 §3.5 (and RFC 8707 `invalid_target`)
 * error codes.
 */
const KNOWN_ERRORS = [
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
];

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
  code: 'token_request_failed' | 'revocation_failed',
  what: string,
  response: OAuthHttpResponse,
): OAuthClientError {
  const { status } = response;
  const errorCode = readOAuthErrorCode(response);
  const suffix = KNOWN_ERRORS.includes(errorCode!) ? ` (${errorCode})` : '';
  return oauthError(code, `${what} failed with HTTP status ${status}${suffix}`, {
    status,
    oauthError: errorCode,
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
    body,
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
      return parseScope(value.includes(',') && !value.includes(' ') ? value.replaceAll(',', ' ') : value);
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
  const { now, previous } = expectations;
  const accessToken = fields.string('access_token', true)!;
  const rawType = fields.body.token_type;
  if (typeof rawType !== 'string') throw fields.fail('token_type', 'must be a string');
  const lower = rawType.toLowerCase();
  const tokenType = lower === 'bearer' ? 'Bearer' : lower === 'dpop' ? 'DPoP' : undefined;
  if (tokenType === undefined) throw fields.fail('token_type', 'must be Bearer or DPoP');
  if (tokenType === 'DPoP' && !expectations.dpop)
    throw fields.fail('token_type', 'is DPoP but DPoP was not used');
  const expiresAt = fields.expiresAt(now);
  const refresh = expectations.grant === 'refresh_token' ? previous : undefined;
  const refreshToken = fields.string('refresh_token') ?? refresh?.refreshToken;
  const idToken = fields.string('id_token');
  const grantedScopes = fields.scope() ?? [...(refresh?.grantedScopes ?? expectations.requestedScopes)];
  return withoutUndefined<TokenSet>({
    accessToken,
    tokenType,
    expiresAt,
    refreshToken,
    grantedScopes,
    requestedScopes: [...expectations.requestedScopes],
    issuedAt: now,
    idToken,
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
  const tokenType = fields.body.token_type;
  if (!isNonEmptyString(tokenType)) throw fields.fail('token_type', 'must be a non-empty string');
  return withoutUndefined<TokenExchangeResult>({
    accessToken,
    issuedTokenType,
    tokenType,
    expiresAt: fields.expiresAt(now),
    grantedScopes: fields.scope() ?? [],
  });
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
