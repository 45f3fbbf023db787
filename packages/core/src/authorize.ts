/**
 * The authorization request (OAuth 2.1 §4.1.1) of the authorization code flow, with PKCE S256,
 * `state`, RFC 8707 `resource` and, when DPoP is used, RFC 9449 §10 `dpop_jkt`.
 *
 * Building the request is pure apart from randomness: it returns the URL to send the user to and
 * the record to keep (keyed by `state`) until the callback arrives.
 */
import { oauthError } from './errors.js';
import { computeCodeChallenge, generateCodeVerifier, generateState } from './pkce.js';
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

/** RFC 6749 §3.3 `scope-token`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
/** An RFC 7638 SHA-256 thumbprint: 32 bytes as unpadded base64url. */
const SHA256_THUMBPRINT = /^[A-Za-z0-9_-]{43}$/;

function assertNonEmptyString(value: unknown, what: string): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) {
    throw oauthError('invalid_options', `authorization request "${what}" must be a non-empty string`);
  }
}

function assertAbsoluteUrlWithoutFragment(value: string, what: string): void {
  const url = tryParseUrl(value);
  if (url === undefined)
    throw oauthError('invalid_options', `authorization request "${what}" must be an absolute URL`);
  if (url.hash !== '' || value.includes('#')) {
    throw oauthError('invalid_options', `authorization request "${what}" must not contain a fragment`);
  }
}

function uniqueScopes(scopes: readonly string[]): string[] {
  if (!Array.isArray(scopes))
    throw oauthError('invalid_options', 'authorization request "scopes" must be an array');
  const unique: string[] = [];
  for (const scope of scopes) {
    if (typeof scope !== 'string' || !SCOPE_TOKEN.test(scope)) {
      throw oauthError('invalid_options', 'authorization request "scopes" must be RFC 6749 scope tokens');
    }
    if (!unique.includes(scope)) unique.push(scope);
  }
  return unique;
}

function assertS256Supported(metadata: AuthorizationServerMetadata): void {
  const methods = metadata.code_challenge_methods_supported;
  // MCP 2026-07-28: absent `code_challenge_methods_supported` means no PKCE, and the client must refuse.
  if (!Array.isArray(methods) || !methods.includes('S256')) {
    throw oauthError(
      'pkce_unsupported',
      'authorization server metadata does not list S256 in "code_challenge_methods_supported"',
    );
  }
}

export async function createAuthorizationRequest(
  input: AuthorizationRequestInput,
): Promise<AuthorizationRequest> {
  const { metadata } = input;
  if (typeof metadata !== 'object' || metadata === null) {
    throw oauthError('invalid_options', 'authorization request "metadata" must be an object');
  }
  if (typeof metadata.issuer !== 'string' || metadata.issuer.length === 0) {
    throw oauthError('metadata_invalid', 'authorization server metadata "issuer" must be a non-empty string');
  }
  if (typeof metadata.authorization_endpoint !== 'string' || metadata.authorization_endpoint.length === 0) {
    throw oauthError('metadata_invalid', 'authorization server metadata "authorization_endpoint" is missing');
  }
  const endpoint = assertSafeUrl(metadata.authorization_endpoint, {
    what: 'authorization_endpoint',
    allowLoopbackHttp: true,
  });
  assertS256Supported(metadata);

  assertNonEmptyString(input.clientId, 'clientId');
  assertNonEmptyString(input.redirectUri, 'redirectUri');
  assertAbsoluteUrlWithoutFragment(input.redirectUri, 'redirectUri');
  if (input.resource !== undefined) {
    assertNonEmptyString(input.resource, 'resource');
    assertAbsoluteUrlWithoutFragment(input.resource, 'resource');
  }
  assertNonEmptyString(input.serverUrl, 'serverUrl');
  if (!Number.isFinite(input.now))
    throw oauthError('invalid_options', 'authorization request "now" must be a number');
  if (!Number.isFinite(input.ttlMs) || input.ttlMs <= 0) {
    throw oauthError('invalid_options', 'authorization request "ttlMs" must be a positive number');
  }
  if (
    input.dpopJkt !== undefined &&
    (typeof input.dpopJkt !== 'string' || !SHA256_THUMBPRINT.test(input.dpopJkt))
  ) {
    throw oauthError(
      'invalid_options',
      'authorization request "dpopJkt" must be a base64url SHA-256 JWK thumbprint',
    );
  }
  const scopes = uniqueScopes(input.scopes);

  const extra: [string, string][] = [];
  if (input.extraParameters !== undefined) {
    if (typeof input.extraParameters !== 'object' || input.extraParameters === null) {
      throw oauthError('invalid_options', 'authorization request "extraParameters" must be an object');
    }
    for (const [name, value] of Object.entries(input.extraParameters)) {
      if (RESERVED_AUTHORIZATION_PARAMETERS.has(name)) {
        throw oauthError('invalid_options', `authorization request "extraParameters" must not set "${name}"`);
      }
      if (name.length === 0 || typeof value !== 'string') {
        throw oauthError(
          'invalid_options',
          'authorization request "extraParameters" must map names to strings',
        );
      }
      extra.push([name, value]);
    }
  }

  const state = generateState();
  const codeVerifier = generateCodeVerifier();
  const codeChallenge = await computeCodeChallenge(codeVerifier);

  const url = new URL(endpoint.href);
  // The endpoint may carry a query of its own (RFC 6749 §3.1), but not one that sets a protocol
  // parameter: metadata doing so is how a mix-up attacker would steer the request (RFC 9700 §4.4).
  const parameters = url.searchParams;
  for (const name of parameters.keys()) {
    if (RESERVED_AUTHORIZATION_PARAMETERS.has(name)) {
      throw oauthError(
        'metadata_invalid',
        `authorization server metadata "authorization_endpoint" must not carry the "${name}" parameter`,
      );
    }
  }
  parameters.set('response_type', 'code');
  parameters.set('client_id', input.clientId);
  parameters.set('redirect_uri', input.redirectUri);
  if (scopes.length > 0) parameters.set('scope', scopes.join(' '));
  else parameters.delete('scope');
  parameters.set('state', state);
  parameters.set('code_challenge', codeChallenge);
  parameters.set('code_challenge_method', 'S256');
  if (input.resource !== undefined) parameters.set('resource', input.resource);
  if (input.dpopJkt !== undefined) parameters.set('dpop_jkt', input.dpopJkt);
  else parameters.delete('dpop_jkt');
  parameters.delete('request');
  parameters.delete('request_uri');
  for (const [name, value] of extra) parameters.set(name, value);

  const pending: PendingAuthorization = {
    state,
    codeVerifier,
    issuer: metadata.issuer,
    resource: input.resource ?? input.serverUrl,
    serverUrl: input.serverUrl,
    clientId: input.clientId,
    redirectUri: input.redirectUri,
    scopes,
    issParameterSupported: metadata.authorization_response_iss_parameter_supported === true,
    createdAt: input.now,
    expiresAt: input.now + input.ttlMs,
  };
  return { url: url.href, pending };
}
