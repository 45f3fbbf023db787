/**
 * The authorization request (OAuth 2.1 §4.1.1) of the authorization code flow, with PKCE S256,
 * `state`, RFC 8707 `resource` and, when DPoP is used, RFC 9449 §10 `dpop_jkt`.
 *
 * Building the request is pure apart from randomness: it returns the URL to send the user to and
 * the record to keep (keyed by `state`) until the callback arrives.
 */
import { invalidField, type OAuthClientErrorCode } from './errors.js';
import { isNonEmptyString } from './fields.js';
import { computeCodeChallenge, generateCodeVerifier, generateState } from './pkce.js';
import { isScopeToken } from './scopes.js';
import type { AuthorizationServerMetadata, PendingAuthorization } from './types.js';
import { assertSafeUrl, tryParseUrl } from './url.js';

export interface AuthorizationRequestInput {
  readonly metadata: AuthorizationServerMetadata;
  readonly clientId: string;
  readonly redirectUri: string;
  readonly scopes: readonly string[];
  /** The canonical URI of the MCP server, sent exactly as given (RFC 8707); `undefined` leaves it out. */
  readonly resource: string | undefined;
  readonly serverUrl: string;
  /** Milliseconds since the epoch. */
  readonly now: number;
  /** How long the pending authorization stays valid, in milliseconds. */
  readonly ttlMs: number;
  /** Further parameters (for example `prompt`); they can never replace the ones this function sets. */
  readonly extraParameters?: Readonly<Record<string, string>> | undefined;
  /** RFC 7638 SHA-256 thumbprint of the DPoP key, to bind the authorization code to it. */
  readonly dpopJkt?: string | undefined;
}

export interface AuthorizationRequest {
  /** Where to send the user. It carries `state`; do not log it. */
  readonly url: string;
  readonly pending: PendingAuthorization;
}

/**
 * Parameters that `extraParameters` may not set: the ones this function sends, plus `request` and
 * `request_uri`, which would let a request object (RFC 9101) replace all of them.
 */
export const RESERVED_AUTHORIZATION_PARAMETERS: ReadonlySet<string> = new Set([
  'response_type',
  'client_id',
  'redirect_uri',
  'scope',
  'state',
  'code_challenge',
  'code_challenge_method',
  'resource',
  'dpop_jkt',
  'request',
  'request_uri',
]);

/** An RFC 7638 SHA-256 thumbprint: 32 bytes as unpadded base64url. */
const SHA256_THUMBPRINT = /^[A-Za-z0-9_-]{43}$/;

const invalid = (field: string, rule: string) =>
  invalidField('invalid_options', 'authorization request', field, rule);
const invalidMetadata = (field: string, rule: string, code: OAuthClientErrorCode = 'metadata_invalid') =>
  invalidField(code, 'authorization server metadata', field, rule);

function assertNonEmptyString(value: unknown, field: string): asserts value is string {
  if (!isNonEmptyString(value)) throw invalid(field, 'must be a non-empty string');
}

function assertAbsoluteUrlWithoutFragment(value: string, field: string): void {
  const url = tryParseUrl(value);
  if (url === undefined) throw invalid(field, 'must be an absolute URL');
  if (url.hash !== '' || value.includes('#')) throw invalid(field, 'must not contain a fragment');
}

export async function createAuthorizationRequest(
  input: AuthorizationRequestInput,
): Promise<AuthorizationRequest> {
  const {
    metadata,
    extraParameters,
    dpopJkt,
    resource,
    clientId,
    redirectUri,
    serverUrl,
    now,
    ttlMs,
    scopes,
  } = input;
  if (typeof metadata !== 'object' || metadata === null) throw invalid('metadata', 'must be an object');
  if (!isNonEmptyString(metadata.issuer)) throw invalidMetadata('issuer', 'must be a non-empty string');
  if (!isNonEmptyString(metadata.authorization_endpoint))
    throw invalidMetadata('authorization_endpoint', 'is missing');
  const endpoint = assertSafeUrl(metadata.authorization_endpoint, {
    what: 'authorization_endpoint',
    allowLoopbackHttp: true,
  });
  // MCP 2026-07-28: absent `code_challenge_methods_supported` means no PKCE, and the client must refuse.
  const methods = metadata.code_challenge_methods_supported;
  if (!Array.isArray(methods) || !methods.includes('S256')) {
    throw invalidMetadata('code_challenge_methods_supported', 'does not list S256', 'pkce_unsupported');
  }

  assertNonEmptyString(clientId, 'clientId');
  assertNonEmptyString(redirectUri, 'redirectUri');
  assertAbsoluteUrlWithoutFragment(redirectUri, 'redirectUri');
  if (resource !== undefined) {
    assertNonEmptyString(resource, 'resource');
    assertAbsoluteUrlWithoutFragment(resource, 'resource');
  }
  assertNonEmptyString(serverUrl, 'serverUrl');
  if (!Number.isFinite(now)) throw invalid('now', 'must be a number');
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw invalid('ttlMs', 'must be a positive number');
  if (dpopJkt !== undefined && (typeof dpopJkt !== 'string' || !SHA256_THUMBPRINT.test(dpopJkt))) {
    throw invalid('dpopJkt', 'must be a base64url SHA-256 JWK thumbprint');
  }
  if (!Array.isArray(scopes)) throw invalid('scopes', 'must be an array');
  if (!scopes.every(isScopeToken)) throw invalid('scopes', 'must be RFC 6749 scope tokens');
  const uniqueScopes = [...new Set(scopes)];

  if (extraParameters !== undefined && (typeof extraParameters !== 'object' || extraParameters === null)) {
    throw invalid('extraParameters', 'must be an object');
  }
  const extra = Object.entries(extraParameters ?? {});
  for (const [name, value] of extra) {
    if (RESERVED_AUTHORIZATION_PARAMETERS.has(name))
      throw invalid('extraParameters', `must not set "${name}"`);
    if (name === '' || typeof value !== 'string')
      throw invalid('extraParameters', 'must map names to strings');
  }

  const state = generateState();
  const codeVerifier = generateCodeVerifier();
  const codeChallenge = await computeCodeChallenge(codeVerifier);

  const url = new URL(endpoint.href);
  // The endpoint may carry a query of its own (RFC 6749 §3.1), but not one that sets a protocol
  // parameter: metadata doing so is how a mix-up attacker would steer the request (RFC 9700 §4.4).
  // So every parameter set below is the only one of its name.
  const parameters = url.searchParams;
  for (const name of parameters.keys()) {
    if (RESERVED_AUTHORIZATION_PARAMETERS.has(name)) {
      throw invalidMetadata('authorization_endpoint', `must not carry the "${name}" parameter`);
    }
  }
  for (const [name, value] of [
    ['response_type', 'code'],
    ['client_id', clientId],
    ['redirect_uri', redirectUri],
    ['scope', uniqueScopes.join(' ') || undefined],
    ['state', state],
    ['code_challenge', codeChallenge],
    ['code_challenge_method', 'S256'],
    ['resource', resource],
    ['dpop_jkt', dpopJkt],
    ...extra,
  ]) {
    if (value !== undefined) parameters.set(name!, value);
  }

  const pending: PendingAuthorization = {
    state,
    codeVerifier,
    issuer: metadata.issuer,
    resource: resource ?? serverUrl,
    serverUrl,
    clientId,
    redirectUri,
    scopes: uniqueScopes,
    issParameterSupported: metadata.authorization_response_iss_parameter_supported === true,
    createdAt: now,
    expiresAt: now + ttlMs,
  };
  return { url: url.href, pending };
}
