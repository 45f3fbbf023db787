/**
 * Enterprise-managed authorization (MCP extension `io.modelcontextprotocol/enterprise-managed-authorization`,
 * SEP-990; draft-ietf-oauth-identity-assertion-authz-grant), the client side:
 *
 * 1. RFC 8693 token exchange at the enterprise identity provider: the user's identity assertion
 *    (an OpenID Connect ID token from single sign-on) for an Identity Assertion JWT Authorization
 *    Grant (ID-JAG) whose `audience` is the MCP authorization server's issuer and whose `resource`
 *    is the MCP server;
 * 2. RFC 7523 jwt-bearer grant at the MCP authorization server with the ID-JAG as `assertion`.
 *
 * Step 1 is {@link requestIdJag}. {@link createIdJagAssertion} wraps it as the `assertion` callback
 * of an `OAuthSession` with `grant: { type: 'jwt_bearer', assertion }`, so the session does
 * discovery, client identity and step 2, and runs step 1 again whenever it needs a new token.
 */
import type { ClientAuthentication, JwtSigner } from './client-auth.js';
import { discoverAuthorizationServerMetadata } from './discovery.js';
import { oauthError } from './errors.js';
import { isNonEmptyString } from './fields.js';
import { createHttpContext, type HttpContext, type OAuthHttpClient } from './http.js';
import { decodeJwtPart, jwtSigner } from './jwt.js';
import { type OAuthLogger, silentLogger } from './logger.js';
import { importSigningKey, type PrivateKeyInput, type SigningAlgorithm } from './signing-key.js';
import { requestTokenExchange, TOKEN_TYPE_ID_JAG, TOKEN_TYPE_ID_TOKEN } from './token.js';
import type { TokenExchangeResult } from './token-response.js';
import type { TokenEndpointAuthMethod } from './types.js';
import { assertSafeUrl, isLoopbackHost, tryParseUrl } from './url.js';

/** RFC 8693 §3 token type of a SAML 2.0 assertion, the other identity assertion SEP-990 allows. */
export const TOKEN_TYPE_SAML2 = 'urn:ietf:params:oauth:token-type:saml2';

/** The JWT `typ` header an ID-JAG carries (draft-ietf-oauth-identity-assertion-authz-grant). */
export const ID_JAG_JWT_TYPE = 'oauth-id-jag+jwt';

/** The enterprise identity provider: its token endpoint, its issuer, or both. */
export interface IdentityProviderOptions {
  /**
   * The IdP's issuer. Without `tokenEndpoint` its metadata is discovered (RFC 8414, then OpenID
   * Connect Discovery) and must name exactly this issuer. It is also the `aud` of a
   * `private_key_jwt` client assertion.
   */
  readonly issuer?: string;
  /** The IdP's token endpoint; used as given, with no discovery. */
  readonly tokenEndpoint?: string;
}

/** This client's registration at the identity provider (the one it signs users in with). */
export interface IdentityProviderClient {
  readonly clientId: string;
  readonly clientSecret?: string;
  /**
   * Default: `private_key_jwt` with a `clientKey`, `client_secret_basic` with a secret, else
   * `none` (the `client_id` parameter only).
   */
  readonly tokenEndpointAuthMethod?: TokenEndpointAuthMethod;
  /** For `private_key_jwt`: a PKCS#8 PEM, a private JWK or a CryptoKey. */
  readonly clientKey?: {
    readonly privateKey: PrivateKeyInput;
    readonly keyId?: string;
    readonly algorithm?: SigningAlgorithm;
  };
}

/** Supplies the user's identity assertion, e.g. the ID token kept from the single sign-on login. */
export type IdentityAssertionSupplier =
  | string
  | ((context: { readonly signal: AbortSignal | undefined }) => string | Promise<string>);

