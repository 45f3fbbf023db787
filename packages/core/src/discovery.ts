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
import {
  invalidField,
  invalidOption,
  isOAuthClientError,
  type OAuthClientError,
  oauthError,
} from './errors.js';
import { type HttpContext, parseJsonObject, sendRequest } from './http.js';
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
  displayIssuer,
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
 * A 4xx answer means the document is not served at that URL, which sends discovery on to the next
 * candidate and, when every candidate says so, to the legacy fallback. 408 and 429 are transient
 * and count as failures, as do 5xx and other statuses.
 */
export function isAbsentStatus(status: number): boolean {
  return status >= 400 && status < 500 && status !== 408 && status !== 429;
}

/**
 * Tries `candidates` in order: the first served document that `validate` accepts wins. A "not
 * there" answer moves on; a failure (transport, status, invalid document) is remembered and moves
 * on, except the `hardStops` codes and `aborted`, which end discovery. `undefined` when every
 * candidate was absent; `discovery_failed` (cause: the last failure) when one failed otherwise.
 */
async function firstDocument<T>(
  context: HttpContext,
  kind: 'prm' | 'as',
  candidates: readonly string[],
  signal: AbortSignal | undefined,
  hardStops: readonly string[],
  validate: (document: Record<string, unknown>, url: string) => T,
): Promise<T | undefined> {
  const what = kind === 'prm' ? PRM : AS_METADATA;
  const { logger } = context;
  let lastError: OAuthClientError | undefined;
  for (const url of candidates) {
    const shown = redactUrl(url);
    logger.debug(`discovery.${kind}.candidate`, { url: shown });
    try {
      const response = await sendRequest(context, {
        method: 'GET',
        url,
        headers: { accept: 'application/json' },
        redirect: 'same-origin',
        signal,
      });
      const { status } = response;
      if (isAbsentStatus(status)) {
        logger.debug(`discovery.${kind}.absent`, { url: shown, status });
        continue;
      }
      if (status < 200 || status > 299) {
        throw oauthError('http_error', `${what} request answered with HTTP ${status}`, { status });
      }
      const result = validate(parseJsonObject(response, what), url);
      logger.debug(`discovery.${kind}.found`, { url: shown });
      return result;
    } catch (error) {
      if (!isOAuthClientError(error) || error.code === 'aborted' || hardStops.includes(error.code))
        throw error;
      logger.debug(`discovery.${kind}.failed`, { url: shown, code: error.code, status: error.status });
      lastError = error;
    }
  }
  if (lastError === undefined) return undefined;
  throw oauthError('discovery_failed', `${what} could not be retrieved`, { cause: lastError });
}

const isString = (value: unknown) => typeof value === 'string';

/** What each kind of member must be. */
const MEMBER_RULES = {
  strings: [isString, 'must be a string'],
  urls: [isString, 'must be a string'],
  lists: [(value: unknown) => Array.isArray(value) && value.every(isString), 'must be an array of strings'],
  flags: [(value: unknown) => typeof value === 'boolean', 'must be a boolean'],
} as const;

/** Where a document came from, for the rules its URLs are held to. */
interface DocumentOrigin {
  /** The URL the document was requested from (or the issuer, for authorization server metadata). */
  readonly learnedFrom: URL;
  readonly allowPrivateNetworks?: boolean | undefined;
  readonly allowLoopbackHttp: boolean;
}

/**
 * Checks the members of a metadata document, kind by kind in the order given: `strings` string
 * values, `lists` arrays of strings, `flags` booleans, `urls` safe URLs no more private than where
 * the document came from. Absent members pass; a mistyped one is `metadata_invalid` naming it, an
 * unsafe URL `unsafe_url`.
 */
function checkMembers(
  document: Record<string, unknown>,
  what: string,
  members: Partial<Record<keyof typeof MEMBER_RULES, readonly string[]>>,
  origin: DocumentOrigin,
): void {
  for (const [kind, fields] of Object.entries(members)) {
    const [valid, rule] = MEMBER_RULES[kind as keyof typeof MEMBER_RULES];
    for (const field of fields) {
      const value = document[field];
      if (value === undefined) continue;
      if (!valid(value)) throw invalidField('metadata_invalid', what, field, rule);
      if (kind === 'urls') {
        const named = `${what} "${field}"`;
        assertNoMorePrivateNetwork(assertSafeUrl(value, { ...origin, what: named }), {
          ...origin,
          what: named,
        });
      }
    }
  }
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
  return path.replace(/\/$/, '');
}

