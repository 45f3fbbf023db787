/**
 * Client authentication at the token (and revocation) endpoint: RFC 6749 §2.3.1 (`none`,
 * `client_secret_basic`, `client_secret_post`) and RFC 7523 §2.2 / OpenID Connect Core §9
 * (`private_key_jwt`).
 */
import { randomToken } from './encoding.js';
import { oauthError } from './errors.js';
import type { TokenEndpointAuthMethod } from './types.js';

export const CLIENT_ASSERTION_TYPE_JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Default `exp - iat` of a client assertion, in seconds. */
export const DEFAULT_ASSERTION_LIFETIME_SECONDS = 60;
const MAXIMUM_ASSERTION_LIFETIME_SECONDS = 3600;

/**
 * What the `aud` claim of a `private_key_jwt` assertion holds.
 * - `issuer` (default): the authorization server's issuer identifier. draft-ietf-oauth-rfc7523bis
 *   requires exactly this (a single string) to close the audience-confusion attack found in 2024;
 *   the MCP conformance suite (`auth/client-credentials-jwt`) verifies `aud` against the issuer,
 *   and the official MCP TypeScript SDK sends the issuer too.
 * - `token_endpoint`: the token endpoint URL, for servers that only accept the RFC 7523 §3 /
 *   OIDC Core §9 reading of "the URL of the token endpoint".
 */
export type AssertionAudience = 'issuer' | 'token_endpoint';

/** Signs a JWT whose header and claims it is given (the opt-in `@mcp-oauth/core/jwt` module makes one). */
export interface JwtSigner {
  readonly algorithm: string;
  readonly keyId?: string | undefined;
  sign(header: Record<string, unknown>, payload: Record<string, unknown>): Promise<string>;
}

export interface ClientAuthentication {
  readonly clientId: string;
  readonly method: TokenEndpointAuthMethod;
  readonly clientSecret?: string | undefined;
  /** Signs `private_key_jwt` assertions: `privateKeyJwt(...).signer()` from `@mcp-oauth/core/jwt`, or `jwtSigner(key)`. */
  readonly signer?: JwtSigner | undefined;
  /** Lifetime of a `private_key_jwt` assertion, in seconds (1–3600). Default 60. */
  readonly assertionLifetimeSeconds?: number | undefined;
  /** `aud` of a `private_key_jwt` assertion. Default `issuer`; see {@link AssertionAudience}. */
  readonly assertionAudience?: AssertionAudience | undefined;
}

export interface ClientAuthenticationTarget {
  parameters: Record<string, string>;
  headers: Record<string, string>;
}

export interface ClientAuthenticationContext {
  readonly issuer: string;
  readonly tokenEndpoint: string;
  /** Milliseconds since the epoch. */
  readonly now: number;
}

/**
 * `application/x-www-form-urlencoded` encoding of one value (spaces become `+`), which RFC 6749
 * §2.3.1 applies to the client id and secret before they are joined for HTTP Basic.
 */
export function formUrlEncodeValue(value: string): string {
  return new URLSearchParams([['', value]]).toString().slice(1);
}

function requireSecret(auth: ClientAuthentication): string {
  if (typeof auth.clientSecret !== 'string' || auth.clientSecret.length === 0) {
    throw oauthError('invalid_options', `client authentication "${auth.method}" requires a client secret`);
  }
  return auth.clientSecret;
}

async function createClientAssertion(auth: ClientAuthentication, context: ClientAuthenticationContext) {
  const signer = auth.signer;
  if (signer === undefined) {
    throw oauthError('invalid_options', 'client authentication "private_key_jwt" requires a signing key');
  }
  const lifetime = auth.assertionLifetimeSeconds ?? DEFAULT_ASSERTION_LIFETIME_SECONDS;
  if (!Number.isInteger(lifetime) || lifetime < 1 || lifetime > MAXIMUM_ASSERTION_LIFETIME_SECONDS) {
    throw oauthError(
      'invalid_options',
      `"assertionLifetimeSeconds" must be an integer from 1 to ${MAXIMUM_ASSERTION_LIFETIME_SECONDS}`,
    );
  }
  const audienceChoice = auth.assertionAudience ?? 'issuer';
  if (audienceChoice !== 'issuer' && audienceChoice !== 'token_endpoint') {
    throw oauthError('invalid_options', '"assertionAudience" must be "issuer" or "token_endpoint"');
  }
  const audience = audienceChoice === 'issuer' ? context.issuer : context.tokenEndpoint;
  if (typeof audience !== 'string' || audience.length === 0) {
    throw oauthError('invalid_options', `client assertion audience (${audienceChoice}) is missing`);
  }
  if (!Number.isFinite(context.now)) throw oauthError('invalid_options', '"now" must be a finite number');
  const issuedAt = Math.floor(context.now / 1000);
  const header: Record<string, unknown> = { alg: signer.algorithm, typ: 'JWT' };
  if (signer.keyId !== undefined) header.kid = signer.keyId;
  return signer.sign(header, {
    iss: auth.clientId,
    sub: auth.clientId,
    aud: audience,
    jti: randomToken(),
    iat: issuedAt,
    exp: issuedAt + lifetime,
  });
}

/**
 * Adds the client's credentials to a token-endpoint style request, in place.
 * - `none`: `client_id` parameter.
 * - `client_secret_basic`: `authorization: Basic …` of the form-encoded id and secret; no
 *   `client_id` parameter (RFC 6749 §4.1.3 requires it only of unauthenticated clients).
 * - `client_secret_post`: `client_id` and `client_secret` parameters.
 * - `private_key_jwt`: `client_id`, `client_assertion_type` and a freshly signed `client_assertion`
 *   (new `jti` every call).
 * A missing secret or signing key is `invalid_options`.
 */
export async function applyClientAuthentication(
  auth: ClientAuthentication,
  target: ClientAuthenticationTarget,
  context: ClientAuthenticationContext,
): Promise<void> {
  if (typeof auth.clientId !== 'string' || auth.clientId.length === 0) {
    throw oauthError('invalid_options', '"clientId" must be a non-empty string');
  }
  switch (auth.method) {
    case 'none':
      target.parameters.client_id = auth.clientId;
      return;
    case 'client_secret_basic': {
      const secret = requireSecret(auth);
      const credentials = `${formUrlEncodeValue(auth.clientId)}:${formUrlEncodeValue(secret)}`;
      // Form encoding leaves only ASCII, so `btoa` cannot fail here.
      target.headers.authorization = `Basic ${btoa(credentials)}`;
      return;
    }
    case 'client_secret_post':
      target.parameters.client_id = auth.clientId;
      target.parameters.client_secret = requireSecret(auth);
      return;
    case 'private_key_jwt': {
      const assertion = await createClientAssertion(auth, context);
      target.parameters.client_id = auth.clientId;
      target.parameters.client_assertion_type = CLIENT_ASSERTION_TYPE_JWT_BEARER;
      target.parameters.client_assertion = assertion;
      return;
    }
    default:
      throw oauthError('invalid_options', 'client authentication method is not supported');
  }
}