export interface IdJagOptions {
  /** Carries the requests to the identity provider (an adapter's `OAuthHttpClient`). */
  readonly httpClient: OAuthHttpClient;
  readonly identityProvider: IdentityProviderOptions;
  readonly client: IdentityProviderClient;
  /** The subject token: an OpenID Connect ID token by default (see `subjectTokenType`). */
  readonly idToken: IdentityAssertionSupplier;
  /** Default {@link TOKEN_TYPE_ID_TOKEN}; {@link TOKEN_TYPE_SAML2} for a SAML assertion. */
  readonly subjectTokenType?: string;
  /** Scopes at the MCP server to ask the IdP for (the `scope` of the token exchange); none by default. */
  readonly scopes?: readonly string[];
  readonly timeoutMs?: number;
  readonly maxResponseBytes?: number;
  readonly logger?: OAuthLogger;
  /** Milliseconds since the epoch; injectable for tests. */
  readonly clock?: () => number;
}

/** What the exchange is for: the MCP authorization server and the MCP server. */
export interface IdJagTarget {
  /** The MCP authorization server's issuer: the ID-JAG's `audience`. */
  readonly issuer: string;
  /** The MCP server's resource identifier (RFC 9728). */
  readonly resource: string;
  readonly signal?: AbortSignal | undefined;
}

/** The `assertion` callback of `grant: { type: 'jwt_bearer', assertion }`. */
export type JwtBearerAssertionCallback = (context: {
  readonly issuer: string;
  readonly resource: string;
  readonly signal: AbortSignal | undefined;
}) => Promise<string>;

interface PreparedOptions {
  readonly http: HttpContext;
  readonly clock: () => number;
  readonly subjectTokenType: string;
  readonly method: TokenEndpointAuthMethod;
  readonly issuer: string | undefined;
  readonly tokenEndpoint: string | undefined;
}

function invalidOptions(message: string) {
  return oauthError('invalid_options', message);
}

function isLoopbackHttp(value: string): boolean {
  const url = tryParseUrl(value);
  return url !== undefined && url.protocol === 'http:' && isLoopbackHost(url.hostname);
}

function authMethodOf(client: IdentityProviderClient): TokenEndpointAuthMethod {
  if (client.tokenEndpointAuthMethod !== undefined) return client.tokenEndpointAuthMethod;
  if (client.clientKey !== undefined) return 'private_key_jwt';
  return client.clientSecret === undefined ? 'none' : 'client_secret_basic';
}

/** Checks the options once, so a misconfiguration fails when the flow is set up, not mid-request. */
function prepare(options: IdJagOptions): PreparedOptions {
  if (typeof options?.httpClient?.send !== 'function') {
    throw invalidOptions('httpClient must implement send(request)');
  }
  const { issuer, tokenEndpoint } = options.identityProvider ?? {};
  if (issuer === undefined && tokenEndpoint === undefined) {
    throw invalidOptions('identityProvider needs an "issuer" or a "tokenEndpoint"');
  }
  for (const [value, what] of [
    [issuer, 'identityProvider.issuer'],
    [tokenEndpoint, 'identityProvider.tokenEndpoint'],
  ] as const) {
    if (value !== undefined) assertSafeUrl(value, { what, allowLoopbackHttp: isLoopbackHttp(value) });
  }
  const client = options.client;
  if (!isNonEmptyString(client?.clientId)) throw invalidOptions('client.clientId must be a non-empty string');
  if (client.clientSecret !== undefined && !isNonEmptyString(client.clientSecret)) {
    throw invalidOptions('client.clientSecret must be a non-empty string');
  }
  const method = authMethodOf(client);
  if (
    (method === 'client_secret_basic' || method === 'client_secret_post') &&
    !isNonEmptyString(client.clientSecret)
  ) {
    throw invalidOptions(
      `client authentication "${method}" at the identity provider needs client.clientSecret`,
    );
  }
  if (method === 'private_key_jwt' && client.clientKey === undefined) {
    throw invalidOptions(
      'client authentication "private_key_jwt" at the identity provider needs client.clientKey',
    );
  }
  if (typeof options.idToken !== 'function' && !isNonEmptyString(options.idToken)) {
    throw invalidOptions('idToken must be a non-empty string or a function returning one');
  }
  const subjectTokenType = options.subjectTokenType ?? TOKEN_TYPE_ID_TOKEN;
  if (!isNonEmptyString(subjectTokenType))
    throw invalidOptions('subjectTokenType must be a non-empty string');
  if (options.scopes !== undefined && !options.scopes.every(isNonEmptyString)) {
    throw invalidOptions('scopes must be non-empty strings');
  }
  return {
    http: createHttpContext(options.httpClient, {
      logger: options.logger ?? silentLogger,
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      ...(options.maxResponseBytes === undefined ? {} : { maxResponseBytes: options.maxResponseBytes }),
    }),
    clock: options.clock ?? Date.now,
    subjectTokenType,
    method,
    issuer,
    tokenEndpoint,
  };
}

