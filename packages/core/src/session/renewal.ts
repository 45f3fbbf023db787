/**
 * Renewal: token requests, refresh (with rotation), and the single flight that makes concurrent
 * callers — in this session, in other sessions sharing the stores, and in other processes when the
 * token store can lock — share one operation per grant.
 */
import type { DpopKey } from '../dpop.js';
import {
  AuthorizationRequiredError,
  isOAuthClientError,
  type OAuthClientError,
  oauthError,
} from '../errors.js';
import type { StoredTokens } from '../stores.js';
import { requestToken, type TokenGrant } from '../token.js';
import type { TokenSet } from '../types.js';
import { clientAuthentication, tokenKeyOf } from './binding.js';
import { obtainGrant } from './grants.js';
import { abortable, codeOf, isAbort } from './signals.js';
import type { Binding, SessionState } from './state.js';
import { readTokens } from './stored-records.js';

/** Within the skew of expiry; the skew never exceeds half the token's lifetime. */
export function isExpiring(state: SessionState, tokens: TokenSet): boolean {
  if (tokens.expiresAt === undefined) return false;
  const lifetime = Math.max(0, tokens.expiresAt - tokens.issuedAt);
  const skew = Math.min(state.refreshSkewMs, lifetime / 2);
  return tokens.expiresAt - skew <= state.now();
}

/** A refresh token, or a grant that needs no user. */
export function canRenewSilently(state: SessionState, tokens: TokenSet): boolean {
  return tokens.refreshToken !== undefined || !state.grant.interactive;
}

/** The RFC 8707 `resource` to send to `binding`'s authorization server (left out only under its policy). */
export function resourceParameter(state: SessionState, binding: Binding): string | undefined {
  const policy = state.authorizationServerPolicies[binding.discovery.issuer];
  return policy?.sendResource === false ? undefined : binding.discovery.resource;
}

/** One token request under `binding`; stores and returns the result. */
export async function requestTokens(
  state: SessionState,
  binding: Binding,
  grant: TokenGrant,
  requestedScopes: readonly string[],
  previous: StoredTokens | undefined,
  signal: AbortSignal | undefined,
): Promise<StoredTokens> {
  const metadata = binding.discovery.authorizationServerMetadata;
  if (metadata.token_endpoint === undefined) {
    throw oauthError('metadata_invalid', 'authorization server metadata has no "token_endpoint"');
  }
  const dpop = state.dpop;
  const dpopKey = await dpop?.keyFor(metadata, state.tokens?.dpopKey);
  const tokens = await requestToken(state.http, {
    tokenEndpoint: metadata.token_endpoint,
    issuer: binding.discovery.issuer,
    grant,
    resource: resourceParameter(state, binding),
    client: await clientAuthentication(state, binding.client),
    now: state.now(),
    dpop: dpopKey && dpop?.proofs(dpopKey),
    requestedScopes,
    previous,
    signal,
  });
  return storeTokens(state, binding, tokens, dpopKey);
}

/** Keeps new tokens (with the DPoP key they are bound to) in the store and the session. */
export async function storeTokens(
  state: SessionState,
  binding: Binding,
  tokens: TokenSet,
  dpopKey: DpopKey | undefined,
): Promise<StoredTokens> {
  const stored: StoredTokens =
    dpopKey === undefined ? tokens : { ...tokens, dpopKey: await state.dpop!.exportKey(dpopKey) };
  await state.stores.tokens.set(tokenKeyOf(binding), stored);
  state.tokens = stored;
  return stored;
}

/** Refresh, or a new grant when there is no refresh token or the server no longer accepts it. */
export async function refreshOrRegrant(
  state: SessionState,
  binding: Binding,
  signal: AbortSignal | undefined,
): Promise<StoredTokens> {
  const tokens = state.tokens;
  let rejected: OAuthClientError | undefined;
  if (tokens?.refreshToken !== undefined) {
    try {
      return await refresh(state, binding, tokens, signal);
    } catch (error) {
      if (!isOAuthClientError(error, 'token_request_failed') || error.oauthError !== 'invalid_grant') {
        throw wrapRefreshError(error);
      }
      rejected = error;
      state.logger.debug('session.refresh_token_rejected', { issuer: binding.discovery.issuer });
      state.tokens = undefined;
      await state.stores.tokens.delete(tokenKeyOf(binding));
    }
  }
  try {
    return await obtainGrant(state, binding, { scopes: tokens?.requestedScopes, signal });
  } catch (error) {
    // A headless process learns why the user is needed again: the refresh token was refused.
    if (rejected !== undefined && error instanceof AuthorizationRequiredError && error.cause === undefined) {
      throw new AuthorizationRequiredError(
        'the refresh token was rejected (invalid_grant); the user must authorize this client again',
        { authorizationUrl: error.authorizationUrl, state: error.state, cause: rejected },
      );
    }
    throw error;
  }
}

