/**
 * Discovery for MCP servers (MCP 2026-07-28 "Authorization Server Discovery", with the 2025-03-26
 * fallback for servers that publish no Protected Resource Metadata):
 *
 * 1. Protected Resource Metadata (RFC 9728): the `resource_metadata` URL from the 401 challenge,
 *    then the path-inserted well-known URL, then the root one.
 * 2. Authorization server metadata (RFC 8414 / OpenID Connect Discovery) for the chosen issuer, in
 *    the order the MCP revision prescribes, with the issuer check of RFC 8414 §3.3.
 * 3. The PKCE check of the MCP security considerations.
 *
 * Every URL that came from a header or a document is untrusted and passes {@link assertSafeUrl},
 * and may not lead to a more private network than the server that named it
 * ({@link assertNoMorePrivateNetwork}): the `resource_metadata` URL is judged against the MCP
 * server, the listed authorization servers and `jwks_uri` against the resource metadata's URL, and
 * the authorization server's endpoints against its issuer.
 * Messages and log lines carry redacted URLs only, never a response body.
 */
import { isOAuthClientError, type OAuthClientError, oauthError } from './errors.js';
import { type HttpContext, type OAuthHttpResponse, parseJsonObject, sendRequest } from './http.js';
import type { OAuthLogger } from './logger.js';
import { assertNoMorePrivateNetwork } from './network.js';
import type {
  AuthorizationServerMetadata,
  DiscoveredAuthorizationServer,
  MetadataSource,
  ProtectedResourceMetadata,
} from './types.js';
import {
  allowsLoopbackHttp,
  assertSafeUrl,
  authorizationServerMetadataUrls,
  canonicalResourceUrl,
  protectedResourceMetadataUrls,
  redactUrl,
  tryParseUrl,
} from './url.js';

const PRM = 'protected resource metadata';
const AS_METADATA = 'authorization server metadata';

export interface ProtectedResourceDiscovery {
  readonly metadata: ProtectedResourceMetadata;
  /** The URL the document was requested from (before any same-origin redirect). */
  readonly url: string;
}

export interface AuthorizationServerPolicy {
  /** Accept a metadata document whose `issuer` differs from the issuer it was fetched for. */
  readonly allowIssuerMismatch?: boolean;
  /** Proceed (with S256) when the metadata has no `code_challenge_methods_supported`. */
  readonly allowMissingPkceMetadata?: boolean;
  /**
   * Send the RFC 8707 `resource` parameter in authorization, token and refresh requests. The MCP
   * specification requires it; set `false` only for a server that rejects it (Microsoft Entra ID
   * answers `AADSTS901002`).
   * @default true
   */
  readonly sendResource?: boolean;
  /**
   * The server's endpoints, given by hand, for an authorization server that publishes no metadata
   * (GitHub OAuth apps: `https://github.com/login/oauth/authorize` and `…/access_token`). Used only
   * when discovery finds no document; validated like a fetched one.
   */
  readonly metadata?: Readonly<Omit<AuthorizationServerMetadata, 'issuer'>>;
  /**
   * Let this authorization server be on a more private network than the resource metadata that
   * lists it (a public MCP server naming `http://127.0.0.1:9000` or `https://10.0.0.8`), and let its
   * metadata name endpoints more private than its issuer; on a loopback host, http is then allowed
   * too. Off by default: a server's documents never lead the client into a more private network on
   * their own say.
   */
  readonly allowPrivateNetworks?: boolean;
}

export interface DiscoveryResult {
  /** The resource indicator to send (RFC 8707): the PRM's `resource`, or the canonical server URL. */
  readonly resource: string;
  readonly resourceMetadataUrl?: string;
  readonly resourceMetadata?: ProtectedResourceMetadata;
  readonly authorizationServer: DiscoveredAuthorizationServer;
}

/** Picks one of the PRM's `authorization_servers`; `undefined` means "no preference, try in order". */
export type AuthorizationServerSelector = (
  candidates: readonly string[],
  resourceMetadata: ProtectedResourceMetadata,
) => string | undefined | Promise<string | undefined>;

/**
 * The outcome of one well-known request: a JSON object, an answer meaning "nothing here", or a
 * failure worth reporting if no other candidate works.
 */