/**
 * The checks SEP-990 §4.2 allows a client to make on a token exchange response: the issued token
 * type is an ID-JAG, `token_type` is `N_A` (it is not an access token), and the token is a compact
 * JWS typed `oauth-id-jag+jwt`. Its signature and claims are for the authorization server to verify.
 */
function assertIdJag(result: TokenExchangeResult): void {
  if (result.issuedTokenType !== TOKEN_TYPE_ID_JAG) {
    throw oauthError(
      'token_response_invalid',
      `token exchange response "issued_token_type" must be ${TOKEN_TYPE_ID_JAG}`,
    );
  }
  if (result.tokenType.toLowerCase() !== 'n_a') {
    throw oauthError('token_response_invalid', 'token exchange response "token_type" must be N_A');
  }
  const header = decodeJwtPart(result.accessToken, 0);
  if (header === undefined) {
    throw oauthError('token_response_invalid', 'token exchange response "access_token" must be a signed JWT');
  }
  if (typeof header.typ !== 'string' || header.typ.toLowerCase() !== ID_JAG_JWT_TYPE) {
    throw oauthError('token_response_invalid', `the ID-JAG's "typ" header must be ${ID_JAG_JWT_TYPE}`);
  }
}

async function readIdentityAssertion(
  supplier: IdentityAssertionSupplier,
  signal: AbortSignal | undefined,
): Promise<string> {
  const value = typeof supplier === 'function' ? await supplier({ signal }) : supplier;
  if (!isNonEmptyString(value)) throw invalidOptions('the idToken supplier must return a non-empty string');
  return value;
}

/**
 * Sets up the first step of enterprise-managed authorization and returns a function that performs
 * it: an RFC 8693 token exchange at the identity provider of the user's identity assertion for an
 * ID-JAG addressed to one MCP authorization server (`audience` = its issuer) and MCP server
 * (`resource`). The form carries `grant_type`, `subject_token`, `subject_token_type`,
 * `requested_token_type` (`urn:ietf:params:oauth:token-type:id-jag`), `audience`, `resource`,
 * `scope` when scopes are configured, and the IdP client's authentication. Redirects are refused.
 *
 * Errors: `invalid_options` (at once, for bad options), `unsafe_url`, `discovery_failed`,
 * `issuer_mismatch`, `metadata_invalid` (IdP discovery), `token_request_failed` (the IdP refused;
 * its OAuth `error` in `oauthError`), `token_response_invalid` (not an ID-JAG), and the transport codes.
 */
