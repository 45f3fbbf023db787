import { isOAuthClientError, type OAuthSession, requestNotReplayable } from '@mcp-oauth/core';
import type { BeforeRetryState, Hooks, default as ky, NormalizedOptions, Options } from 'ky';
import { credentialedHeaders, discard, type Exchange, followRedirects } from './redirects.js';
import { captureTransport, sendWith, type Transport, transportFor } from './transport.js';

interface HookCall {
  readonly request: Request;
  readonly options: NormalizedOptions;
  readonly response: Response;
}

/** ky 1 calls hooks with `(request, options, response)`; ky 2 with one state object. */
function readCall(args: readonly unknown[]): HookCall {
  const [first, options, response] = args;
  if (first instanceof Request) {
    return { request: first, options: options as NormalizedOptions, response: response as Response };
  }
  return first as HookCall;
}

/** A ky 2 call sent through the global fetch: set when the hooks follow its redirects themselves. */
interface ManualRedirects {
  manual: boolean;
}
const manualRedirects = new WeakMap<object, ManualRedirects>();

/**
 * ky 2 `init` hook. When ky will send the call with the global fetch and follow redirects, the
 * call's `fetch` becomes one that asks for `redirect: 'manual'` once `beforeRequest` has authorized
 * it: fetch builds its own `Request` from ours anyway, so this costs nothing, where a second
 * `Request` in `beforeRequest` would re-wrap the body. A caller's own `fetch` might not honour a
 * `redirect` option, so its requests are re-made as before.
 */
function prepareCall(options: Options): void {
  captureTransport(options);
  if (options.fetch !== undefined || (options.redirect ?? 'follow') !== 'follow') return;
  const state: ManualRedirects = { manual: false };
  manualRedirects.set(options.context!, state);
  const fetch = globalThis.fetch;
  options.fetch = (input, init) => fetch(input, state.manual ? { ...init, redirect: 'manual' } : init);
}

/**
 * ky hooks that authorize every request to the MCP server with `session`: `beforeRequest` adds the
 * headers core gives the request's method and URL; `afterResponse` hands each response to core and,
 * when core says so, sends the request once more with fresh headers — outside ky's `retry`, so
 * with no delay, whatever the method, and without using up the retry limit.
 */
export function oauthHooks(session: OAuthSession): Hooks {
  const spares = new WeakMap<Request, Request>();
  let rerunsBeforeRequest = false; // ky 1 runs beforeRequest again before each of its own retries

  /** Sets the headers core gives the request; false when it gives none (outside the resource). */
  const authorize = async (request: Request): Promise<boolean> => {
    const { method, url, signal } = request;
    const credentials = Object.entries(await session.getAuthorizationHeaders({ method, url, signal }));
    for (const [name, value] of credentials) request.headers.set(name, value);
    return credentials.length > 0;
  };

  const beforeRequest = async (...args: unknown[]): Promise<Request | undefined> => {
    const { request, options } = readCall(args);
    rerunsBeforeRequest ||= args[0] instanceof Request;
    const authorized = await authorize(request);
    // fetch would follow a redirect to another origin with the DPoP proof: the hooks follow it instead.
    let sent = request;
    if (authorized && request.redirect === 'follow') {
      const state = manualRedirects.get(options.context);
      if (state === undefined) sent = new Request(request, { redirect: 'manual' });
      else state.manual = true;
    }
    // With retries off, ky 2 sends the request itself and keeps no copy of the body; a copy is kept
    // here for the auth retry, except of a stream, which ky 2 then deliberately does not buffer.
    if (sent.body !== null && options.retry.limit === 0 && !(options.body instanceof ReadableStream)) {
      spares.set(sent, sent.clone());
    }
    return sent === request ? undefined : sent;
  };

  const afterResponse = async (...args: unknown[]): Promise<Response | undefined> => {
    const { request, options, response } = readCall(args);
    // Worked out only for a hop or a retry: most responses need neither.
    let transport: Transport | undefined;
    const transportOnce = () => (transport ??= transportFor(options));
    const source = request.bodyUsed ? spares.get(request) : request;
    const body = source === undefined ? undefined : async () => source.clone().arrayBuffer();
    const callerFollows = (options.redirect ?? 'follow') === 'follow';
    const manual = request.redirect === 'manual' || manualRedirects.get(options.context)?.manual === true;
    const follows = manual && callerFollows;
    const observe = ({ request: sent, response: received }: Exchange, attempt: number) =>
      session.handleResponse({
        method: sent.method,
        url: sent.url,
        status: received.status,
        headers: received.headers,
        requestHeaders: sent.headers,
        attempt,
        signal: request.signal,
      });

    let exchange: Exchange = { request, response };
    if (follows) exchange = await followRedirects(exchange, body, session, transportOnce);
    if ((await observe(exchange, 0)) === 'retry') {
      if (source === undefined) requestNotReplayable();
      discard(exchange.response);
      const headers = await credentialedHeaders(session, source.headers, source);
      // The retry carries credentials even when the first attempt did not (it met the 401 without
      // a token), so its redirects are followed here too, with each hop's own credentials.
      const retry = new Request(source.clone(), {
        headers,
        redirect: callerFollows ? 'manual' : source.redirect,
      });
      exchange = { request: retry, response: await sendWith(transportOnce(), retry) };
      if (callerFollows) exchange = await followRedirects(exchange, body, session, transportOnce);
      await observe(exchange, 1);
    }
    if (exchange.response === response) return undefined;
    discard(response);
    return exchange.response;
  };

  const beforeRetry = async ({ request, error }: BeforeRetryState): Promise<void> => {
    if (isOAuthClientError(error)) throw error; // ky 1 would retry an authorization failure after a delay
    if (rerunsBeforeRequest) return;
    // ky 2 sends its retries without running beforeRequest: each needs its own headers (and DPoP proof).
    await authorize(request);
  };

  return {
    init: [prepareCall],
    beforeRequest: [beforeRequest],
    beforeRetry: [beforeRetry],
    afterResponse: [afterResponse],
  };
}

/** `instance` extended with {@link oauthHooks}: every request to the MCP server is authorized by `session`. */
export function withOAuth(instance: typeof ky, session: OAuthSession): typeof ky {
  return instance.extend({ hooks: oauthHooks(session) });
}