type FetchOutcome =
  | { readonly kind: 'document'; readonly document: Record<string, unknown> }
  | { readonly kind: 'absent'; readonly status: number }
  | { readonly kind: 'failed'; readonly error: OAuthClientError };

/**
 * A 4xx answer means the document is not served at that URL, which sends discovery on to the next
 * candidate and, when every candidate says so, to the legacy fallback. 408 and 429 are transient
 * and count as failures, as do 5xx and other statuses.
 */
export function isAbsentStatus(status: number): boolean {
  return status >= 400 && status < 500 && status !== 408 && status !== 429;
}

async function fetchMetadataDocument(
  context: HttpContext,
  url: string,
  what: string,
  signal: AbortSignal | undefined,
): Promise<FetchOutcome> {
  let response: OAuthHttpResponse;
  try {
    response = await sendRequest(context, {
      method: 'GET',
      url,
      headers: { accept: 'application/json' },
      redirect: 'same-origin',
      signal,
    });
  } catch (error) {
    if (!isOAuthClientError(error) || error.code === 'aborted') throw error;
    return { kind: 'failed', error };
  }
  if (response.status >= 200 && response.status < 300) {
    try {
      return { kind: 'document', document: parseJsonObject(response, what) };
    } catch (error) {
      if (!isOAuthClientError(error)) throw error;
      return { kind: 'failed', error };
    }
  }
  if (isAbsentStatus(response.status)) return { kind: 'absent', status: response.status };
  return {
    kind: 'failed',
    error: oauthError('http_error', `${what} request answered with HTTP ${response.status}`, {
      status: response.status,
    }),
  };
}

function logFailure(
  logger: OAuthLogger,
  event: 'discovery.prm.failed' | 'discovery.as.failed',
  url: string,
  error: OAuthClientError,
): void {
  logger.debug(event, {
    url: redactUrl(url),
    code: error.code,
    ...(error.status === undefined ? {} : { status: error.status }),
  });
}

/** Issuers carry no query, so they are logged as they are; anything else is redacted. */
function loggableIssuer(issuer: string): string {
  const parsed = tryParseUrl(issuer);
  return parsed !== undefined && parsed.search === '' && parsed.hash === '' ? issuer : redactUrl(issuer);
}

function readString(document: Record<string, unknown>, field: string, what: string): string | undefined {
  const value = document[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw oauthError('metadata_invalid', `${what} "${field}" must be a string`);
  return value;
}

function readStringArray(
  document: Record<string, unknown>,
  field: string,
  what: string,
): readonly string[] | undefined {
  const value = document[field];
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((entry) => typeof entry === 'string')) {
    throw oauthError('metadata_invalid', `${what} "${field}" must be an array of strings`);
  }
  return value as string[];
}

function readBoolean(document: Record<string, unknown>, field: string, what: string): void {
  const value = document[field];
  if (value !== undefined && typeof value !== 'boolean') {
    throw oauthError('metadata_invalid', `${what} "${field}" must be a boolean`);
  }
}

/** Where a document came from, for the private-network rule of its URLs. */
interface DocumentOrigin {
  /** The URL the document was requested from (or the issuer, for authorization server metadata). */
  readonly learnedFrom: URL;
  readonly allowPrivateNetworks: boolean | undefined;
}

function readSafeUrl(
  document: Record<string, unknown>,
  field: string,
  what: string,
  allowLoopbackHttp: boolean,
  origin: DocumentOrigin,
): void {
  const value = readString(document, field, what);
  if (value === undefined) return;
  const url = assertSafeUrl(value, { what: `${what} "${field}"`, allowLoopbackHttp });
  assertNoMorePrivateNetwork(url, { what: `${what} "${field}"`, ...origin });
}

/**
 * http is allowed on a loopback host when the MCP server itself is on loopback http, or when the
 * application allowed private networks for the server concerned (a public MCP server in front of
 * an authorization server on `http://localhost:9000` during development).
 */
function loopbackHttpAllowed(serverUrl: URL, allowPrivateNetworks: boolean | undefined): boolean {
  return allowPrivateNetworks === true || allowsLoopbackHttp(serverUrl);
}

/** `/a/b/` → `/a/b`, `/` → `` — so that a trailing slash never decides a comparison. */
function trimTrailingSlash(path: string): string {
  return path.endsWith('/') ? path.slice(0, -1) : path;
}

