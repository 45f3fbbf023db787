import { isOAuthClientError } from '@mcp-oauth/core';
import type { OAuthSessionInput, ResourceRequest, SendStep, WithOAuthSession } from '@mcp-oauth/core/adapter';
import { attachSession, sessionFromInput } from '@mcp-oauth/core/adapter';
import type { AfterResponseHook, Got, Options, Response } from 'got';
import { createGotHttpClient } from './http-client.js';
import { redactSent } from './redaction.js';

/** What the hooks keep about one call of the instance (got copies it into the call's retries and hops). */
interface Call {
  /** A send of this adapter's own, for a step of another call: the hooks leave it alone. */
  readonly nested?: true;
  request?: ResourceRequest;
  /** The caller's own redirect mode (its first send sets `followRedirect: false` inside the resource). */
  redirect?: 'follow' | 'manual';
  /** A `FormData` body as given, before got turned it into a one-shot stream. */
  form?: FormData;
  /** The engine error a hook threw, handed to the caller instead of got's wrapper. */
  failure?: unknown;
}

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
  const callOf = (options: { readonly context: object }): Call => {
    const context = options.context as Record<symbol, Call>;
    context[key] ??= {};
    return context[key];
  };
  const failed = (call: Call) => (error: unknown) => {
    call.failure = error;
    throw error;
  };

  const afterResponse: AfterResponseHook = async (response) => {
    redactSent(response);
    const call = callOf(response.request.options);
    const request = call.request;
    if (request === undefined || call.nested) return response;
    const respond = (sent: Response) => request.respond({ status: sent.statusCode, headers: sent.headers });
    for (let last = response; ; ) {
      const next = await respond(last).catch(failed(call));
      if (next.type !== 'send') return last;
      const step = stepOptions(response.request.options, next, call.form);
      (step.context as Record<symbol, Call>)[key] = { nested: true }; // not the copy of `call`
      const hooks = step.hooks.afterResponse;
      hooks.splice(hooks.indexOf(afterResponse) + 1); // the later hooks run once, on the last response
      last = (await instance(undefined, undefined, step)) as Response;
    }
  };

  const extended = instance.extend({
    hooks: {
      beforeRequest: [
        async (options) => {
          // A call's first send, and each of got's own retries of it, begins a request of the session;
          // this adapter's own sends, and got's redirect hops where the session left redirects to got
          // (outside the protected resource), need nothing.
          const call = callOf(options);
          if (call.nested || call.request?.first.redirect === 'follow') return;
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
          applyStep(options, request.first);
        },
      ],
      afterResponse: [afterResponse],
      beforeError: [redactSent],
    },
    // Once per call, before any hook. The promise the caller awaits rejects with the engine's error
    // itself (got 14.0.0 keeps no `cause`).
    handlers: [
      (options, next) => {
        const call = callOf(options);
        // A `FormData` body as given: got turns it into a one-shot stream when it sends it.
        if (options.body instanceof FormData) call.form = options.body;
        const result = next(options);
        if (options.isStream) return result;
        return (result as Promise<unknown>).catch((error: { code?: unknown }) => {
          redactSent(error); // errors that skip `beforeError` (an abort)
          throw isOAuthClientError(call.failure) && error.code === call.failure.code ? call.failure : error;
        }) as typeof result;
      },
    ],
  });
  return attachSession(extended as T, oauth);
}

/** The caller's headers with the step's changes; redirects stay with got only when the step says so. */
function applyStep(options: Pick<Options, 'headers' | 'followRedirect'>, step: SendStep): void {
  // got keeps names in lower case, as the step gives them; a delete through got 16's proxy costs.
  for (const name of step.removeHeaders) if (name in options.headers) delete options.headers[name];
  Object.assign(options.headers, step.headers);
  if (step.redirect !== 'follow') options.followRedirect = false;
}

/** What every step's send changes in the call's options: its URL is absolute, any status comes back. */
const STEP = { prefixUrl: '', throwHttpErrors: false, resolveBodyOnly: false } as const;

/**
 * A send after the first: the call's options (hooks, agents, timeouts, signal, …) with the step's
 * URL, method, headers and body, any status handed back as a response, and none of got's retries.
 */
function stepOptions(options: Options, step: SendStep, form: FormData | undefined): Options {
  const next = new (options.constructor as typeof Options)(undefined, undefined, options);
  // Set through got's setters, not merged as options: the caller's `init` hooks cannot undo them.
  Object.assign(next, STEP, { url: step.url, method: step.method });
  next.retry.limit = 0;
  if (!step.withBody) next.body = undefined;
  else if (form !== undefined) {
    // got sent the FormData as a stream: serialise it again, with a boundary of its own.
    for (const name of ['content-type', 'content-length']) delete next.headers[name];
    next.body = form;
  }
  applyStep(next, step);
  return next;
}

/** Bodies got can send again as they are (`json` and `form` are a string by the time hooks run). */
function isReplayable(body: unknown): boolean {
  return body === undefined || typeof body === 'string' || ArrayBuffer.isView(body);
}
