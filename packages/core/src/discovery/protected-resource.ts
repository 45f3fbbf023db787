/** Protected Resource Metadata (RFC 9728): validation, and discovery from the challenge and well-known URLs. */
import { invalidField } from '../errors.js';
import type { HttpContext } from '../http.js';
import type { ProtectedResourceMetadata } from '../types.js';
import { assertNamedUrl, protectedResourceMetadataUrls, redactUrl, tryParseUrl } from '../url.js';
import { checkMembers, firstDocument, loopbackHttpAllowed, PRM } from './documents.js';
export interface ProtectedResourceDiscovery {
  readonly metadata: ProtectedResourceMetadata;
  /** The URL the document was requested from (before any same-origin redirect). */
  readonly url: string;
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
    challengeUrl = assertNamedUrl(resourceMetadataUrl, rule).href;
  }
  // Only a URL the challenge named (not one of the well-known locations) is held to §3.3 exactly.
  const candidates = [...new Set([...(challengeUrl === undefined ? [] : [challengeUrl]), ...wellKnown])];
  return firstDocument(
    context,
    'prm',
    candidates,
    options.signal,
    ['resource_mismatch', 'unsafe_url'],
    (document, url) => {
      const metadata = validateProtectedResourceMetadata(document, serverUrl, {
        exact: url === challengeUrl && !wellKnown.includes(url),
        documentUrl: new URL(url),
        allowPrivateNetworks,
      });
      context.logger.debug('discovery.prm.found', { url: redactUrl(url) });
      return { metadata, url };
    },
  );
}