/**
 * True when `resource` names the MCP server at `serverUrl`: same origin, and a path equal to the
 * server's or a prefix of it that ends on a segment boundary (`/mcp` covers `/mcp/x`, not `/mcp2`).
 */
function identifiesServer(resource: URL, serverUrl: URL): boolean {
  if (resource.origin !== serverUrl.origin) return false;
  const resourcePath = trimTrailingSlash(resource.pathname);
  const serverPath = trimTrailingSlash(serverUrl.pathname);
  if (resource.search !== '') return resourcePath === serverPath && resource.search === serverUrl.search;
  return resourcePath === '' || serverPath === resourcePath || serverPath.startsWith(`${resourcePath}/`);
}

/**
 * Validates an RFC 9728 document for the MCP server at `serverUrl`. A `resource` that does not
 * identify the server throws `resource_mismatch`; fields of the wrong type throw `metadata_invalid`;
 * an unsafe `jwks_uri`, or one more private than `documentUrl` (default: `serverUrl`), `unsafe_url`.
 * The `authorization_servers` entries are checked for safety when they are used, not here.
 */
export function validateProtectedResourceMetadata(
  document: Record<string, unknown>,
  serverUrl: URL,
  options: {
    /** Hold `resource` to RFC 9728 §3.3 exactly (a document from a `resource_metadata` URL). */
    readonly exact?: boolean;
    /** The URL the document was requested from. */
    readonly documentUrl?: URL | undefined;
    readonly allowPrivateNetworks?: boolean | undefined;
  } = {},
): ProtectedResourceMetadata {
  const resource = document.resource;
  if (typeof resource !== 'string' || resource.length === 0) {
    throw oauthError('metadata_invalid', `${PRM} "resource" must be a non-empty string`);
  }
  const resourceUrl = tryParseUrl(resource);
  if (resourceUrl === undefined || resourceUrl.hash !== '' || !identifiesServer(resourceUrl, serverUrl)) {
    throw oauthError('resource_mismatch', `${PRM} "resource" does not identify this server`);
  }
  // RFC 9728 §3.3: a document found through a `resource_metadata` URL names exactly the URL the
  // request went to (a trailing slash aside). Only the well-known locations, which a tenant of a
  // shared origin does not control, may name a parent of the server URL (an origin-wide resource).
  if (
    options.exact === true &&
    (trimTrailingSlash(resourceUrl.pathname) !== trimTrailingSlash(serverUrl.pathname) ||
      resourceUrl.search !== serverUrl.search)
  ) {
    throw oauthError(
      'resource_mismatch',
      `${PRM} from a "resource_metadata" URL must name exactly this server as "resource" (RFC 9728 §3.3)`,
    );
  }
  for (const field of [
    'authorization_servers',
    'scopes_supported',
    'bearer_methods_supported',
    'resource_signing_alg_values_supported',
    'dpop_signing_alg_values_supported',
    'authorization_details_types_supported',
  ]) {
    readStringArray(document, field, PRM);
  }
  for (const field of [
    'resource_name',
    'resource_documentation',
    'resource_policy_uri',
    'resource_tos_uri',
  ]) {
    readString(document, field, PRM);
  }
  for (const field of [
    'dpop_bound_access_tokens_required',
    'tls_client_certificate_bound_access_tokens',
    'authorization_details_types_supported_required',
  ]) {
    readBoolean(document, field, PRM);
  }
  readSafeUrl(document, 'jwks_uri', PRM, loopbackHttpAllowed(serverUrl, options.allowPrivateNetworks), {
    learnedFrom: options.documentUrl ?? serverUrl,
    allowPrivateNetworks: options.allowPrivateNetworks,
  });
  return { ...document, resource } as ProtectedResourceMetadata;
}

/** Errors in a served document that end discovery at once instead of trying the next candidate. */
const PRM_HARD_STOPS = new Set(['resource_mismatch', 'unsafe_url']);

/**
 * RFC 9728: challenge URL first; otherwise, or when it fails (network error, non-2xx, invalid
 * document), the path-inserted well-known URL, then the root one. Returns undefined when no
 * candidate served a document (all 404/410 or similar "not there" answers) — the caller then uses
 * the 2025-03-26 legacy fallback.
 *
 * Throws `unsafe_url` for an unsafe challenge URL, or one on a more private network than the MCP
 * server unless `allowPrivateNetworks` (before any request), `resource_mismatch` as soon
 * as a document names another resource, and `discovery_failed` (with the last error as `cause`)
 * when no candidate worked and at least one failed for another reason than "not there".
 */
