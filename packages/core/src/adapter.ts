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
