import type { OAuthSession } from '@mcp-oauth/core';
import type { SendStep } from '@mcp-oauth/core/adapter';
import type { KyFetch } from './transport.js';

/**
 * A fetch for ky that carries each call out step by step as the session says: credentials, the
 * authorization retry, every redirect hop. ky's `Request` is only read; the credentials go on
 * copies, so no object ky keeps (its `Request`, an `HTTPError`) ever holds them. `timeout` bounds
 * each send as ky bounds each attempt (ky's `TimeoutError`); a wait for a refresh or for the user
 * is not a send, and is bounded by the session and the caller's `signal` instead.
 */
export function authorizedFetch(session: OAuthSession, fetch: KyFetch, timeout: number | false): KyFetch {
  return async (input, fetchInit) => {
    const request = input as Request; // ky always calls its fetch with a `Request`
    const resource = await session.beginRequest(request);
    // Read once, so that the retry and the redirect hops can send it again whatever it was.
    const body = request.body === null ? null : await request.arrayBuffer();
    const { cache, credentials, integrity, keepalive, mode, referrer, referrerPolicy } = request;
    const options = { cache, credentials, integrity, keepalive, mode, referrer, referrerPolicy };
    for (let step: SendStep = resource.first; ; ) {
      const headers = new Headers(request.headers);
      for (const name of step.removeHeaders) headers.delete(name);
      for (const [name, value] of Object.entries(step.headers)) headers.set(name, value);
      const { method, redirect } = step;
      const init = { ...options, method, headers, redirect, body: step.withBody ? body : null };
      const start = async (signal: AbortSignal) =>
        fetch(new Request(step.url, { ...init, signal }), fetchInit);
      const response = await send(start, request, timeout);
      const answer = { status: response.status, headers: response.headers };
      const next = await resource
        .respond({ ...answer, opaqueRedirect: response.type === 'opaqueredirect' })
        .catch(async (error: unknown) => {
          await discard(response);
          throw error;
        });
      if (next.type === 'done') return response;
      await discard(response);
      step = next;
    }
  };
}

let kyModule: Promise<typeof import('ky')> | undefined;

/** One send, given up after `timeout` ms with ky's `TimeoutError`, as ky gives up an attempt. */
function send(start: (signal: AbortSignal) => Promise<Response>, call: Request, timeout: number | false) {
  if (timeout === false) return start(call.signal);
  // One controller for the caller's signal and the timer (no `AbortSignal.any`: Node 20.0–20.2 lack it).
  const controller = new AbortController();
  const forward = () => controller.abort(call.signal.reason);
  call.signal.addEventListener('abort', forward, { once: true });
  if (call.signal.aborted) forward();
  return new Promise<Response>((resolve, reject) => {
    // Like ky's own timeout, this settles even when a custom fetch ignores its signal. ky itself is
    // loaded only here: its CommonJS users may run a Node that cannot `require` an ES module.
    const timer = setTimeout(() => {
      kyModule ??= import('ky');
      kyModule
        .then(({ TimeoutError }) => reject(new TimeoutError(call)), reject)
        .finally(() => controller.abort());
    }, timeout);
    start(controller.signal)
      .then(resolve, reject)
      .finally(() => {
        clearTimeout(timer);
        call.signal.removeEventListener('abort', forward);
      });
  });
}

async function discard(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => {});
}
