/**
 * Carrying out the decisions of `decide()` that need the authorization server: refresh, a new
 * authorization, a step-up, and noticing that the MCP server moved to another authorization server.
 */
import { type Decision, insufficientScope } from '../decide.js';
import { unionScopes } from '../scopes.js';
import type { StoredTokens } from '../stores.js';
import { authorizationServerChanged, bind, unbind } from './binding.js';
import { obtainGrant } from './grants.js';
import { refreshOrRegrant, runExclusive } from './renewal.js';
import { revokeQuietly } from './revocation.js';
import { recentStepUps, type SessionState } from './state.js';

type Recovery = Extract<Decision, { type: 'refresh' | 'authorize' | 'step_up' }>;

export async function recover(
  state: SessionState,
  decision: Recovery,
  resourceMetadataUrl: string | undefined,
  signal: AbortSignal | undefined,
): Promise<void> {
  if (decision.type === 'step_up') {
    await stepUp(state, decision.scopes, decision.required, signal);
    return;
  }
  const before = state.binding;
  const held = state.tokens;
  if (before === undefined || held === undefined) {
    // Nothing held yet: discover (with the challenge's metadata URL) and run the grant.
    const binding = await bind(state, resourceMetadataUrl, signal);
    const challengeScopes = decision.type === 'authorize' ? decision.challengeScopes : [];
    await runExclusive(state, binding, { stale: undefined, signal }, (current) =>
      obtainGrant(state, current, { challengeScopes, signal }),
    );
    return;
  }
  // A token that used to work was rejected. One caller checks whether the resource now names
  // another authorization server (then starts over there, never showing it the old client or
  // tokens), and otherwise renews: refresh, or a new grant that keeps every scope held.
  await runExclusive(state, before, { stale: held.accessToken, signal }, async (binding) => {
    if (await authorizationServerChanged(state, binding, resourceMetadataUrl, signal)) {
      state.logger.warn('session.authorization_server_changed', { from: binding.discovery.issuer });
      await unbind(state);
      const next = await bind(state, resourceMetadataUrl, signal);
      return obtainGrant(state, next, { signal });
    }
    if (decision.type === 'refresh') return refreshOrRegrant(state, binding, signal);
    const scopes = unionScopes(decision.heldScopes, decision.challengeScopes);
    return obtainGrant(state, binding, {
      ...(scopes.length > 0 ? { scopes: unionScopes(state.scopes, scopes) } : {}),
      signal,
    });
  });
}

async function stepUp(
  state: SessionState,
  scopes: readonly string[],
  required: readonly string[],
  signal: AbortSignal | undefined,
): Promise<void> {
  const binding = state.binding!;
  const held = state.tokens;
  const wanted = unionScopes(state.scopes, scopes);
  const superseded = held?.refreshToken;
  const next: StoredTokens = await runExclusive(
    state,
    binding,
    { stale: held?.accessToken, signal },
    (current) => {
      // Counted when it really runs: concurrent 403s share one step-up.
      state.stepUpTimes.push(state.now());
      state.logger.debug('session.step_up', {
        scopes: wanted,
        recent: recentStepUps(state),
      });
      return obtainGrant(state, current, { scopes: wanted, signal });
    },
  );
  // The step-up created a new grant; the old grant's refresh token is no longer needed.
  if (superseded !== undefined && superseded !== next.refreshToken) {
    await revokeQuietly(state, binding, superseded, 'refresh_token', signal);
  }
  // The user (or the policy) granted less than the server requires: a retry would only be
  // refused again, so the caller hears it now.
  const missing = required.filter((scope) => !next.grantedScopes.includes(scope));
  if (missing.length > 0) {
    throw insufficientScope(
      `the authorization server granted fewer scopes than the server requires (missing: ${missing.join(' ')})`,
      { required, granted: next.grantedScopes },
    );
  }
}
