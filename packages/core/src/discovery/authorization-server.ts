/**
 * Authorization server metadata (RFC 8414 / OpenID Connect Discovery): validation with the issuer
 * check, the PKCE check, and discovery at the well-known URLs in the order of the MCP revision.
 */
import { invalidField, invalidOption, oauthError } from '../errors.js';
import type { HttpContext } from '../http.js';
import type { OAuthLogger } from '../logger.js';
import { assertNoMorePrivateNetwork } from '../network.js';
import type { AuthorizationServerMetadata, DiscoveredAuthorizationServer, MetadataSource } from '../types.js';
import {
  assertSafeUrl,
  authorizationServerMetadataUrls,
  displayIssuer,
  redactUrl,
  tryParseUrl,
} from '../url.js';
import { AS_METADATA, checkMembers, firstDocument } from './documents.js';
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
export function acceptedSameOrigin(
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