function refresh(
  state: SessionState,
  binding: Binding,
  tokens: StoredTokens,
  signal: AbortSignal | undefined,
): Promise<StoredTokens> {
  const policy = state.refreshScopes;
  const scopes =
    policy === 'none' ? undefined : policy === 'requested' ? tokens.requestedScopes : tokens.grantedScopes;
  state.logger.debug('session.refresh', { issuer: binding.discovery.issuer });
  return requestTokens(
    state,
    binding,
    { type: 'refresh_token', refreshToken: tokens.refreshToken!, scopes },
    tokens.requestedScopes,
    tokens,
    signal,
  );
}

/** Renewal before use: a failure keeps a still-valid token (the authorization server may just be down). */
export async function renewBeforeUse(
  state: SessionState,
  binding: Binding,
  tokens: StoredTokens,
  signal: AbortSignal | undefined,
): Promise<StoredTokens> {
  try {
    return await runExclusive(state, binding, { stale: tokens.accessToken, signal }, (current) =>
      refreshOrRegrant(state, current, signal),
    );
  } catch (error) {
    if (tokens.expiresAt !== undefined && tokens.expiresAt > state.now() && !isAbort(error)) {
      state.logger.warn('session.renewal_failed_token_still_valid', { code: codeOf(error) });
      return tokens;
    }
    throw error;
  }
}

export interface ExclusiveOptions {
  /** The access token the caller saw; a newer valid token already in the store is used instead. */
  readonly stale: string | undefined;
  readonly signal: AbortSignal | undefined;
  /** Run the task whatever the store holds (finishing an authorization the user just gave). */
  readonly fresh?: boolean;
}

/**
 * Single flight per (issuer, resource, client): concurrent callers share one operation, and with a
 * store that can lock, other sessions and processes share it too. Each caller stops waiting when
 * its own signal aborts; if the operation was aborted by the caller that started it, the others
 * start it again once.
 */
export async function runExclusive(
  state: SessionState,
  binding: Binding,
  options: ExclusiveOptions,
  task: (binding: Binding) => Promise<StoredTokens>,
): Promise<StoredTokens> {
  for (let round = 0; ; round++) {
    try {
      return await abortable(shared(state, binding, options, task), options.signal);
    } catch (error) {
      const abortedByOther = isAbort(error) && options.signal?.aborted !== true;
      if (!abortedByOther || round >= 1) throw error;
    }
  }
}

function shared(
  state: SessionState,
  binding: Binding,
  options: ExclusiveOptions,
  task: (binding: Binding) => Promise<StoredTokens>,
): Promise<StoredTokens> {
  const key = tokenKeyOf(binding);
  const running = state.renewals.get(key);
  if (running !== undefined) return running;
  const guarded = async (): Promise<StoredTokens> => {
    if (options.fresh !== true) {
      // Inside the lock the store is the truth: another session or process may have rotated the
      // refresh token since this one last looked, and refreshing with the old one would make an
      // authorization server with reuse detection revoke the whole grant.
      const stored = await readTokens(state, key);
      state.tokens = stored;
      if (stored !== undefined && stored.accessToken !== options.stale && !isExpiring(state, stored))
        return stored;
    }
    return task(binding);
  };
  const store = state.stores.tokens;
  const promise = (store.lock === undefined ? guarded() : store.lock(key, guarded)).finally(() => {
    state.renewals.delete(key);
  });
  state.renewals.set(key, promise);
  return promise;
}

function wrapRefreshError(error: unknown): OAuthClientError {
  const known = isOAuthClientError(error) ? error : undefined;
  if (known?.code === 'aborted' || known?.code === 'refresh_failed') return known;
  return oauthError('refresh_failed', 'refreshing the access token failed', {
    cause: known,
    oauthError: known?.oauthError,
    status: known?.status,
  });
}
