import { isOAuthClientError } from '@mcp-oauth/core';
import type { OAuthSessionInput, WithOAuthSession } from '@mcp-oauth/core/adapter';
import { attachSession, sessionFromInput } from '@mcp-oauth/core/adapter';
import type { BeforeRetryState, KyInstance, Options } from 'ky';
import { authorizedFetch } from './authorized-fetch.js';
import { createKyHttpClient } from './http-client.js';
import { fetchOnlyOptions, type KyFetch } from './transport.js';

/** What ky 1 shows its hooks of a call, besides what ky 2 shows. */
type Ky1Options = { fetch: KyFetch; timeout: number | false; signal: AbortSignal };

/**
 * `instance` extended so that every call is carried out by {@link authorizedFetch} with the
 * session: the call's own `fetch`, fetch-only options and `timeout` (per send) are kept, and ky's
 * other options and hooks work as before. `session` is an `OAuthSession`, or its options (the
 * session then sends its own requests through `instance`'s transport).
 */
export function withOAuth(instance: KyInstance, session: OAuthSessionInput): WithOAuthSession<KyInstance> {
  const oauth = sessionFromInput(session, () => createKyHttpClient(instance));

  // ky 2: this call's fetch becomes the authorized one, which takes over ky's per-attempt timeout
  // so that the timeout bounds each send and not the wait for a refresh or for the user.
  const init = (options: Options) => {
    const signals = { holder: options.signal ?? undefined };
    options.fetch = authorizedFetch(oauth, options.fetch, options.timeout ?? 10_000, signals);
    options.timeout = false;
  };

  // ky 1 has no `init` hook but shows this one the call's fetch and timeout: it carries the call
  // out itself and hands ky the response (ky 2 calls it with one state object: nothing to do).
  const beforeRequest = (request: unknown, options?: Ky1Options) => {
    if (!(request instanceof Request) || options === undefined) return undefined;
    const call = authorizedFetch(oauth, options.fetch, options.timeout, { signal: options.signal });
    return call(request.clone(), fetchOnlyOptions(options));
  };

  // ky 1 retries whatever a hook throws: not an authorization failure (the user would be asked
  // again), nor a send's timeout unless `retryOnTimeout` says so, as for ky's own timeouts.
  const beforeRetry = ({ error, options }: BeforeRetryState) => {
    const timedOut = error.name === 'TimeoutError' && options.retry.retryOnTimeout !== true;
    if (timedOut || isOAuthClientError(error)) throw error;
  };

  const hooks = { init: [init], beforeRequest: [beforeRequest], beforeRetry: [beforeRetry] };
  return attachSession(instance.extend({ hooks } as Options), oauth);
}
