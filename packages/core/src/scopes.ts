/**
 * OAuth scopes (RFC 6749 §3.3): `scope = scope-token *( SP scope-token )`,
 * `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`. Lists are kept in order, without duplicates.
 */

const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
const OFFLINE_ACCESS = 'offline_access';

/** One RFC 6749 §3.3 `scope-token`. */
export function isScopeToken(value: unknown): value is string {
  return typeof value === 'string' && SCOPE_TOKEN.test(value);
}

/** Valid scope tokens only, first occurrence kept. */
function cleanScopes(scopes: readonly unknown[] | undefined): string[] {
  if (!Array.isArray(scopes)) return [];
  const seen = new Set<string>();
  for (const scope of scopes) {
    if (isScopeToken(scope)) seen.add(scope);
  }
  return [...seen];
}

/**
 * Splits a `scope` value on runs of spaces, drops tokens with characters RFC 6749 does not
 * allow, and removes duplicates (first kept). Anything but a string gives `[]`. Never throws.
 */
export function parseScope(value: unknown): string[] {
  if (typeof value !== 'string') return [];
  return cleanScopes(value.split(' '));
}

/**
 * Joins scopes for a `scope` parameter; `undefined` when there is nothing to send (omit the
 * parameter). Invalid tokens and duplicates are dropped so the result always parses back.
 */
export function formatScope(scopes: readonly string[]): string | undefined {
  const clean = cleanScopes(scopes);
  return clean.length === 0 ? undefined : clean.join(' ');
}

/** Every scope of every set, in first-seen order, without duplicates. */
export function unionScopes(...sets: ReadonlyArray<readonly string[] | undefined>): string[] {
  const seen = new Set<string>();
  for (const set of sets) {
    if (set === undefined) continue;
    for (const scope of set) seen.add(scope);
  }
  return [...seen];
}

/** True when every scope in `wanted` is in `held` (an empty `wanted` is always held). */
export function includesAllScopes(held: readonly string[], wanted: readonly string[]): boolean {
  const have = new Set(held);
  return wanted.every((scope) => have.has(scope));
}

export interface ScopeSelectionInput {
  /** Scopes the caller fixed: they win over every other source. */
  readonly explicit?: readonly string[] | undefined;
  /** `scope` from the resource server's 401/403 `WWW-Authenticate` challenge. */
  readonly challenge?: readonly string[] | undefined;
  /** The protected resource metadata's `scopes_supported` (RFC 9728). */
  readonly resourceMetadataScopes?: readonly string[] | undefined;
  /** The authorization server metadata's `scopes_supported` (RFC 8414). */
  readonly authorizationServerScopes?: readonly string[] | undefined;
  /**
   * Opt-in, like the Rust SDK's fallback: when neither the challenge nor the resource metadata
   * names scopes, request the authorization server's `scopes_supported`, then `defaults`.
   */
  readonly fallbackToAuthorizationServer?: boolean | undefined;
  readonly defaults?: readonly string[] | undefined;
  /** The client can use refresh tokens (it registered the `refresh_token` grant). */
  readonly offlineAccess: boolean;
}

/**
 * Chooses the scopes for an authorization request, following the MCP "Scope Selection Strategy":
 * explicit scopes; else the challenge's `scope`; else the resource metadata's `scopes_supported`;
 * else, only with `fallbackToAuthorizationServer`, the authorization server's `scopes_supported`
 * and then `defaults`; else `[]`, which means the `scope` parameter is omitted. An empty list
 * counts as absent at every step.
 *
 * `offline_access` (SEP-2207) is appended when the client can use refresh tokens and the
 * authorization server lists it in `scopes_supported`, never twice, and never to an otherwise
 * empty selection: requesting only `offline_access` would turn "omit scope, let the server pick
 * its default" into a request for a refresh token and nothing else. The official TypeScript SDK
 * (`determineScope`, test "does NOT augment when no other scopes are present") and the Rust SDK
 * (`add_offline_access_if_supported` returns early on an empty list) do the same, and the
 * conformance suite expects `scope` to be omitted when nothing names one
 * (`auth/scope-omitted-when-undefined`); asking for `offline_access` is only INFO-level optional
 * there (`auth/offline-access-scope`). When the authorization server's list is the fallback and
 * the client cannot use refresh tokens, its `offline_access` is left out for the same reason.
 */
export function selectScopes(input: ScopeSelectionInput): string[] {
  const authorizationServerScopes = cleanScopes(input.authorizationServerScopes);
  let selected = cleanScopes(input.explicit);
  if (selected.length === 0) selected = cleanScopes(input.challenge);
  if (selected.length === 0) selected = cleanScopes(input.resourceMetadataScopes);
  if (selected.length === 0 && input.fallbackToAuthorizationServer === true) {
    selected = input.offlineAccess
      ? authorizationServerScopes
      : authorizationServerScopes.filter((scope) => scope !== OFFLINE_ACCESS);
    if (selected.length === 0) selected = cleanScopes(input.defaults);
  }
  if (
    selected.length > 0 &&
    input.offlineAccess &&
    authorizationServerScopes.includes(OFFLINE_ACCESS) &&
    !selected.includes(OFFLINE_ACCESS)
  ) {
    selected.push(OFFLINE_ACCESS);
  }
  return selected;
}
