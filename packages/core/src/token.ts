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
import { invalidField, oauthError } from './errors.js';
import { isNonEmptyString, withoutUndefined } from './fields.js';
import { type HttpContext, type OAuthHttpResponse, sendRequest } from './http.js';
import {
  parseTokenExchangeResponse,
  parseTokenResponse,
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

/**
 * What a token request needs from a DPoP key holder (RFC 9449). The opt-in `/dpop` module makes
 * one (`tokenRequestProofs`), so the nonce handling ships only with DPoP.
 */
export interface DpopProofSource {
  /** The `DPoP` header for `POST url`: a fresh proof with the nonce that server last handed out. */
  proof(url: string): Promise<string>;
  /**
   * Reads the answer to attempt `attempt` (0 first): remembers its `DPoP-Nonce`, and says whether
   * to send the request again with it (RFC 9449 §8: a `use_dpop_nonce` error that brings a nonce).
   * However it answers, a token request is sent at most twice.
   */
  retry(url: string, response: OAuthHttpResponse, attempt: number): boolean;
}

export type TokenRequestOptions = Omit<TokenRequestInput, 'dpopProof'> & {
  readonly dpop?: DpopProofSource | undefined;
  readonly signal?: AbortSignal | undefined;
};

/**
 * POSTs a token request (redirects refused). With DPoP, every attempt is built afresh with a new
 * proof, and `dpop.retry` decides on a second attempt; there is never a third.
 */
export async function postTokenRequest(
  context: HttpContext,
  input: TokenRequestOptions,
): Promise<OAuthHttpResponse> {
  const { dpop, signal, tokenEndpoint, ...rest } = input;
  const { logger } = context;
  const grant = rest.grant.type;
  for (let attempt = 0; ; attempt++) {
    const dpopProof = await dpop?.proof(tokenEndpoint);
    const request = await buildTokenRequest({ ...rest, tokenEndpoint, dpopProof });
    const endpoint = redactUrl(request.url);
    logger.debug('token.request', { grant, endpoint, dpop: dpop !== undefined, attempt });
    const response = await sendRequest(context, { ...request, method: 'POST', redirect: 'never', signal });
    logger.debug('token.response', { grant, status: response.status });
    if (!dpop?.retry(tokenEndpoint, response, attempt) || attempt > 0) return response;
    logger.debug('token.dpop_nonce_retry', { endpoint });
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