export async function discoverProtectedResource(
  context: HttpContext,
  options: {
    serverUrl: URL;
    resourceMetadataUrl?: string | undefined;
    /** The application's permission to follow URLs into more private networks than the server. */
    allowPrivateNetworks?: boolean | undefined;
    signal?: AbortSignal | undefined;
  },
): Promise<ProtectedResourceDiscovery | undefined> {
  const { serverUrl, allowPrivateNetworks, signal } = options;
  const candidates: string[] = [];
  if (options.resourceMetadataUrl !== undefined) {
    const challengeUrl = assertSafeUrl(options.resourceMetadataUrl, {
      what: 'resource_metadata',
      allowLoopbackHttp: loopbackHttpAllowed(serverUrl, allowPrivateNetworks),
    });
    assertNoMorePrivateNetwork(challengeUrl, {
      what: 'resource_metadata',
      learnedFrom: serverUrl,
      allowPrivateNetworks,
    });
    candidates.push(challengeUrl.href);
  }
  const wellKnown = protectedResourceMetadataUrls(serverUrl);
  for (const url of wellKnown) {
    if (!candidates.includes(url)) candidates.push(url);
  }

  let lastError: OAuthClientError | undefined;
  for (const url of candidates) {
    context.logger.debug('discovery.prm.candidate', { url: redactUrl(url) });
    const outcome = await fetchMetadataDocument(context, url, PRM, signal);
    if (outcome.kind === 'absent') {
      context.logger.debug('discovery.prm.absent', { url: redactUrl(url), status: outcome.status });
      continue;
    }
    if (outcome.kind === 'failed') {
      logFailure(context.logger, 'discovery.prm.failed', url, outcome.error);
      lastError = outcome.error;
      continue;
    }
    try {
      // Only a URL the challenge named (not one of the well-known locations) is held to §3.3 exactly.
      const exact =
        url === candidates[0] && options.resourceMetadataUrl !== undefined && !wellKnown.includes(url);
      const metadata = validateProtectedResourceMetadata(outcome.document, serverUrl, {
        exact,
        documentUrl: new URL(url),
        allowPrivateNetworks,
      });
      context.logger.debug('discovery.prm.found', { url: redactUrl(url) });
      return { metadata, url };
    } catch (error) {
      if (!isOAuthClientError(error) || PRM_HARD_STOPS.has(error.code)) throw error;
      logFailure(context.logger, 'discovery.prm.failed', url, error);
      lastError = error;
    }
  }
  if (lastError === undefined) return undefined;
  throw oauthError('discovery_failed', `${PRM} could not be retrieved`, { cause: lastError });
}

const AS_URL_FIELDS = [
  'authorization_endpoint',
  'token_endpoint',
  'registration_endpoint',
  'revocation_endpoint',
  'introspection_endpoint',
  'jwks_uri',
  'pushed_authorization_request_endpoint',
  'device_authorization_endpoint',
] as const;

const AS_STRING_ARRAY_FIELDS = [
  'scopes_supported',
  'response_types_supported',
  'response_modes_supported',
  'grant_types_supported',
  'code_challenge_methods_supported',
  'token_endpoint_auth_methods_supported',
  'token_endpoint_auth_signing_alg_values_supported',
  'revocation_endpoint_auth_methods_supported',
  'revocation_endpoint_auth_signing_alg_values_supported',
  'introspection_endpoint_auth_methods_supported',
  'introspection_endpoint_auth_signing_alg_values_supported',
  'dpop_signing_alg_values_supported',
] as const;

const AS_BOOLEAN_FIELDS = [
  'authorization_response_iss_parameter_supported',
  'client_id_metadata_document_supported',
  'require_pushed_authorization_requests',
] as const;

/**
 * Validates RFC 8414 / OpenID Connect Discovery metadata. The `issuer` must be identical (plain
 * string comparison, RFC 8414 §3.3) to `expectedIssuer`, else `issuer_mismatch` — unless
 * `allowIssuerMismatch`, which logs `discovery.issuer_mismatch_allowed` and keeps the document's
 * `issuer` as it is. Endpoint URLs must be safe and no more private than `expectedIssuer` unless
 * `allowPrivateNetworks` (`unsafe_url`); mistyped fields throw `metadata_invalid`.
 */
