import type { ResourceChallenge } from './challenge.js';
import { type OAuthClientError, type OAuthClientErrorOptions, oauthError } from './errors.js';
import { includesAllScopes, unionScopes } from './scopes.js';

/**
 * What the engine does with a resource server's `401` or `403`. One pure function, one table:
 * every protocol decision about a response lives here, and {@link ResourceRequest} carries it out.
 *
 * | status | challenge / state                                   | decision                 |
 * |--------|-----------------------------------------------------|--------------------------|
 * | other  | —                                                   | `pass`                   |
 * | 401    | `use_dpop_nonce`, a new nonce came, nonce retry left | `retry` (`dpop_nonce`)   |
 * | 401    | `use_dpop_nonce`, otherwise                          | `pass`                   |
 * | any    | authorization retry already spent                    | `pass`                   |
 * | 401    | another token is current (or none was sent)          | `retry` (`token_replaced`) |
 * | 401    | silent renewal possible                              | `refresh`                |
 * | 401    | otherwise                                            | `authorize` (challenge ∪ held scopes) |
 * | 403    | not `insufficient_scope`, or no token sent           | `pass`                   |
 * | 403    | another token is current                             | `retry` (`token_replaced`) |
 * | 403    | challenged scopes already held or asked for          | `fail` `insufficient_scope` |
 * | 403    | step-up budget of the window spent                   | `fail` `insufficient_scope` |
 * | 403    | otherwise                                            | `step_up` (held ∪ challenged) |
 */
export type Decision =
  | { readonly type: 'pass' }
  | { readonly type: 'retry'; readonly reason: 'token_replaced' | 'dpop_nonce' }
  | { readonly type: 'refresh' }
  | {
      readonly type: 'authorize';
      /** Scopes the challenge named (may be empty). */
      readonly challengeScopes: readonly string[];
      /** Scopes the rejected token was requested or granted with, kept by the new authorization. */
      readonly heldScopes: readonly string[];
    }
  | {
      readonly type: 'step_up';
      /** What to ask for: every scope held, plus the challenged ones. */
      readonly scopes: readonly string[];
      /** What the challenge required. */
      readonly required: readonly string[];
    }
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
  /** Retries this request has already made, by kind. Each kind is allowed once. */
  readonly retries: { readonly authorization: number; readonly dpopNonce: number };
  /** The response carried a usable `DPoP-Nonce`. */
  readonly nonceReceived: boolean;
  /** Whether the request carried an access token. */
  readonly sentToken: boolean;
  /** `undefined` when the session has no tokens. */
  readonly held: HeldTokens | undefined;
  /** Interactive step-ups in the session's current window, and how many the window allows. */
  readonly stepUps: { readonly recent: number; readonly max: number };
}

const PASS: Decision = { type: 'pass' };

/** `insufficient_scope` as the server's own 403 said it, with why asking again would not help. */
export function insufficientScope(
  message: string,
  scopes?: OAuthClientErrorOptions['scopes'],
): OAuthClientError {
  return oauthError('insufficient_scope', message, { oauthError: 'insufficient_scope', status: 403, scopes });
}

export function decide(input: DecisionInput): Decision {
  if (input.status !== 401 && input.status !== 403) return PASS;
  const { challenge, held, retries } = input;

  if (input.status === 401 && challenge.error === 'use_dpop_nonce') {
    // A nonce retry is its own budget: it may follow the authorization retry.
    return input.nonceReceived && retries.dpopNonce < 1 ? { type: 'retry', reason: 'dpop_nonce' } : PASS;
  }
  if (retries.authorization >= 1) return PASS;

  if (input.status === 401) {
    if (held !== undefined && !(input.sentToken && held.sentTokenIsCurrent)) {
      // Someone else obtained a token while this request was in flight (or before it carried one).
      return { type: 'retry', reason: 'token_replaced' };
    }
    if (held?.canRefresh) return { type: 'refresh' };
    return {
      type: 'authorize',
      challengeScopes: challenge.scope ?? [],
      heldScopes: held === undefined ? [] : unionScopes(held.requestedScopes, held.grantedScopes),
    };
  }

  if (challenge.error !== 'insufficient_scope' || held === undefined || !input.sentToken) return PASS;
  if (!held.sentTokenIsCurrent) return { type: 'retry', reason: 'token_replaced' };
  const challenged = challenge.scope ?? [];
  const heldScopes = unionScopes(held.requestedScopes, held.grantedScopes);
  if (challenged.length === 0 || includesAllScopes(heldScopes, challenged)) {
    return {
      type: 'fail',
      error: insufficientScope(
        'the server requires scopes that were already requested; asking again would not help',
      ),
    };
  }
  if (input.stepUps.recent >= input.stepUps.max) {
    return {
      type: 'fail',
      error: insufficientScope(
        `the server asked for more scopes after ${input.stepUps.max} step-up authorizations in the current window; raise "stepUps" to allow more`,
      ),
    };
  }
  return { type: 'step_up', scopes: unionScopes(heldScopes, challenged), required: challenged };
}
