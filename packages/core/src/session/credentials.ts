/**
 * What goes on a resource request: `Authorization: Bearer …`, or `Authorization: DPoP …` with a
 * fresh proof for the exact method and URL (RFC 9449 §7), and the DPoP key the tokens are bound to.
 */
import type { DpopKey } from '../dpop.js';
import { oauthError } from '../errors.js';
import type { StoredTokens } from '../stores.js';
import type { DpopProofSource } from '../token.js';
import type { Binding, SessionState } from './state.js';

/** The DPoP key for token requests under `binding`, or `undefined` when the session uses Bearer tokens. */
export async function dpopKeyFor(state: SessionState, binding: Binding): Promise<DpopKey | undefined> {
  const support = state.config.dpop;
  if (support === undefined) return undefined;
  if (support.mode === 'auto') {
    const algorithms = binding.discovery.authorizationServerMetadata.dpop_signing_alg_values_supported;
    if (!Array.isArray(algorithms) || !algorithms.includes('ES256')) return undefined;
  }
  if (state.dpopKey === undefined) {
    const persisted = state.tokens?.dpopKey;
    state.dpopKey =
      persisted === undefined ? await support.generateKey() : await support.importKey(persisted);
  }
  return state.dpopKey;
}

/** Proofs for token requests, with the nonces the authorization server handed out. */
export function dpopProofSource(state: SessionState, key: DpopKey): DpopProofSource {
  const support = state.config.dpop!;
  return {
    proof: (method, url, options) =>
      support.createProof(key, { method, url, now: state.now(), nonce: options.nonce }),
    nonceFor: (url) => state.nonces.get(url),
    rememberNonce: (url, nonce) => state.nonces.set(url, nonce),
  };
}

/** The headers that carry `tokens` on a request to `url`. */
export async function credentialHeaders(
  state: SessionState,
  tokens: StoredTokens,
  method: string,
  url: string,
): Promise<Record<string, string>> {
  if (tokens.tokenType !== 'DPoP') return { authorization: `Bearer ${tokens.accessToken}` };
  const support = state.config.dpop;
  if (support === undefined) {
    throw oauthError('dpop_failed', 'a DPoP-bound token is held but the session has no "dpop" option');
  }
  state.dpopKey ??= tokens.dpopKey === undefined ? undefined : await support.importKey(tokens.dpopKey);
  if (state.dpopKey === undefined)
    throw oauthError('dpop_failed', 'a DPoP-bound token is held without its key');
  const proof = await support.createProof(state.dpopKey, {
    method,
    url,
    now: state.now(),
    nonce: state.nonces.get(url),
    accessToken: tokens.accessToken,
  });
  return { authorization: `DPoP ${tokens.accessToken}`, dpop: proof };
}
