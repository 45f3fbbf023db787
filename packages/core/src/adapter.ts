import { oauthError } from './errors.js';
import type { HeadersInput } from './headers.js';
import type { OAuthSession } from './session.js';
import { tryParseUrl } from './url.js';

/**
 * Pieces every adapter needs, kept here so that the fetch, ky, axios and got packages stay thin
 * and behave the same.
 */

/** A response as the retry loop needs to see it. */
export interface ObservedResponse {
  readonly status: number;
  readonly headers: HeadersInput;
  /**
   * The URL that produced the response when the adapter followed redirects (default: the request
   * URL). The session judges the response by it, so a 401 from a page the request was redirected
   * to outside the protected resource starts no authorization.
   */
  readonly url?: string | undefined;
}

export interface AuthorizedExchange<R> {
  readonly session: OAuthSession;
  readonly method: string;
  readonly url: string;
  readonly signal?: AbortSignal | undefined;
  /** Sends the request with the given authorization headers; `attempt` is 0, then 1 for the retry. */
  send(authorization: Record<string, string>, attempt: number): Promise<R>;
  observe(response: R): ObservedResponse;
  /** Called before the retry, e.g. to drain the first response's body so its socket is freed. */
  discard?(response: R): Promise<void> | void;
}

/**
 * The adapter loop: authorization headers from the session, the request, the session's verdict on
 * the response, and at most one retry with fresh headers. Used directly by wrappers (fetch) and as
 * the model for hook-based adapters.
 */
export async function exchangeWithAuthorization<R>(exchange: AuthorizedExchange<R>): Promise<R> {
  const { session, method, url, signal } = exchange;
  for (let attempt = 0; ; attempt++) {
    const authorization = await session.getAuthorizationHeaders({ method, url, signal });
    const response = await exchange.send(authorization, attempt);
    const observed = exchange.observe(response);
    let verdict: 'retry' | 'pass';
    try {
      verdict = await session.handleResponse({
        method,
        url: observed.url ?? url,
        status: observed.status,
        headers: observed.headers,
        requestHeaders: authorization,
        attempt,
        signal,
      });
    } catch (error) {
      // The response is not handed back, so free its body before reporting the failure.
      await Promise.resolve(exchange.discard?.(response)).catch(() => {});
      throw error;
    }
    if (verdict === 'pass' || attempt >= 1) return response;
    await exchange.discard?.(response);
  }
}

/** The error an adapter throws when a retry would need a body it cannot send again. */
export function requestNotReplayable(): never {
  throw oauthError(
    'request_not_replayable',
    'the request must be retried with new authorization, but its body is a stream that was already consumed; send a string, bytes, URLSearchParams, FormData or Blob body instead',
  );
}

/** Header names the engine may set on a resource request; adapters remove them on cross-origin hops. */
export const AUTHORIZATION_HEADER_NAMES: readonly string[] = ['authorization', 'dpop'];

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** The Fetch standard's redirect limit. */
export const MAX_REDIRECTS = 20;
/** What fetch drops when a redirect leaves the origin, plus the engine's own headers. */
const CROSS_ORIGIN_DROPPED = ['authorization', 'proxy-authorization', 'cookie', 'dpop'];
/** The request-body headers fetch drops when a redirect turns the request into a GET. */
const BODY_HEADERS = [
  'content-type',
  'content-length',
  'content-encoding',
  'content-language',
  'content-location',
];

/** The next hop of a redirect an adapter follows itself (to give each hop its own credentials). */
export interface RedirectPlan {
  readonly url: string;
  readonly method: string;
  /** The request becomes a GET without a body (303, or 301/302 of a POST). */
  readonly dropBody: boolean;
  /** Headers to remove before the hop; the engine's headers for the new URL are added after. */
  readonly dropHeaders: readonly string[];
}

/**
 * Plans the next hop for a response, the way fetch would follow it: `undefined` when the response
 * is not a redirect. Throws a `TypeError` (as fetch does) for a non-http(s) target or when `hop`
 * has reached the limit. The engine's headers are always dropped, so each hop carries only what
 * the session gives its own URL.
 */
export function planRedirect(input: {
  readonly status: number;
  readonly location: string | null | undefined;
  readonly method: string;
  readonly url: string;
  readonly hop: number;
}): RedirectPlan | undefined {
  if (!REDIRECT_STATUSES.has(input.status) || input.location === null || input.location === undefined) {
    return undefined;
  }
  const next = tryParseUrl(input.location, input.url);
  if (next === undefined || (next.protocol !== 'http:' && next.protocol !== 'https:')) {
    throw new TypeError('a redirect named a URL that is not http(s)');
  }
  if (input.hop >= MAX_REDIRECTS) throw new TypeError('redirect count exceeded');
  const method = input.method.toUpperCase();
  const dropBody =
    (input.status === 303 && method !== 'GET' && method !== 'HEAD') ||
    ((input.status === 301 || input.status === 302) && method === 'POST');
  const dropHeaders = [...AUTHORIZATION_HEADER_NAMES];
  if (dropBody) dropHeaders.push(...BODY_HEADERS);
  if (isCrossOrigin(input.url, next)) dropHeaders.push(...CROSS_ORIGIN_DROPPED);
  return { url: next.href, method: dropBody ? 'GET' : input.method, dropBody, dropHeaders };
}

/** True when a redirect from `from` to `to` leaves the origin (so credentials must not follow). */
export function isCrossOrigin(from: string | URL, to: string | URL): boolean {
  const a = typeof from === 'string' ? tryParseUrl(from) : from;
  const b = typeof to === 'string' ? tryParseUrl(to, a) : to;
  return a === undefined || b === undefined || a.origin !== b.origin;
}

/**
 * Reads a web `ReadableStream` body as UTF-8 text, failing with `response_too_large` once it
 * exceeds `maxBytes` (and cancelling the stream), for `OAuthHttpClient`s over fetch-like libraries.
 */
export async function readTextWithLimit(
  body: ReadableStream<Uint8Array> | null | undefined,
  maxBytes: number,
): Promise<string> {
  if (body === null || body === undefined) return '';
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel().catch(() => {});
        throw oauthError('response_too_large', `response exceeds ${maxBytes} bytes`);
      }
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}
