/** The token to put on a request: the held one, renewed first when it is about to expire. */
import type { StoredTokens } from '../stores.js';
import { loadFromStores } from './binding.js';
import { obtainGrant } from './grants.js';
import { canRenewSilently, isExpiring, renewBeforeUse, runExclusive } from './renewal.js';
import type { SessionState } from './state.js';

/**
 * The held tokens when they can be used as they are, known without waiting: the stores are
 * loaded and the tokens are not about to expire. `undefined` means "ask {@link tokensForUse}".
 */
export function readyTokens(state: SessionState): StoredTokens | undefined {
  const tokens = state.tokens;
  return state.storesLoaded && tokens !== undefined && !isExpiring(state, tokens) ? tokens : undefined;
}

export async function tokensForUse(
  state: SessionState,
  signal: AbortSignal | undefined,
): Promise<StoredTokens | undefined> {
  await loadFromStores(state);
  const tokens = state.tokens;
  const binding = state.binding;
  if (tokens === undefined) {
    // A machine grant runs ahead of the first request once the server is known; the user flow
    // waits for the server's 401.
    if (state.grant.interactive || binding === undefined) return undefined;
    return runExclusive(state, binding, { stale: undefined, signal }, (current) =>
      obtainGrant(state, current, { signal }),
    );
  }
  // Without a refresh token the token is used until the server rejects it; the user is brought
  // in on that 401, never ahead of time.
  if (binding !== undefined && isExpiring(state, tokens) && canRenewSilently(state, tokens)) {
    return renewBeforeUse(state, binding, tokens, signal);
  }
  return tokens;
}
