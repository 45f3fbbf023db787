import { isOAuthClientError, type OAuthSession, requestNotReplayable } from '@mcp-oauth/core';
import type {
  AfterResponseHook,
  BeforeErrorHook,
  BeforeRequestHook,
  Got,
  InitHook,
  Options,
  Response,
} from 'got';

/** The hooks {@link oauthHooks} returns; pass them to `got.extend({ hooks })`. */
export interface OAuthHooks {
  readonly init: InitHook[];
  readonly beforeRequest: BeforeRequestHook[];
  readonly afterResponse: AfterResponseHook[];
  readonly beforeError: BeforeErrorHook[];
}

/** What the hooks remember about one request, across its redirects and retries. */
interface RequestState {
  /** 0, then 1 for the authorization retry. */
  attempt: number;
  /** Header names set on the previous hop, removed before the next one. */
  added: readonly string[];
  /** A `FormData` body as given, before got turned it into a one-shot stream. */
  form?: FormData;
  /** The engine error a hook threw, for `beforeError`. */
  failure?: unknown;
}

/** Bodies got can send again as they are (`json` and `form` are a string by then). */
function isReplayable(body: unknown): boolean {
  return body === undefined || typeof body === 'string' || ArrayBuffer.isView(body);
}

function urlOf(options: { readonly url?: string | URL | undefined }): string {
  return options.url instanceof URL ? options.url.href : String(options.url);
}

/**
 * got hooks that authorize requests to the session's MCP server. `beforeRequest` runs for every
 * hop, redirects included: it removes the headers it set on the previous hop and adds the session's
 * headers for this hop's method and URL (none outside the resource, so none on another origin).
 * `afterResponse` shows every response to the session and, when the session says so, sends the
 * request once more through `instance` (the got instance the hooks are used in, or its parent) and
 * returns that response — not through got's own retry, which waits on a backoff timer.
 */
export function oauthHooks(session: OAuthSession, instance: Got): OAuthHooks {
  // got copies a request's `context` into each of its redirects and retries: the state lives there,
  // under a key of these hooks' own (so that hooks of several sessions can share an instance).
  const key = Symbol('@mcp-oauth/got');
  const stateOf = (options: { readonly context: object }): RequestState => {
    const context = options.context as Record<symbol, RequestState | undefined>;
    context[key] ??= { attempt: 0, added: [] };
    return context[key];
  };
  const remembering = async <T>(
    options: { readonly context: object },
    task: (state: RequestState) => Promise<T>,
  ): Promise<T> => {
    const state = stateOf(options);
    try {
      return await task(state);
    } catch (error) {
      state.failure = error;
      throw error;
    }
  };

  const init: InitHook = (plain, options) => {
    if (plain.body instanceof FormData) stateOf(options).form = plain.body;
  };

  const beforeRequest: BeforeRequestHook = (options) =>
    remembering(options, async (state) => {
      for (const name of state.added) delete options.headers[name];
      const authorization = await session.getAuthorizationHeaders({
        method: options.method,
        url: urlOf(options),
        signal: options.signal,
      });
      Object.assign(options.headers, authorization);
      state.added = Object.keys(authorization);
    });

  const afterResponse: AfterResponseHook = (response) => {
    const options = response.request.options;
    return remembering(options, async (state) => {
      const verdict = await session.handleResponse({
        method: options.method,
        url: urlOf(options),
        status: response.statusCode,
        headers: response.headers,
        requestHeaders: options.headers,
        attempt: state.attempt,
        signal: options.signal,
      });
      if (verdict === 'pass' || state.attempt >= 1) return response;
      state.attempt = 1;
      return (await instance(undefined, undefined, retryOptions(options, state, afterResponse))) as Response;
    });
  };

  // got wraps what a hook throws in a RequestError: hand back the engine's own error. (got 14.0.0
  // keeps no `cause` and wraps whatever this hook returns: there, got's error is given the cause.)
  const beforeError: BeforeErrorHook = (error) => {
    const failure = error.options === undefined ? undefined : stateOf(error.options).failure;
    if (!isOAuthClientError(failure)) return error;
    if (error.cause !== undefined) return failure;
    return Object.defineProperty(error, 'cause', { value: failure, configurable: true });
  };

  return {
    init: [init],
    beforeRequest: [beforeRequest],
    afterResponse: [afterResponse],
    beforeError: [beforeError],
  };
}

/**
 * The authorization retry: the request as it was last sent (URL after redirects, headers, body,
 * hooks, signal), with HTTP errors and got's retries left to the request it answers for, and only
 * the response hooks up to `hook` (the later ones run on the retry's response afterwards).
 */
function retryOptions(options: Options, state: RequestState, hook: AfterResponseHook): Options {
  if (state.form === undefined && !isReplayable(options.body)) requestNotReplayable();
  const retry = new (options.constructor as typeof Options)(undefined, undefined, options);
  if (state.form !== undefined) {
    // got sent the FormData as a one-shot stream: serialise it again, with a boundary of its own.
    delete retry.headers['content-type'];
    delete retry.headers['content-length'];
    retry.body = state.form;
  }
  retry.throwHttpErrors = false;
  retry.resolveBodyOnly = false;
  retry.retry.limit = 0;
  const hooks = retry.hooks.afterResponse;
  hooks.splice(hooks.indexOf(hook) + 1);
  return retry;
}

/** `instance` with {@link oauthHooks} added: `instance.extend({ hooks: oauthHooks(session, instance) })`. */
export function withOAuth<T extends Got>(instance: T, session: OAuthSession): T {
  return instance.extend({ hooks: oauthHooks(session, instance) }) as T;
}
