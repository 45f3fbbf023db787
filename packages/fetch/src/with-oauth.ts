import type { OAuthSessionInput, WithOAuthSession } from '@mcp-oauth/core/adapter';
import { attachSession, carryOut, sessionFromInput, stepHeaders } from '@mcp-oauth/core/adapter';
import { createFetchHttpClient } from './http-client.js';

/** One call of the wrapped fetch, taken apart so that the session's steps can send it again. */
interface Call {
  readonly url: URL;
  readonly method: string;
  /** The caller's headers as they were at the call (lower-case names), for every send to start from. */
  readonly headers: Readonly<Record<string, string>>;
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
    return carryOut(request, {
      send(step) {
        const body = step.withBody ? call.body : null;
        const init = {
          method: step.method,
          headers: stepHeaders(call.headers, step),
          body,
          redirect: step.redirect,
        };
        // `Object.assign` rather than a spread: undici reads the options of such an object faster.
        return fetchImpl(step.url, Object.assign({}, call.options, init));
      },
      read: ({ status, headers, type }) => ({ status, headers, opaqueRedirect: type === 'opaqueredirect' }),
      discard,
    });
  };
  return attachSession(wrapped, oauth);
}

/**
 * The caller's headers as a record of lower-case names, with no prototype (so any name is plain
 * data, `__proto__` included); a name given twice gets both values, joined as `Headers` joins them.
 */
function snapshot(init: HeadersInit | undefined): Record<string, string> {
  const headers: Record<string, string> = Object.create(null);
  // `Headers` of any realm, and arrays, are iterables of pairs; anything else is a record.
  const pairs = init == null ? [] : Symbol.iterator in Object(init) ? init : Object.entries(init);
  for (const [name, value] of pairs as Iterable<[string, string]>) {
    const key = name.toLowerCase();
    const prior = headers[key];
    headers[key] = prior === undefined ? value : `${prior}, ${value}`;
  }
  return headers;
}

async function discard(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => {});
}

function isStream(body: unknown): boolean {
  if (typeof body !== 'object' || body === null) return false;
  return typeof (body as ReadableStream).getReader === 'function' || Symbol.asyncIterator in body;
}

/** The last URL parsed: an MCP client sends every request to the same one. Never handed out. */
let last: { value: string; base: string | undefined; url: URL } | undefined;

function resolveUrl(value: string): URL | undefined {
  const base = (globalThis as { location?: { href?: string } }).location?.href;
  if (last?.value === value && last.base === base) return last.url;
  try {
    last = { value, base, url: new URL(value, base) };
    return last.url;
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
    headers: snapshot(init.headers ?? request?.headers),
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
