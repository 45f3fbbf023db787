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
} from '../errors.js';
import type { HttpContext } from '../http.js';
import type {
  AuthorizationServerMetadata,
  DiscoveredAuthorizationServer,
  ProtectedResourceMetadata,
} from '../types.js';
import { authorizationServerMetadataUrls, canonicalResourceUrl, displayIssuer, redactUrl } from '../url.js';
import {
  assertPkceSupport,
  discoverAuthorizationServerMetadata,
  validateAuthorizationServerMetadata,
} from './authorization-server.js';
import { AS_METADATA, loopbackHttpAllowed, PRM } from './documents.js';
import { discoverProtectedResource } from './protected-resource.js';

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