export function validateAuthorizationServerMetadata(
  document: Record<string, unknown>,
  options: {
    expectedIssuer: string;
    allowIssuerMismatch?: boolean | undefined;
    /** Accept an `issuer` on the origin of `expectedIssuer` (see {@link discoverAuthorizationServerMetadata}). */
    acceptSameOriginIssuer?: boolean | undefined;
    allowLoopbackHttp: boolean;
    /** Let endpoints lead to a more private network than `expectedIssuer`. */
    allowPrivateNetworks?: boolean | undefined;
    logger?: OAuthLogger | undefined;
  },
): AuthorizationServerMetadata {
  const expectedIssuerUrl = tryParseUrl(options.expectedIssuer);
  if (expectedIssuerUrl === undefined) {
    throw oauthError('invalid_options', 'the expected issuer must be an absolute URL');
  }
  const issuer = document.issuer;
  if (typeof issuer !== 'string' || issuer.length === 0) {
    throw oauthError('metadata_invalid', `${AS_METADATA} "issuer" must be a non-empty string`);
  }
  if (issuer !== options.expectedIssuer && !acceptedSameOrigin(issuer, options)) {
    if (options.allowIssuerMismatch !== true) {
      throw oauthError(
        'issuer_mismatch',
        `${AS_METADATA} "issuer" is not identical to the issuer it was requested for`,
      );
    }
    options.logger?.warn('discovery.issuer_mismatch_allowed', {
      expected: loggableIssuer(options.expectedIssuer),
      actual: loggableIssuer(issuer),
    });
  }
  const origin = { learnedFrom: expectedIssuerUrl, allowPrivateNetworks: options.allowPrivateNetworks };
  for (const field of AS_URL_FIELDS) {
    readSafeUrl(document, field, AS_METADATA, options.allowLoopbackHttp, origin);
  }
  for (const field of AS_STRING_ARRAY_FIELDS) readStringArray(document, field, AS_METADATA);
  for (const field of AS_BOOLEAN_FIELDS) readBoolean(document, field, AS_METADATA);
  const responseTypes = readStringArray(document, 'response_types_supported', AS_METADATA);
  if (responseTypes !== undefined && !responseTypes.includes('code')) {
    options.logger?.warn('discovery.response_type_code_missing', { issuer: loggableIssuer(issuer) });
  }
  return { ...document, issuer } as AuthorizationServerMetadata;
}

/** A same-origin issuer, when `acceptSameOriginIssuer` allows it (and the issuer has no query). */
function acceptedSameOrigin(
  issuer: string,
  options: { expectedIssuer: string; acceptSameOriginIssuer?: boolean | undefined },
): boolean {
  if (options.acceptSameOriginIssuer !== true) return false;
  const claimed = tryParseUrl(issuer);
  const expected = tryParseUrl(options.expectedIssuer);
  return (
    claimed !== undefined &&
    expected !== undefined &&
    claimed.origin === expected.origin &&
    claimed.search === '' &&
    claimed.hash === ''
  );
}

/**
 * MCP 2026-07-28 security considerations: the client must verify PKCE support from the metadata.
 * A list without `S256` always throws `pkce_unsupported`; an absent list throws too unless
 * `allowMissing`, which logs `discovery.pkce_metadata_missing` (the client still uses S256).
 */
export function assertPkceSupport(
  metadata: AuthorizationServerMetadata,
  options: { allowMissing: boolean; logger: OAuthLogger },
): void {
  const methods = metadata.code_challenge_methods_supported;
  if (methods === undefined) {
    if (!options.allowMissing) {
      throw oauthError(
        'pkce_unsupported',
        `${AS_METADATA} has no "code_challenge_methods_supported", so PKCE support cannot be verified; if this server is known to support S256 (Microsoft Entra ID does), set authorizationServerPolicies["${loggableIssuer(metadata.issuer)}"].allowMissingPkceMetadata`,
      );
    }
    options.logger.warn('discovery.pkce_metadata_missing', { issuer: loggableIssuer(metadata.issuer) });
    return;
  }
  if (!Array.isArray(methods) || !methods.includes('S256')) {
    throw oauthError(
      'pkce_unsupported',
      `${AS_METADATA} "code_challenge_methods_supported" does not include S256`,
    );
  }
}

