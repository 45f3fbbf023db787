/**
 * What goes on a resource request: `Authorization: Bearer …`, or, for a DPoP-bound token, what the
 * session's DPoP gives (`Authorization: DPoP …` with a fresh proof for the exact method and URL).
 */
import { oauthError } from '../errors.js';
import type { StoredTokens } from '../stores.js';
import type { SessionState } from './state.js';

/** The headers that carry `tokens` on a request to `url`. */
export async function credentialHeaders(
  state: SessionState,
  tokens: StoredTokens,
  method: string,
  url: string,
): Promise<Record<string, string>> {
  if (tokens.tokenType !== 'DPoP') return { authorization: `Bearer ${tokens.accessToken}` };
  if (state.dpop === undefined) {
    throw oauthError('dpop_failed', 'a DPoP-bound token is held but the session has no "dpop" option');
  }
  return state.dpop.resourceHeaders(tokens, method, url);
}
