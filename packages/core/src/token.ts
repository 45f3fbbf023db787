/**
 * Token endpoint requests (RFC 6749 §4.1.3, §4.4.2, §6; RFC 7523 §2.1; RFC 8628 §3.4;
 * RFC 8693 §2.1), with the RFC 9449 §8 DPoP nonce retry. Their responses are validated in
 * `token-response.ts`.
 *
 * `buildTokenRequest` does no IO; `requestToken` and `requestTokenExchange` send through the
 * injected client with redirects refused.
 */
import {
  applyClientAuthentication,
  type ClientAuthentication,
  type ClientAuthenticationContext,
} from './client-auth.js';
import { invalidField, isOAuthClientError, oauthError } from './errors.js';
import { isNonEmptyString, withoutUndefined } from './fields.js';
import { type HttpContext, type OAuthHttpResponse, sendRequest } from './http.js';
import {
  parseTokenExchangeResponse,
  parseTokenResponse,
  readOAuthErrorCode,
  type TokenExchangeResult,
} from './token-response.js';
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