/** Validation errors that end authorization server discovery instead of trying the next URL. */
const AS_HARD_STOPS = new Set(['issuer_mismatch', 'unsafe_url']);

/**
 * Fetches the metadata of `issuer` from the well-known URLs of the MCP 2026-07-28 revision, in
 * order. Returns `undefined` when every URL answered "not there"; throws `discovery_failed` (cause:
 * the last error) when none worked and one failed otherwise. An `issuer_mismatch` or `unsafe_url`
 * in a served document stops at once. The result's `issuer` is always `issuer` as given, even when
 * `allowIssuerMismatch` let a different `metadata.issuer` through: credentials and tokens stay bound
 * to the identifier the protected resource named, never to one a document claimed.
 *
 * `acceptSameOriginIssuer` is for 2025-03-26 servers, where no resource names an issuer: `issuer`
 * is only the MCP server's origin, and the metadata that origin serves may name an issuer with a
 * path on that same origin (e.g. `https://mcp.example.com/oauth`). That issuer is then the
 * authorization server's identifier and is returned; an issuer on another origin is still
 * `issuer_mismatch`.
 *
 * `learnedFrom` is the URL of the document that named `issuer` (the resource metadata, or the MCP
 * server): the issuer may not be on a more private network than it, nor the endpoints of its
 * metadata on a more private network than the issuer, unless `allowPrivateNetworks`.
 */
export async function discoverAuthorizationServerMetadata(
  context: HttpContext,
  options: {
    issuer: string;
    allowLoopbackHttp: boolean;
    /** Omit only for an issuer the application configured itself. */
    learnedFrom?: URL | undefined;
    allowPrivateNetworks?: boolean | undefined;
    allowIssuerMismatch?: boolean | undefined;
    acceptSameOriginIssuer?: boolean | undefined;
    signal?: AbortSignal | undefined;
  },
): Promise<DiscoveredAuthorizationServer | undefined> {
  const { issuer, allowLoopbackHttp, allowPrivateNetworks, signal } = options;
  const issuerUrl = assertSafeUrl(issuer, { what: 'authorization server issuer', allowLoopbackHttp });
  if (options.learnedFrom !== undefined) {
    assertNoMorePrivateNetwork(issuerUrl, {
      what: 'authorization server issuer',
      learnedFrom: options.learnedFrom,
      allowPrivateNetworks,
    });
  }
  if (issuerUrl.search !== '') {
    throw oauthError('metadata_invalid', 'authorization server issuer must not contain a query');
  }
  let lastError: OAuthClientError | undefined;
  for (const url of authorizationServerMetadataUrls(issuerUrl)) {
    const source: MetadataSource = url.includes('/.well-known/oauth-authorization-server')
      ? 'oauth'
      : 'openid';
    context.logger.debug('discovery.as.candidate', { url: redactUrl(url) });
    const outcome = await fetchMetadataDocument(context, url, AS_METADATA, signal);
    if (outcome.kind === 'absent') {
      context.logger.debug('discovery.as.absent', { url: redactUrl(url), status: outcome.status });
      continue;
    }
    if (outcome.kind === 'failed') {
      logFailure(context.logger, 'discovery.as.failed', url, outcome.error);
      lastError = outcome.error;
      continue;
    }
    try {
      const metadata = validateAuthorizationServerMetadata(outcome.document, {
        expectedIssuer: issuer,
        allowIssuerMismatch: options.allowIssuerMismatch,
        acceptSameOriginIssuer: options.acceptSameOriginIssuer,
        allowLoopbackHttp,
        allowPrivateNetworks,
        logger: context.logger,
      });
      const identified = acceptedSameOrigin(metadata.issuer, {
        expectedIssuer: issuer,
        acceptSameOriginIssuer: options.acceptSameOriginIssuer,
      })
        ? metadata.issuer
        : issuer;
      if (identified !== issuer) {
        context.logger.debug('discovery.legacy_issuer_accepted', { issuer: loggableIssuer(identified) });
      }
      context.logger.debug('discovery.as.found', {
        url: redactUrl(url),
        issuer: loggableIssuer(identified),
        source,
      });
      return { issuer: identified, metadata, source };
    } catch (error) {
      if (!isOAuthClientError(error) || AS_HARD_STOPS.has(error.code)) throw error;
      logFailure(context.logger, 'discovery.as.failed', url, error);
      lastError = error;
    }
  }
  if (lastError === undefined) return undefined;
  throw oauthError('discovery_failed', `${AS_METADATA} could not be retrieved`, { cause: lastError });
}

