import {
  AUTHORIZATION_HEADER_NAMES,
  exchangeWithAuthorization,
  type OAuthSession,
  planRedirect,
  requestNotReplayable,
} from '@mcp-oauth/core';

/** One call of the wrapped fetch, taken apart so that it can be sent again (retry or redirect hop). */
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
 * A `fetch` that authorizes requests to the session's MCP server: it adds the session's headers
 * inside the protected resource, and on a 401 (or 403 `insufficient_scope`) lets the session
 * refresh, authorize or step up, then sends the request once more. Everything else is the
 * `fetchImpl` it wraps.
 */
export function withOAuth(session: OAuthSession, fetchImpl: typeof fetch = globalThis.fetch): typeof fetch {
  return async (input, init) => {
    const call = await describeCall(input, init);
    if (call === undefined) return fetchImpl(input, init); // not a URL: let fetch report it
    let streamSent = false;
    return exchangeWithAuthorization<Response>({
      session,
      method: call.method,
      url: call.url,
      signal: call.signal,
      send: async (authorization) => {
        if (call.stream && streamSent) requestNotReplayable();
        streamSent = call.stream;
        return sendFollowingRedirects(call, authorization, session, fetchImpl);
      },
      observe: (response) => ({
        status: response.status,
        headers: response.headers,
        url: response.url === '' ? undefined : response.url,
      }),
      discard: async (response) => {
        await response.body?.cancel().catch(() => {});
      },
    });
  };
}

function isRequest(value: unknown): value is Request {
  return typeof Request !== 'undefined' && value instanceof Request;
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
  const request = isRequest(input) ? input : undefined;
  const url = request?.url ?? resolveUrl(String(input));
  if (url === undefined) return undefined;
  let callBody: BodyInit | null = body ?? null;
  let options: RequestInit = rest;
  if (request !== undefined) {
    // A Request's body is read once into memory so that a retry or a redirect can send it again
    // (fetch would consume it the same way).
    if (callBody === null && request.body !== null) callBody = await request.arrayBuffer();
    options = {
      cache: request.cache,
      credentials: request.credentials,
      integrity: request.integrity,
      keepalive: request.keepalive,
      referrer: request.referrer,
      referrerPolicy: request.referrerPolicy,
      ...(request.mode === 'navigate' ? {} : { mode: request.mode }),
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

function merge(headers: Headers, authorization: Record<string, string>): Headers {
  const merged = new Headers(headers);
  for (const [name, value] of Object.entries(authorization)) merged.set(name, value);
  return merged;
}

/**
 * Sends one attempt. With the session's credentials attached and redirects to follow, redirects
 * are followed here (`redirect: 'manual'`) so that each hop gets the headers the session gives for
 * its own URL: nothing once it leaves the resource, a new DPoP proof inside it.
 */
async function sendFollowingRedirects(
  call: Call,
  authorization: Record<string, string>,
  session: OAuthSession,
  fetchImpl: typeof fetch,
): Promise<Response> {
  const send = (
    url: string,
    method: string,
    headers: Headers,
    body: BodyInit | null,
    redirect: RequestRedirect,
  ) =>
    fetchImpl(url, {
      ...call.options,
      method,
      headers,
      body,
      redirect,
      ...(call.signal === undefined ? {} : { signal: call.signal }),
    });
  if (call.redirect !== 'follow' || Object.keys(authorization).length === 0) {
    return send(call.url, call.method, merge(call.headers, authorization), call.body, call.redirect);
  }
  let { url, method, body } = call;
  const headers = new Headers(call.headers);
  let hopAuthorization = authorization;
  for (let hop = 0; ; hop++) {
    // `headers` is this loop's own copy, and every hop drops the session's headers before the
    // next one's are set, so they go in place (no second copy per hop).
    for (const [name, value] of Object.entries(hopAuthorization)) headers.set(name, value);
    const response = await send(url, method, headers, body, 'manual');
    if (response.type === 'opaqueredirect') {
      // Browsers hide the target of a manual redirect: let fetch follow it, without credentials.
      if (call.stream) throw new TypeError('a streamed request body cannot follow a redirect');
      for (const name of AUTHORIZATION_HEADER_NAMES) headers.delete(name);
      return send(url, method, headers, body, 'follow');
    }
    const plan = planRedirect({
      status: response.status,
      location: response.headers.get('location'),
      method,
      url,
      hop,
    });
    if (plan === undefined) return response;
    await response.body?.cancel().catch(() => {});
    if (!plan.dropBody && body !== null && call.stream) {
      throw new TypeError('a streamed request body cannot follow a redirect');
    }
    for (const name of plan.dropHeaders) headers.delete(name);
    ({ url, method } = plan);
    if (plan.dropBody) body = null;
    hopAuthorization = await session.getAuthorizationHeaders({ method, url, signal: call.signal });
  }
}
