import type { OAuthSession } from '@mcp-oauth/core';
import { carryOut, stepHeaders } from '@mcp-oauth/core/adapter';
import type { KyFetch } from './transport.js';

/**
 * A fetch for ky that carries each call out step by step as the session says: credentials, the
 * authorization retry, every redirect hop. ky's `Request` is only read; the credentials go on
 * copies, so no object ky keeps (its `Request`, an `HTTPError`) ever holds them. `timeout` bounds
 * each send as ky bounds each attempt (ky's `TimeoutError`); a wait for a refresh or for the user
 * is not a send, and is bounded by the session and the caller's signal instead. `signals.signal`
 * is the call's own signal, to use instead of its `Request`'s (ky 1 shows it to hooks);
 * `signals.holder` the caller's, which keeps the call's `Request` reachable while the call runs.
 */
export function authorizedFetch(
  session: OAuthSession,
  fetch: KyFetch | undefined,
  timeout: number | false,
  signals: { readonly signal?: AbortSignal | undefined; readonly holder?: AbortSignal | undefined } = {},
): KyFetch {
  const run = async (request: Request, fetchInit: RequestInit | undefined, callSignal: AbortSignal) => {
    const { method, url, redirect } = request;
    const resource = await session.beginRequest({ method, url, redirect, signal: callSignal });
    // Read once, so that the retry and the redirect hops can send it again whatever it was.
    const body = request.body === null ? null : await readBody(request.body);
    const callerHeaders = Object.fromEntries(request.headers); // lower-case names, as `Headers` iterate
    const { cache, credentials, integrity, keepalive, mode, referrer, referrerPolicy } = request;
    const options = { cache, credentials, integrity, keepalive, mode, referrer, referrerPolicy };
    return carryOut(resource, {
      send(step) {
        const headers = stepHeaders(callerHeaders, step);
        const payload = step.withBody ? body : null;
        const init = { ...options, method: step.method, headers, redirect: step.redirect, body: payload };
        // The signal goes in the options too: undici's `fetch` follows a `Request`'s own signal only
        // while that `Request` is alive, and nothing keeps this one alive during the send. Without a
        // `fetch` of the call's own, the global one is given the URL and options: no `Request` to copy.
        const start = (signal: AbortSignal) =>
          fetch === undefined
            ? globalThis.fetch(step.url, Object.assign({}, init, fetchInit, { signal }))
            : fetch(new Request(step.url, { ...init, signal }), { ...fetchInit, signal });
        return send(start, callSignal, timeout, request);
      },
      read: ({ status, headers, type }) => ({ status, headers, opaqueRedirect: type === 'opaqueredirect' }),
      discard,
    });
  };
  return (input, fetchInit) => {
    const request = input as Request; // ky always calls its fetch with a `Request`
    // A `Request`'s signal follows its source only while the `Request` is alive, and a call that
    // waits on the user may be reachable from nothing else: the caller's signal holds it meanwhile.
    const hold = () => request;
    signals.holder?.addEventListener('abort', hold);
    const done = () => signals.holder?.removeEventListener('abort', hold);
    return run(request, fetchInit, signals.signal ?? request.signal).finally(done);
  };
}

const TIMED_OUT = Symbol('timed out');

type Start = (signal: AbortSignal) => Promise<Response>;

/**
 * One send, given up after `timeout` ms with ky's `TimeoutError`, as ky gives up an attempt:
 * raced, so that a fetch which ignores its signal cannot hang the call. ky is loaded only then:
 * its CommonJS users may run a Node that cannot `require` an ES module.
 */
async function send(start: Start, signal: AbortSignal, timeout: number | false, request: Request) {
  if (timeout === false) return start(signal);
  // Follows the call's signal (no `AbortSignal.any`: Node 20.0–20.2 lack it), and the timer.
  const attempt = new AbortController();
  if (signal.aborted) attempt.abort(signal.reason);
  else signal.addEventListener('abort', () => attempt.abort(signal.reason), { once: true });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(resolve, timeout, TIMED_OUT);
  });
  try {
    const response = await Promise.race([start(attempt.signal), expired]);
    if (response !== TIMED_OUT) return response;
  } finally {
    clearTimeout(timer);
  }
  attempt.abort();
  const { TimeoutError } = await import('ky');
  throw new TimeoutError(request);
}

/**
 * The whole body, its stream left unlocked (as a pipe leaves it), so that ky cancelling it
 * afterwards is not an error.
 */
async function readBody(stream: ReadableStream<Uint8Array<ArrayBuffer>>): Promise<BodyInit> {
  const reader = stream.getReader();
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) chunks.push(chunk.value);
  reader.releaseLock();
  return chunks.length === 1 ? chunks[0]! : new Blob(chunks);
}

async function discard(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => {});
}