/** The 2025-03-26 default endpoints for a server that publishes no metadata at all. */
function fallbackMetadata(origin: string): AuthorizationServerMetadata {
  return {
    issuer: origin,
    authorization_endpoint: `${origin}/authorize`,
    token_endpoint: `${origin}/token`,
    registration_endpoint: `${origin}/register`,
    code_challenge_methods_supported: ['S256'],
  };
}

/**
 * Applies the PKCE check with the issuer's policy. When the policy let absent metadata through, the
 * returned metadata lists `S256`, the method the client uses, so later steps need no policy.
 */
function applyPkcePolicy(
  found: DiscoveredAuthorizationServer,
  policy: AuthorizationServerPolicy | undefined,
  logger: OAuthLogger,
): DiscoveredAuthorizationServer {
  const allowMissing = policy?.allowMissingPkceMetadata === true;
  assertPkceSupport(found.metadata, { allowMissing, logger });
  if (found.metadata.code_challenge_methods_supported !== undefined) return found;
  return { ...found, metadata: { ...found.metadata, code_challenge_methods_supported: ['S256'] } };
}

/**
 * The metadata a policy gives by hand, validated as if it had been fetched — except for the
 * private-network rule, which is about what servers say: these endpoints are the application's.
 */
function configuredServer(
  issuer: string,
  policy: AuthorizationServerPolicy | undefined,
  allowLoopbackHttp: boolean,
): DiscoveredAuthorizationServer | undefined {
  if (policy?.metadata === undefined) return undefined;
  const metadata = validateAuthorizationServerMetadata(
    { ...(policy.metadata as Record<string, unknown>), issuer },
    { expectedIssuer: issuer, allowLoopbackHttp, allowPrivateNetworks: true },
  );
  return { issuer, metadata, source: 'configured' };
}

async function resolveAuthorizationServer(
  context: HttpContext,
  issuer: string,
  options: {
    serverUrl: URL;
    /** The URL of the resource metadata that listed `issuer`. */
    listedBy: URL;
    allowPrivateNetworks: boolean | undefined;
    policyFor?: ((issuer: string) => AuthorizationServerPolicy | undefined) | undefined;
    signal?: AbortSignal | undefined;
  },
): Promise<DiscoveredAuthorizationServer> {
  const policy = options.policyFor?.(issuer);
  const allowPrivateNetworks = options.allowPrivateNetworks === true || policy?.allowPrivateNetworks === true;
  const allowLoopbackHttp = loopbackHttpAllowed(options.serverUrl, allowPrivateNetworks);
  const found = await discoverAuthorizationServerMetadata(context, {
    issuer,
    allowLoopbackHttp,
    learnedFrom: options.listedBy,
    allowPrivateNetworks,
    allowIssuerMismatch: policy?.allowIssuerMismatch,
    signal: options.signal,
  });
  if (found === undefined) {
    const configured = configuredServer(issuer, policy, allowLoopbackHttp);
    if (configured !== undefined) return applyPkcePolicy(configured, policy, context.logger);
    throw oauthError(
      'discovery_failed',
      `${AS_METADATA} was not found for ${loggableIssuer(issuer)} (tried ${authorizationServerMetadataUrls(new URL(issuer)).map(redactUrl).join(', ')}); for a server that publishes none, give its endpoints in authorizationServerPolicies["${loggableIssuer(issuer)}"].metadata`,
    );
  }
  return applyPkcePolicy(found, policy, context.logger);
}