/**
 * Validates an RFC 9728 document for the MCP server at `serverUrl`. A `resource` that does not
 * identify the server throws `resource_mismatch`: same origin, and a path equal to the server's or
 * a prefix of it that ends on a segment boundary (`/mcp` covers `/mcp/x`, not `/mcp2`); with
 * `exact` (a document from a `resource_metadata` URL, RFC 9728 §3.3) exactly the server's path and
 * query. Fields of the wrong type throw `metadata_invalid`; an unsafe `jwks_uri`, or one more
 * private than `documentUrl` (default: `serverUrl`), `unsafe_url`. The `authorization_servers`
 * entries are checked for safety when they are used, not here.
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
  if (typeof resource !== 'string' || resource === '') {
    throw invalidField('metadata_invalid', PRM, 'resource', 'must be a non-empty string');
  }
  const resourceUrl = tryParseUrl(resource);
  const resourcePath = trimTrailingSlash(resourceUrl?.pathname ?? '');
  const serverPath = trimTrailingSlash(serverUrl.pathname);
  const samePath = resourcePath === serverPath && resourceUrl?.search === serverUrl.search;
  if (
    resourceUrl?.origin !== serverUrl.origin ||
    resourceUrl.hash !== '' ||
    !(resourceUrl.search === ''
      ? resourcePath === '' || serverPath === resourcePath || serverPath.startsWith(`${resourcePath}/`)
      : samePath)
  ) {
    throw invalidField('resource_mismatch', PRM, 'resource', 'does not identify this server');
  }
  // RFC 9728 §3.3: a document found through a `resource_metadata` URL names exactly the URL the
  // request went to (a trailing slash aside). Only the well-known locations, which a tenant of a
  // shared origin does not control, may name a parent of the server URL (an origin-wide resource).
  if (options.exact === true && !samePath) {
    throw invalidField(
      'resource_mismatch',
      `${PRM} from a "resource_metadata" URL`,
      'resource',
      'must name exactly this server (RFC 9728 §3.3)',
    );
  }
  checkMembers(
    document,
    PRM,
    {
      lists: [
        'authorization_servers',
        'scopes_supported',
        'bearer_methods_supported',
        'resource_signing_alg_values_supported',
        'dpop_signing_alg_values_supported',
        'authorization_details_types_supported',
      ],
      strings: ['resource_name', 'resource_documentation', 'resource_policy_uri', 'resource_tos_uri'],
      flags: [
        'dpop_bound_access_tokens_required',
        'tls_client_certificate_bound_access_tokens',
        'authorization_details_types_supported_required',
      ],
      urls: ['jwks_uri'],
    },
    {
      learnedFrom: options.documentUrl ?? serverUrl,
      allowPrivateNetworks: options.allowPrivateNetworks,
      allowLoopbackHttp: loopbackHttpAllowed(serverUrl, options.allowPrivateNetworks),
    },
  );
  return { ...document, resource } as ProtectedResourceMetadata;
}

/**
 * RFC 9728: challenge URL first; otherwise, or when it fails (network error, non-2xx, invalid
 * document), the path-inserted well-known URL, then the root one. Returns undefined when no
 * candidate served a document (all 404/410 or similar "not there" answers) — the caller then uses
 * the 2025-03-26 legacy fallback.
 *
 * Throws `unsafe_url` for an unsafe challenge URL, or one on a more private network than the MCP
 * server unless `allowPrivateNetworks` (before any request), `resource_mismatch` as soon as a
 * document names another resource, and `discovery_failed` (with the last error as `cause`) when no
 * candidate worked and at least one failed for another reason than "not there".
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
  const { serverUrl, resourceMetadataUrl, allowPrivateNetworks } = options;
  const wellKnown = protectedResourceMetadataUrls(serverUrl);
  let challengeUrl: string | undefined;
  if (resourceMetadataUrl !== undefined) {
    const rule = {
      what: 'resource_metadata',
      learnedFrom: serverUrl,
      allowPrivateNetworks,
      allowLoopbackHttp: loopbackHttpAllowed(serverUrl, allowPrivateNetworks),
    };
    const url = assertSafeUrl(resourceMetadataUrl, rule);
    assertNoMorePrivateNetwork(url, rule);
    challengeUrl = url.href;
  }
  // Only a URL the challenge named (not one of the well-known locations) is held to §3.3 exactly.
  const candidates = [...new Set([...(challengeUrl === undefined ? [] : [challengeUrl]), ...wellKnown])];
  return firstDocument(
    context,
    'prm',
    candidates,
    options.signal,
    ['resource_mismatch', 'unsafe_url'],
    (document, url) => ({
      metadata: validateProtectedResourceMetadata(document, serverUrl, {
        exact: url === challengeUrl && !wellKnown.includes(url),
        documentUrl: new URL(url),
        allowPrivateNetworks,
      }),
      url,
    }),
  );
}

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
  const learnedFrom = tryParseUrl(options.expectedIssuer);
  if (learnedFrom === undefined) throw invalidOption('expectedIssuer', 'must be an absolute URL');
  const issuer = document.issuer;
  if (typeof issuer !== 'string' || issuer === '') {
    throw invalidField('metadata_invalid', AS_METADATA, 'issuer', 'must be a non-empty string');
  }
  if (issuer !== options.expectedIssuer && !acceptedSameOrigin(issuer, options)) {
    if (options.allowIssuerMismatch !== true) {
      throw invalidField(
        'issuer_mismatch',
        AS_METADATA,
        'issuer',
        'is not identical to the issuer it was requested for',
      );
    }
    options.logger?.warn('discovery.issuer_mismatch_allowed', {
      expected: displayIssuer(options.expectedIssuer),
      actual: displayIssuer(issuer),
    });
  }
  checkMembers(
    document,
    AS_METADATA,
    {
      urls: [
        'authorization_endpoint',
        'token_endpoint',
        'registration_endpoint',
        'revocation_endpoint',
        'introspection_endpoint',
        'jwks_uri',
        'pushed_authorization_request_endpoint',
        'device_authorization_endpoint',
      ],
      lists: [
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
      ],
      flags: [
        'authorization_response_iss_parameter_supported',
        'client_id_metadata_document_supported',
        'require_pushed_authorization_requests',
      ],
    },
    { ...options, learnedFrom },
  );
  const responseTypes = document.response_types_supported as readonly string[] | undefined;
  if (responseTypes !== undefined && !responseTypes.includes('code')) {
    options.logger?.warn('discovery.response_type_code_missing', { issuer: displayIssuer(issuer) });
  }
  return { ...document, issuer } as AuthorizationServerMetadata;
}

/** A same-origin issuer, when `acceptSameOriginIssuer` allows it (and the issuer has no query). */
function acceptedSameOrigin(
  issuer: string,
  options: { expectedIssuer: string; acceptSameOriginIssuer?: boolean | undefined },
): boolean {
  const claimed = tryParseUrl(issuer);
  return (
    options.acceptSameOriginIssuer === true &&
    claimed?.origin === tryParseUrl(options.expectedIssuer)?.origin &&
    claimed?.search === '' &&
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
  const issuer = displayIssuer(metadata.issuer);
  if (methods === undefined) {
    if (!options.allowMissing) {
      throw invalidField(
        'pkce_unsupported',
        AS_METADATA,
        'code_challenge_methods_supported',
        `is missing, so PKCE support cannot be verified; for a server known to support S256 (Microsoft Entra ID), set authorizationServerPolicies["${issuer}"].allowMissingPkceMetadata`,
      );
    }
    options.logger.warn('discovery.pkce_metadata_missing', { issuer });
  } else if (!Array.isArray(methods) || !methods.includes('S256')) {
    throw invalidField('pkce_unsupported', AS_METADATA, 'code_challenge_methods_supported', 'lacks S256');
  }
}

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
  const { issuer, learnedFrom } = options;
  const rule = { ...options, what: 'authorization server issuer' };
  const issuerUrl = assertSafeUrl(issuer, rule);
  if (learnedFrom !== undefined) assertNoMorePrivateNetwork(issuerUrl, { ...rule, learnedFrom });
  if (issuerUrl.search !== '') {
    throw oauthError('metadata_invalid', 'authorization server issuer must not contain a query');
  }
  return firstDocument(
    context,
    'as',
    authorizationServerMetadataUrls(issuerUrl),
    options.signal,
    ['issuer_mismatch', 'unsafe_url'],
    (document, url) => {
      const metadata = validateAuthorizationServerMetadata(document, {
        ...options,
        expectedIssuer: issuer,
        logger: context.logger,
      });
      const identified = acceptedSameOrigin(metadata.issuer, { ...options, expectedIssuer: issuer })
        ? metadata.issuer
        : issuer;
      if (identified !== issuer) {
        context.logger.debug('discovery.legacy_issuer_accepted', { issuer: displayIssuer(identified) });
      }
      const source: MetadataSource = url.includes('/.well-known/oauth-authorization-server')
        ? 'oauth'
        : 'openid';
      context.logger.debug('discovery.as.found', {
        url: redactUrl(url),
        issuer: displayIssuer(identified),
        source,
      });
      return { issuer: identified, metadata, source };
    },
  );
}