export function createIdJagRequester(
  options: IdJagOptions,
): (target: IdJagTarget) => Promise<TokenExchangeResult> {
  const prepared = prepare(options);
  let signer: Promise<JwtSigner> | undefined;
  let discoveredEndpoint: Promise<string> | undefined;

  const tokenEndpoint = (signal: AbortSignal | undefined): Promise<string> => {
    if (prepared.tokenEndpoint !== undefined) return Promise.resolve(prepared.tokenEndpoint);
    const issuer = prepared.issuer!;
    discoveredEndpoint ??= (async () => {
      const found = await discoverAuthorizationServerMetadata(prepared.http, {
        issuer,
        allowLoopbackHttp: isLoopbackHttp(issuer),
        signal,
      });
      if (found === undefined) {
        throw oauthError('discovery_failed', 'identity provider metadata was not found');
      }
      const endpoint = found.metadata.token_endpoint;
      if (endpoint === undefined) {
        throw oauthError('metadata_invalid', 'identity provider metadata has no "token_endpoint"');
      }
      return endpoint;
    })().catch((error: unknown) => {
      discoveredEndpoint = undefined; // a failed discovery is tried again next time
      throw error;
    });
    return discoveredEndpoint;
  };

  const clientAuthentication = async (): Promise<ClientAuthentication> => {
    const client = options.client;
    if (prepared.method === 'private_key_jwt') {
      const key = client.clientKey!;
      signer ??= importSigningKey(key.privateKey, {
        ...(key.algorithm === undefined ? {} : { algorithm: key.algorithm }),
        ...(key.keyId === undefined ? {} : { keyId: key.keyId }),
      }).then(jwtSigner, (error: unknown) => {
        signer = undefined;
        throw error;
      });
    }
    return {
      clientId: client.clientId,
      method: prepared.method,
      clientSecret: client.clientSecret,
      signer: signer === undefined ? undefined : await signer,
      // Without a known IdP issuer, the only audience a client assertion can name is the endpoint.
      ...(prepared.issuer === undefined ? { assertionAudience: 'token_endpoint' as const } : {}),
    };
  };

  return async (target) => {
    if (!isNonEmptyString(target?.issuer))
      throw invalidOptions('the ID-JAG audience (issuer) must be a non-empty string');
    if (!isNonEmptyString(target.resource))
      throw invalidOptions('the ID-JAG resource must be a non-empty string');
    const signal = target.signal;
    const subjectToken = await readIdentityAssertion(options.idToken, signal);
    const endpoint = await tokenEndpoint(signal);
    const result = await requestTokenExchange(prepared.http, {
      tokenEndpoint: endpoint,
      issuer: prepared.issuer ?? endpoint,
      grant: {
        type: 'token_exchange',
        subjectToken,
        subjectTokenType: prepared.subjectTokenType,
        requestedTokenType: TOKEN_TYPE_ID_JAG,
        audience: target.issuer,
        scopes: options.scopes,
      },
      resource: target.resource,
      client: await clientAuthentication(),
      now: prepared.clock(),
      signal,
    });
    assertIdJag(result);
    prepared.http.logger.debug('enterprise.id_jag_issued', {
      audience: target.issuer,
      scopes: result.grantedScopes,
    });
    return result;
  };
}

/** One token exchange for an ID-JAG (see {@link createIdJagRequester}). */
export function requestIdJag(options: IdJagOptions, target: IdJagTarget): Promise<TokenExchangeResult> {
  return createIdJagRequester(options)(target);
}

/**
 * The `assertion` callback for `grant: { type: 'jwt_bearer', assertion }` that obtains a fresh
 * ID-JAG from the identity provider for the issuer and resource the session discovered:
 *
 * ```ts
 * const session = new OAuthSession({
 *   serverUrl,
 *   httpClient,
 *   grant: { type: 'jwt_bearer', assertion: createIdJagAssertion({ httpClient, identityProvider, client, idToken }) },
 *   client: { preRegistered: [{ issuer, clientId, clientSecret }] }, // this client at the MCP authorization server
 * });
 * ```
 */
export function createIdJagAssertion(options: IdJagOptions): JwtBearerAssertionCallback {
  const request = createIdJagRequester(options);
  return async ({ issuer, resource, signal }) => (await request({ issuer, resource, signal })).accessToken;
}
