import { isOAuthClientError } from '@mcp-oauth/core';
import type { OAuthSessionInput, ResourceRequest, SendStep, WithOAuthSession } from '@mcp-oauth/core/adapter';
import { attachSession, sessionFromInput } from '@mcp-oauth/core/adapter';
import type { AfterResponseHook, Got, Method, Options, Response } from 'got';
import { createGotHttpClient } from './http-client.js';
import { redactSent } from './redaction.js';

/** What the hooks keep about one call of the instance (got copies it into the call's retries and hops). */
interface Call {
  /** A send of this adapter's own, for a step of another call: the hooks leave it alone. */
  readonly nested?: true;
  request?: ResourceRequest;
  /** The caller's own redirect mode (its first send sets `followRedirect: false` inside the resource). */
  redirect?: 'follow' | 'manual';
  /** The session left redirects to got (outside the protected resource): got's hops need nothing. */
  nativeRedirects?: boolean;
  /** A `FormData` body as given, before got turned it into a one-shot stream. */
  form?: FormData;
  /** The engine error a hook threw, handed to the caller instead of got's wrapper. */
  failure?: unknown;
}

type WithContext = { readonly context: object };

/**
 * `instance` extended to authorize requests for one MCP server, step by step as the session says:
 * `beforeRequest` begins the request and sets the first step's headers; `afterResponse` reports each
 * response and sends the session's next steps (retries, redirect hops inside the protected resource)
 * at once as requests of their own through `instance`, and returns the last response. Errors keep
 * no `Authorization` or `DPoP` value. `session` is an `OAuthSession`, or its options (the session
 * then sends its own requests over `instance`'s transport: see {@link createGotHttpClient}).
 */
export function withOAuth<T extends Got>(instance: T, session: OAuthSessionInput): WithOAuthSession<T> {
  const oauth = sessionFromInput(session, () => createGotHttpClient(instance));
  const key = Symbol('@mcp-oauth/got');
  // got copies a call's `context` into its retries and redirects: the call's state lives there.
  const callOf = (options: WithContext): Call => {
    const context = options.context as Record<symbol, Call>;
    context[key] ??= {};
    return context[key];
  };
  const failed = (call: Call) => (error: unknown) => {
    call.failure = error;
    throw error;
  };

  const afterResponse: AfterResponseHook = async (response) => {
    const options = response.request.options;
    redactSent(response);
    const call = callOf(options);
    const request = call.request;
    if (request === undefined || call.nested) return response;
    const respond = (sent: Response) => request.respond({ status: sent.statusCode, headers: sent.headers });
    const run = async () => {
      let last = response;
      for (let next = await respond(last); next.type === 'send'; next = await respond(last)) {
        const step = stepOptions(options, next, call.form);
        (step.context as Record<symbol, Call>)[key] = { nested: true }; // not the copy of `call`
        const hooks = step.hooks.afterResponse;
        hooks.splice(hooks.indexOf(afterResponse) + 1); // the later hooks run once, on the last response
        last = (await instance(undefined, undefined, step)) as Response;
      }
      return last;
    };
    return run().catch(failed(call));
  };

  const extended = instance.extend({
    hooks: {
      init: [
        (plain, options) => {
          if (plain.body instanceof FormData) callOf(options).form = plain.body;
        },
      ],
      beforeRequest: [
        async (options) => {
          // A call's first send, and each of got's own retries of it, begins a request of the session;
          // this adapter's own sends and got's redirect hops outside the resource need nothing.
          const call = callOf(options);
          if (call.nested || call.nativeRedirects) return;
          call.redirect ??= options.followRedirect === false ? 'manual' : 'follow';
          const request = await oauth
            .beginRequest({
              method: options.method,
              url: String(options.url),
              signal: options.signal,
              redirect: call.redirect,
              replayableBody: call.form !== undefined || isReplayable(options.body),
            })
            .catch(failed(call));
          call.request = request;
          call.nativeRedirects = request.first.redirect === 'follow';
          applyStep(options, request.first);
        },
      ],
      afterResponse: [afterResponse],
      beforeError: [
        (error) => {
          redactSent(error);
          return error;
        },
      ],
    },
    // The promise the caller awaits: the engine's error itself (got 14.0.0 keeps no `cause`).
    handlers: [
      (options, next) => {
        const result = next(options);
        if (options.isStream) return result;
        return (result as Promise<unknown>).catch((error: { code?: unknown }) => {
          redactSent(error); // errors that skip `beforeError` (an abort)
          const failure = callOf(options).failure;
          throw isOAuthClientError(failure) && error.code === failure.code ? failure : error;
        }) as typeof result;
      },
    ],
  });
  return attachSession(extended as T, oauth);
}

/** The caller's headers with the step's changes; redirects stay with got only when the step says so. */
function applyStep(options: Pick<Options, 'headers' | 'followRedirect'>, step: SendStep): void {
  for (const name of step.removeHeaders) delete options.headers[name];
  Object.assign(options.headers, step.headers);
  if (step.redirect !== 'follow') options.followRedirect = false;
}

/**
 * A send after the first: the call's options (hooks, agents, timeouts, signal, …) with the step's
 * URL, method, headers and body, any status handed back as a response, and none of got's retries.
 */
function stepOptions(options: Options, step: SendStep, form: FormData | undefined): Options {
  const next = new (options.constructor as typeof Options)(undefined, undefined, options);
  if (String(next.url) !== step.url) {
    next.prefixUrl = '';
    next.url = step.url;
  }
  next.method = step.method as Method;
  if (!step.withBody) next.body = undefined;
  else if (form !== undefined) {
    // got sent the FormData as a stream: serialise it again, with a boundary of its own.
    delete next.headers['content-type'];
    delete next.headers['content-length'];
    next.body = form;
  }
  applyStep(next, step);
  next.throwHttpErrors = false;
  next.resolveBodyOnly = false;
  next.retry.limit = 0;
  return next;
}

/** Bodies got can send again as they are (`json` and `form` are a string by the time hooks run). */
function isReplayable(body: unknown): boolean {
  return body === undefined || typeof body === 'string' || ArrayBuffer.isView(body);
}