/**
 * The authorization server for `issuer`: its discovered metadata; else the endpoints its policy
 * gives by hand, validated as if fetched; else `fallback`. The PKCE check applies to both (with
 * the policy's `allowMissingPkceMetadata`); when the policy let absent metadata through, the
 * result lists `S256`, the method the client uses, so later steps need no policy.
 */
async function resolveAuthorizationServer(
  context: HttpContext,
  issuer: string,
  options: {
    serverUrl: URL;
    policyFor?: ((issuer: string) => AuthorizationServerPolicy | undefined) | undefined;
    allowPrivateNetworks?: boolean | undefined;
    signal?: AbortSignal | undefined;
    acceptSameOriginIssuer?: boolean;
  },
  /** The URL of the document that named `issuer`: the resource metadata, or the MCP server. */
  learnedFrom: URL,
  fallback: () => DiscoveredAuthorizationServer,
): Promise<DiscoveredAuthorizationServer> {
  const policy = options.policyFor?.(issuer);
  const allowPrivateNetworks = options.allowPrivateNetworks === true || policy?.allowPrivateNetworks === true;
  const allowLoopbackHttp = loopbackHttpAllowed(options.serverUrl, allowPrivateNetworks);
  let found = await discoverAuthorizationServerMetadata(context, {
    issuer,
    allowLoopbackHttp,
    learnedFrom,
    allowPrivateNetworks,
    allowIssuerMismatch: policy?.allowIssuerMismatch,
    acceptSameOriginIssuer: options.acceptSameOriginIssuer,
    signal: options.signal,
  });
  if (found === undefined && policy?.metadata !== undefined) {
    // Validated as if fetched — except for the private-network rule, which is about what servers
    // say: these endpoints are the application's.
    found = {
      issuer,
      metadata: validateAuthorizationServerMetadata(
        { ...(policy.metadata as Record<string, unknown>), issuer },
        { expectedIssuer: issuer, allowLoopbackHttp, allowPrivateNetworks: true },
      ),
      source: 'configured',
    };
  }
  if (found === undefined) return fallback();
  assertPkceSupport(found.metadata, {
    allowMissing: policy?.allowMissingPkceMetadata === true,
    logger: context.logger,
  });
  const { metadata } = found;
  return metadata.code_challenge_methods_supported === undefined
    ? { ...found, metadata: { ...metadata, code_challenge_methods_supported: ['S256'] } }
    : found;
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
  const { serverUrl } = options;
  const { logger } = context;
  const protectedResource = await discoverProtectedResource(context, options);

  if (protectedResource === undefined) {
    logger.debug('discovery.legacy_fallback', { serverUrl: redactUrl(serverUrl) });
    const origin = serverUrl.origin;
    const authorizationServer = await resolveAuthorizationServer(
      context,
      origin,
      { ...options, acceptSameOriginIssuer: true },
      serverUrl,
      () => {
        // The 2025-03-26 default endpoints for a server that publishes no metadata at all.
        logger.debug('discovery.as.default_endpoints', { issuer: origin });
        return {
          issuer: origin,
          metadata: {
            issuer: origin,
            authorization_endpoint: `${origin}/authorize`,
            token_endpoint: `${origin}/token`,
            registration_endpoint: `${origin}/register`,
            code_challenge_methods_supported: ['S256'],
          },
          source: 'fallback',
        };
      },
    );
    return { resource: canonicalResourceUrl(serverUrl), authorizationServer };
  }

  const { metadata: resourceMetadata, url: resourceMetadataUrl } = protectedResource;
  const listed = resourceMetadata.authorization_servers ?? [];
  if (listed.length === 0) {
    throw invalidField('discovery_failed', PRM, 'authorization_servers', 'lists no authorization server');
  }
  let candidates: readonly string[] = listed;
  const choice = await options.selectAuthorizationServer?.([...listed], resourceMetadata);
  if (choice !== undefined) {
    if (!listed.includes(choice)) {
      throw invalidOption(
        'selectAuthorizationServer',
        `must return one of the protected resource's "authorization_servers"`,
      );
    }
    candidates = [choice];
  }

  let lastError: OAuthClientError | undefined;
  for (const issuer of candidates) {
    try {
      const authorizationServer = await resolveAuthorizationServer(
        context,
        issuer,
        options,
        new URL(resourceMetadataUrl),
        () => {
          throw oauthError(
            'discovery_failed',
            `${AS_METADATA} was not found for ${displayIssuer(issuer)} (tried ${authorizationServerMetadataUrls(new URL(issuer)).map(redactUrl).join(', ')}); for a server that publishes none, set authorizationServerPolicies["${displayIssuer(issuer)}"].metadata`,
          );
        },
      );
      return {
        resource: resourceMetadata.resource,
        resourceMetadataUrl,
        resourceMetadata,
        authorizationServer,
      };
    } catch (error) {
      if (!isOAuthClientError(error) || error.code === 'aborted' || candidates.length === 1) throw error;
      logger.debug('discovery.as.rejected', { issuer: displayIssuer(issuer), code: error.code });
      lastError = error;
    }
  }
  throw oauthError('discovery_failed', 'none of the listed authorization servers could be used', {
    cause: lastError,
  });
}
