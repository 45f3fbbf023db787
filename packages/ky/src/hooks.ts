import { isOAuthClientError, type OAuthSession, requestNotReplayable } from '@mcp-oauth/core';
import type { BeforeRetryState, Hooks, default as ky, NormalizedOptions } from 'ky';
import { credentialedHeaders, discard, type Exchange, followRedirects } from './redirects.js';
import { captureTransport, sendWith, transportFor } from './transport.js';

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
    const sent =
      authorized && request.redirect === 'follow' ? new Request(request, { redirect: 'manual' }) : request;
    // With retries off, ky 2 sends the request itself and keeps no copy of the body; a copy is kept
    // here for the auth retry, except of a stream, which ky 2 then deliberately does not buffer.
    if (sent.body !== null && options.retry.limit === 0 && !(options.body instanceof ReadableStream)) {
      spares.set(sent, sent.clone());
    }
    return sent === request ? undefined : sent;
  };

  const afterResponse = async (...args: unknown[]): Promise<Response | undefined> => {
    const { request, options, response } = readCall(args);
    const transport = transportFor(options);
    const source = request.bodyUsed ? spares.get(request) : request;
    const body = source === undefined ? undefined : async () => source.clone().arrayBuffer();
    const follows = request.redirect === 'manual' && (options.redirect ?? 'follow') === 'follow';
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
    if (follows) exchange = await followRedirects(exchange, body, session, transport);
    if ((await observe(exchange, 0)) === 'retry') {
      if (source === undefined) requestNotReplayable();
      discard(exchange.response);
      const headers = await credentialedHeaders(session, source.headers, source);
      const retry = new Request(source.clone(), { headers });
      exchange = { request: retry, response: await sendWith(transport, retry) };
      if (follows) exchange = await followRedirects(exchange, body, session, transport);
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
    init: [captureTransport],
    beforeRequest: [beforeRequest],
    beforeRetry: [beforeRetry],
    afterResponse: [afterResponse],
  };
}

/** `instance` extended with {@link oauthHooks}: every request to the MCP server is authorized by `session`. */
export function withOAuth(instance: typeof ky, session: OAuthSession): typeof ky {
  return instance.extend({ hooks: oauthHooks(session) });
}
