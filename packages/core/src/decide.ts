import type { ResourceChallenge } from './challenge.js';
import { type OAuthClientError, oauthError } from './errors.js';
import { includesAllScopes, unionScopes } from './scopes.js';

/**
 * What an adapter should do with a resource server's response. Adapters never interpret OAuth
 * themselves: the session turns each response into one of these and carries it out.
 */
export type Decision =
  | { readonly type: 'pass' }
  | { readonly type: 'retry'; readonly reason: 'token_replaced' | 'dpop_nonce' }
  | { readonly type: 'refresh' }
  | { readonly type: 'authorize'; readonly challengeScopes: readonly string[] }
  | { readonly type: 'step_up'; readonly scopes: readonly string[] }
  | { readonly type: 'fail'; readonly error: OAuthClientError };

/** What the session holds when the response arrives. */
export interface HeldTokens {
  /** The token the request carried is still the session's current one. */
  readonly sentTokenIsCurrent: boolean;
  /** A refresh token, or a grant that can run without the user (client credentials, jwt-bearer). */
  readonly canRefresh: boolean;
  readonly requestedScopes: readonly string[];
  readonly grantedScopes: readonly string[];
}

export interface DecisionInput {
  readonly status: number;
  readonly challenge: ResourceChallenge;
  /** 0 for a request's first response, 1 for the response to its retry. */
  readonly attempt: number;
  /** Whether the request carried an access token. */
  readonly sentToken: boolean;
  /** `undefined` when the session has no tokens. */
  readonly held: HeldTokens | undefined;
  /** Step-ups since the last successful response. */
  readonly stepUps: number;
  readonly maxStepUps: number;
}

const PASS: Decision = { type: 'pass' };

/**
 * The whole response policy as one pure function: status × challenge × held tokens × attempt.
 * Every request is retried at most once; a second 401 or 403 is handed back unchanged.
 */
export function decide(input: DecisionInput): Decision {
  if (input.status !== 401 && input.status !== 403) return PASS;
  if (input.attempt >= 1) return PASS;
  const { challenge, held } = input;

  if (input.status === 401) {
    if (challenge.error === 'use_dpop_nonce') return { type: 'retry', reason: 'dpop_nonce' };
    if (held !== undefined && !(input.sentToken && held.sentTokenIsCurrent)) {
      // Someone else obtained a token while this request was in flight (or before it carried one).
      return { type: 'retry', reason: 'token_replaced' };
    }
    if (held?.canRefresh) return { type: 'refresh' };
    return { type: 'authorize', challengeScopes: challenge.scope ?? [] };
  }

  if (challenge.error !== 'insufficient_scope' || held === undefined || !input.sentToken) return PASS;
  if (!held.sentTokenIsCurrent) return { type: 'retry', reason: 'token_replaced' };
  const challenged = challenge.scope ?? [];
  const held_ = unionScopes(held.requestedScopes, held.grantedScopes);
  if (challenged.length === 0 || includesAllScopes(held_, challenged)) {
    return {
      type: 'fail',
      error: oauthError(
        'insufficient_scope',
        'the server requires scopes that were already requested; asking again would not help',
        { oauthError: 'insufficient_scope', status: 403 },
      ),
    };
  }
  if (input.stepUps >= input.maxStepUps) {
    return {
      type: 'fail',
      error: oauthError('insufficient_scope', `gave up after ${input.maxStepUps} step-up authorizations`, {
        oauthError: 'insufficient_scope',
        status: 403,
      }),
    };
  }
  return { type: 'step_up', scopes: unionScopes(held.requestedScopes, held.grantedScopes, challenged) };
}
