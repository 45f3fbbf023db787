/**
 * How a resource request follows a redirect, decided hop by hop in core (the adapters send every
 * credentialed request with `redirect: 'manual'` and carry out these plans). The rules are the
 * Fetch standard's (method and body changes, headers dropped across origins, 20 hops at most),
 * plus one of ours: the engine's own headers never follow a hop; each hop gets the credentials the
 * session gives its own URL, which outside the protected scope is none.
 */
import { oauthError } from './errors.js';
import { tryParseUrl } from './url.js';

/** Header names the engine sets on a resource request. */
export const CREDENTIAL_HEADER_NAMES: readonly string[] = ['authorization', 'dpop'];

/** The Fetch standard's redirect limit. */
export const MAX_REDIRECTS = 20;

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** What fetch drops when a redirect leaves the origin (the engine's own headers are always dropped). */
const CROSS_ORIGIN_HEADERS = ['authorization', 'proxy-authorization', 'cookie', 'dpop'];
/** The request-body headers fetch drops when a redirect turns the request into a GET. */
const BODY_HEADERS = [
  'content-type',
  'content-length',
  'content-encoding',
  'content-language',
  'content-location',
];

/** One hop of a redirect. */
export interface RedirectHop {
  readonly url: string;
  readonly method: string;
  /** The hop is sent without a body (303, or 301/302 of a POST). */
  readonly dropBody: boolean;
  /** Headers of the caller's request that this hop must not carry. */
  readonly removeHeaders: readonly string[];
}

/**
 * The next hop for a response, or `undefined` when the response is not a redirect to follow.
 * A `Location` that is not an http(s) URL, or a chain longer than {@link MAX_REDIRECTS}, is
 * `redirect_not_allowed`.
 */
export function planRedirect(input: {
  readonly status: number;
  readonly location: string | undefined;
  readonly method: string;
  readonly url: string;
  /** Redirects already followed for this request. */
  readonly hops: number;
}): RedirectHop | undefined {
  if (!REDIRECT_STATUSES.has(input.status) || input.location === undefined) return undefined;
  const next = tryParseUrl(input.location, input.url);
  if (next === undefined || (next.protocol !== 'http:' && next.protocol !== 'https:')) {
    throw oauthError('redirect_not_allowed', 'the MCP server redirected to a URL that is not http(s)');
  }
  if (input.hops >= MAX_REDIRECTS) {
    throw oauthError('redirect_not_allowed', `the MCP server redirected more than ${MAX_REDIRECTS} times`);
  }
  const method = input.method.toUpperCase();
  const dropBody =
    (input.status === 303 && method !== 'GET' && method !== 'HEAD') ||
    ((input.status === 301 || input.status === 302) && method === 'POST');
  const removeHeaders = [...CREDENTIAL_HEADER_NAMES];
  if (dropBody) removeHeaders.push(...BODY_HEADERS);
  if (isCrossOrigin(input.url, next)) removeHeaders.push(...CROSS_ORIGIN_HEADERS);
  return { url: next.href, method: dropBody ? 'GET' : input.method, dropBody, removeHeaders };
}

/** True when `to` (resolved against `from`) is on another origin than `from`. */
export function isCrossOrigin(from: string | URL, to: string | URL): boolean {
  const a = typeof from === 'string' ? tryParseUrl(from) : from;
  const b = typeof to === 'string' ? tryParseUrl(to, a) : to;
  return a === undefined || b === undefined || a.origin !== b.origin;
}