/**
 * Full discovery for one MCP server. With Protected Resource Metadata, the authorization server is
 * the selector's choice or the first listed one whose metadata is found and passes validation and
 * the PKCE check. Without it (2025-03-26 servers), the authorization server is the server's origin
 * (its metadata may name an issuer with a path on that origin), and when that publishes no metadata
 * either, the default `/authorize`, `/token` and `/register` endpoints are used.
 *
 * With one candidate its error is thrown as it is (`issuer_mismatch`, `unsafe_url`,
 * `pkce_unsupported`, …); with several, a `discovery_failed` carries the last one as `cause`.
 *
 * No URL a document names may lead to a more private network than the server that named it
 * (`unsafe_url`), unless `allowPrivateNetworks` (every URL of this discovery) or the policy of the
 * authorization server concerned (its issuer and its endpoints) allows it.
 */
export async function discover(
  context: HttpContext,
  options: {
    serverUrl: URL;
    resourceMetadataUrl?: string | undefined;
    selectAuthorizationServer?: AuthorizationServerSelector | undefined;
    policyFor?: ((issuer: string) => AuthorizationServerPolicy | undefined) | undefined;
    /** The application's permission to follow URLs into more private networks, for this server. */
    allowPrivateNetworks?: boolean | undefined;
    signal?: AbortSignal | undefined;
  },
): Promise<DiscoveryResult> {
  const { serverUrl, allowPrivateNetworks, signal } = options;
  const protectedResource = await discoverProtectedResource(context, {
    serverUrl,
    resourceMetadataUrl: options.resourceMetadataUrl,
    allowPrivateNetworks,
    signal,
  });

  if (protectedResource === undefined) {
    context.logger.debug('discovery.legacy_fallback', { serverUrl: redactUrl(serverUrl) });
    const origin = serverUrl.origin;
    const policy = options.policyFor?.(origin);
    const allowPrivate = allowPrivateNetworks === true || policy?.allowPrivateNetworks === true;
    const found = await discoverAuthorizationServerMetadata(context, {
      issuer: origin,
      allowLoopbackHttp: loopbackHttpAllowed(serverUrl, allowPrivate),
      learnedFrom: serverUrl,
      allowPrivateNetworks: allowPrivate,
      allowIssuerMismatch: policy?.allowIssuerMismatch,
      acceptSameOriginIssuer: true,
      signal,
    });
    let authorizationServer: DiscoveredAuthorizationServer;
    const configured =
      found === undefined
        ? configuredServer(origin, policy, loopbackHttpAllowed(serverUrl, allowPrivate))
        : undefined;
    if (configured !== undefined) {
      authorizationServer = applyPkcePolicy(configured, policy, context.logger);
    } else if (found === undefined) {
      context.logger.debug('discovery.as.default_endpoints', { issuer: origin });
      authorizationServer = { issuer: origin, metadata: fallbackMetadata(origin), source: 'fallback' };
    } else {
      authorizationServer = applyPkcePolicy(found, policy, context.logger);
    }
    return { resource: canonicalResourceUrl(serverUrl), authorizationServer };
  }

  const { metadata: resourceMetadata, url: resourceMetadataUrl } = protectedResource;
  const listed = resourceMetadata.authorization_servers ?? [];
  if (listed.length === 0) {
    throw oauthError(
      'discovery_failed',
      `${PRM} "authorization_servers" must list at least one authorization server`,
    );
  }
  let candidates: readonly string[] = listed;
  if (options.selectAuthorizationServer !== undefined) {
    const choice = await options.selectAuthorizationServer([...listed], resourceMetadata);
    if (choice !== undefined) {
      if (!listed.includes(choice)) {
        throw oauthError(
          'invalid_options',
          `"selectAuthorizationServer" must return one of the protected resource's "authorization_servers"`,
        );
      }
      candidates = [choice];
    }
  }

  let lastError: OAuthClientError | undefined;
  for (const issuer of candidates) {
    try {
      const authorizationServer = await resolveAuthorizationServer(context, issuer, {
        serverUrl,
        listedBy: new URL(resourceMetadataUrl),
        allowPrivateNetworks,
        policyFor: options.policyFor,
        signal,
      });
      return {
        resource: resourceMetadata.resource,
        resourceMetadataUrl,
        resourceMetadata,
        authorizationServer,
      };
    } catch (error) {
      if (!isOAuthClientError(error) || error.code === 'aborted' || candidates.length === 1) throw error;
      context.logger.debug('discovery.as.rejected', { issuer: loggableIssuer(issuer), code: error.code });
      lastError = error;
    }
  }
  throw oauthError('discovery_failed', 'none of the listed authorization servers could be used', {
    cause: lastError,
  });
}
