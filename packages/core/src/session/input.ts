import type { OAuthHttpClient } from '../http.js';
import type { OAuthSessionOptions } from './options.js';
import { OAuthSession } from './session.js';

/** What an adapter accepts: a session, or the options to build one (its own `OAuthHttpClient` by default). */
export type OAuthSessionInput =
  | OAuthSession
  | (Omit<OAuthSessionOptions, 'httpClient'> & { readonly httpClient?: OAuthHttpClient });

/** Something an adapter returned, with the session it authorizes with. */
export type WithOAuthSession<T> = T & { readonly oauthSession: OAuthSession };

/**
 * The session for an adapter: `input` itself when it is one (from any copy of this package), or a
 * new session over `defaultHttpClient()` (called only then).
 */
export function sessionFromInput(
  input: OAuthSessionInput,
  defaultHttpClient: () => OAuthHttpClient,
): OAuthSession {
  if (typeof (input as { beginRequest?: unknown } | null)?.beginRequest === 'function')
    return input as OAuthSession;
  const options = input as Exclude<OAuthSessionInput, OAuthSession>;
  return new OAuthSession({ ...options, httpClient: options.httpClient ?? defaultHttpClient() });
}

/** `target` with its session on a read-only, non-enumerable `oauthSession` property. */
export function attachSession<T extends object>(target: T, session: OAuthSession): WithOAuthSession<T> {
  return Object.defineProperty(target, 'oauthSession', {
    value: session,
    enumerable: false,
  }) as WithOAuthSession<T>;
}
