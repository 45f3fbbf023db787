import type { OAuthSessionInput, SendStep, WithOAuthSession } from '@mcp-oauth/core/adapter';
import { attachSession, sessionFromInput } from '@mcp-oauth/core/adapter';
import { createFetchHttpClient } from './http-client.js';

/** One call of the wrapped fetch, taken apart so that the session's steps can send it again. */
interface Call {
  readonly url: string;
  readonly method: string;
  readonly headers: Headers;
  readonly body: BodyInit | null;
  /** A stream can be sent once; anything else fetch can send again as it is. */
  readonly stream: boolean;
  readonly redirect: RequestRedirect;
  readonly signal: AbortSignal | undefined;
  /** The caller's other options (`credentials`, `cache`, undici's `dispatcher`, `duplex`, …). */
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
    const call = await describeCall(input, init);
    if (call === undefined) return fetchImpl(input, init); // not a URL: let fetch report it
    const request = await oauth.beginRequest({
      method: call.method,
      url: call.url,
      signal: call.signal,
      redirect: call.redirect,
      replayableBody: !call.stream,
    });
    for (let step: SendStep = request.first; ; ) {
      const response = await fetchImpl(step.url, {
        ...call.options,
        method: step.method,
        headers: headersFor(call.headers, step),
        body: step.withBody ? call.body : null,
        redirect: step.redirect,
        ...(call.signal === undefined ? {} : { signal: call.signal }),
      });
      const next = await request
        .respond({
          status: response.status,
          headers: response.headers,
          opaqueRedirect: response.type === 'opaqueredirect',
        })
        .catch(async (error: unknown) => {
          await discard(response);
          throw error;
        });
      if (next.type === 'done') return response;
      await discard(response);
      step = next;
    }
  };
  return attachSession(wrapped, oauth);
}

function headersFor(base: Headers, step: SendStep): Headers {
  const headers = new Headers(base);
  for (const name of step.removeHeaders) headers.delete(name);
  for (const [name, value] of Object.entries(step.headers)) headers.set(name, value);
  return headers;
}

async function discard(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => {});
}

function isStream(body: unknown): boolean {
  if (typeof body !== 'object' || body === null) return false;
  return typeof (body as ReadableStream).getReader === 'function' || Symbol.asyncIterator in body;
}

function resolveUrl(value: string): string | undefined {
  const base = (globalThis as { location?: { href?: string } }).location?.href;
  try {
    return new URL(value, base).href;
  } catch {
    return undefined;
  }
}

async function describeCall(input: RequestInfo | URL, init: RequestInit = {}): Promise<Call | undefined> {
  const { headers, body, method, redirect, signal, ...rest } = init;
  const request = typeof Request !== 'undefined' && input instanceof Request ? input : undefined;
  const url = request?.url ?? resolveUrl(String(input));
  if (url === undefined) return undefined;
  let callBody: BodyInit | null = body ?? null;
  let options: RequestInit = rest;
  if (request !== undefined) {
    // A Request's body is read into memory once so that a retry or a redirect can send it again.
    if (callBody === null && request.body !== null) callBody = await request.arrayBuffer();
    const { cache, credentials, integrity, keepalive, referrer, referrerPolicy, mode } = request;
    options = {
      cache,
      credentials,
      integrity,
      keepalive,
      referrer,
      referrerPolicy,
      ...(mode === 'navigate' ? {} : { mode }),
      ...rest,
    };
  }
  return {
    url,
    method: method ?? request?.method ?? 'GET',
    headers: new Headers(headers ?? request?.headers),
    body: callBody,
    stream: isStream(callBody),
    redirect: redirect ?? request?.redirect ?? 'follow',
    signal: signal ?? request?.signal ?? undefined,
    options,
  };
}
