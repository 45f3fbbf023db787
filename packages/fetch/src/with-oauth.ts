import type { OAuthSessionInput, SendStep, WithOAuthSession } from '@mcp-oauth/core/adapter';
import { attachSession, sessionFromInput } from '@mcp-oauth/core/adapter';
import { createFetchHttpClient } from './http-client.js';

/** One call of the wrapped fetch, taken apart so that the session's steps can send it again. */
interface Call {
  readonly url: URL;
  readonly method: string;
  /** The caller's headers as they were at the call, for every send to start from. */
  readonly headers: Headers;
  readonly body: BodyInit | null;
  /** A stream can be sent once; anything else fetch can send again as it is. */
  readonly stream: boolean;
  readonly redirect: RequestRedirect;
  readonly signal: AbortSignal | undefined;
  /** The caller's options (`credentials`, `cache`, undici's `dispatcher`, `duplex`, `signal`, …). */
  readonly options: RequestInit;
}

/**
 * `fetchImpl` with OAuth for one MCP server: each call is carried out step by step as the session
 * says (credentials, retries, redirect hops); everything else is `fetchImpl`'s. `session` is an
 * `OAuthSession`, or its options (the session then uses `fetchImpl` for its own requests too).
 */
export function withOAuth(
  fetchImpl: typeof fetch,
  session: OAuthSessionInput,
): WithOAuthSession<typeof fetch> {
  const oauth = sessionFromInput(session, () => createFetchHttpClient(fetchImpl));
  const wrapped: typeof fetch = async (input, init) => {
    const call =
      typeof Request !== 'undefined' && input instanceof Request
        ? await describeRequest(input, init)
        : describeCall(resolveUrl(String(input)), init);
    if (call === undefined) return fetchImpl(input, init); // not a URL: let fetch report it
    const request = await oauth.beginRequest({
      method: call.method,
      url: call.url,
      signal: call.signal,
      redirect: call.redirect,
      replayableBody: !call.stream,
    });
    // The first send changes the snapshot itself; a later one (a retry, a redirect hop) starts
    // from a copy with the first send's changes undone.
    let undo: [string, string | null][] | undefined;
    for (let step: SendStep = request.first; ; ) {
      let headers = call.headers;
      if (undo === undefined) {
        undo = [...step.removeHeaders, ...Object.keys(step.headers)].map((name) => [name, headers.get(name)]);
      } else {
        headers = new Headers(headers);
        for (const [name, value] of undo) value === null ? headers.delete(name) : headers.set(name, value);
      }
      for (const name of step.removeHeaders) headers.delete(name);
      for (const name in step.headers) headers.set(name, step.headers[name]!);
      const response = await fetchImpl(step.url, {
        ...call.options,
        method: step.method,
        headers,
        body: step.withBody ? call.body : null,
        redirect: step.redirect,
      });
      let next: Awaited<ReturnType<typeof request.respond>>;
      try {
        next = await request.respond({
          status: response.status,
          headers: response.headers,
          opaqueRedirect: response.type === 'opaqueredirect',
        });
      } catch (error) {
        await discard(response);
        throw error;
      }
      if (next.type === 'done') return response;
      await discard(response);
      step = next;
    }
  };
  return attachSession(wrapped, oauth);
}

async function discard(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => {});
}

function isStream(body: unknown): boolean {
  if (typeof body !== 'object' || body === null) return false;
  return typeof (body as ReadableStream).getReader === 'function' || Symbol.asyncIterator in body;
}

function resolveUrl(value: string): URL | undefined {
  const base = (globalThis as { location?: { href?: string } }).location?.href;
  try {
    return new URL(value, base);
  } catch {
    return undefined;
  }
}

function describeCall(url: URL | undefined, init: RequestInit = {}, request?: Request): Call | undefined {
  if (url === undefined) return undefined;
  const body = init.body ?? null;
  return {
    url,
    method: init.method ?? request?.method ?? 'GET',
    headers: new Headers(init.headers ?? request?.headers),
    body,
    stream: isStream(body),
    redirect: init.redirect ?? request?.redirect ?? 'follow',
    signal: init.signal ?? request?.signal ?? undefined,
    options: init,
  };
}

/** A `Request`: its body read into memory once, so that a retry or a redirect can send it again. */
async function describeRequest(request: Request, init: RequestInit = {}): Promise<Call | undefined> {
  const { cache, credentials, integrity, keepalive, referrer, referrerPolicy, mode, signal } = request;
  const body = init.body ?? (request.body === null ? null : await request.arrayBuffer());
  const options: RequestInit = {
    cache,
    credentials,
    integrity,
    keepalive,
    referrer,
    referrerPolicy,
    ...(mode === 'navigate' ? {} : { mode }),
    ...init,
    signal: init.signal ?? signal,
    body,
  };
  return describeCall(new URL(request.url), options, request);
}
