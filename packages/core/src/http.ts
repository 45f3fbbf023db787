import { isOAuthClientError, networkFailure, type OAuthClientError, oauthError } from './errors.js';
import { type OAuthLogger, silentLogger } from './logger.js';
import { redactUrl, tryParseUrl } from './url.js';

/**
 * What the engine may do with a 3xx answer to one of its requests.
 * - `same-origin`: follow it when the new location has the same origin (discovery, registration).
 * - `never`: a 3xx is an error (token, revocation and every request carrying a credential).
 */
export type RedirectPolicy = 'same-origin' | 'never';

/** One OAuth request as plain data. Header names are lower-case. */
export interface OAuthHttpRequest {
  readonly method: 'GET' | 'POST';
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  /** Informational: the engine applies the policy itself, so clients must never follow redirects. */
  readonly redirect: RedirectPolicy;
  /** The engine aborts the request after this many milliseconds. */
  readonly timeoutMs: number;
  /** Clients should stop reading (and throw) once the body exceeds this many bytes. */
  readonly maxResponseBytes: number;
  readonly signal: AbortSignal;
}

/** One response as plain data. Header names are lower-case; repeated headers are joined with `, `. */
export interface OAuthHttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** The final URL, when the client followed a redirect despite the contract. */
  readonly url?: string;
}

/**
 * The only way the engine reaches the network. Implementations must:
 * - send exactly the given method, URL, headers and body (adding no application headers);
 * - return 3xx responses as they are, without following them;
 * - honour `signal`, and stop reading a body larger than `maxResponseBytes`.
 * Each adapter package ships one over its own HTTP library.
 */
export interface OAuthHttpClient {
  send(request: OAuthHttpRequest): Promise<OAuthHttpResponse>;
}

export interface HttpContext {
  readonly client: OAuthHttpClient;
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
  readonly maxRedirects: number;
  readonly logger: OAuthLogger;
}

export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;
export const DEFAULT_MAX_REDIRECTS = 5;

export function createHttpContext(
  client: OAuthHttpClient,
  options: { timeoutMs?: number; maxResponseBytes?: number; logger?: OAuthLogger } = {},
): HttpContext {
  return {
    client,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    maxResponseBytes: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
    maxRedirects: DEFAULT_MAX_REDIRECTS,
    logger: options.logger ?? silentLogger,
  };
}

export interface SendOptions {
  readonly method: 'GET' | 'POST';
  readonly url: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly redirect: RedirectPolicy;
  readonly signal?: AbortSignal | undefined;
}

const encoder = new TextEncoder();

/** Byte length of a string as UTF-8. */
export function utf8Length(value: string): number {
  return encoder.encode(value).byteLength;
}

const aborted = () => oauthError('aborted', 'the request was aborted');

async function sendOnce(
  context: HttpContext,
  request: Omit<OAuthHttpRequest, 'signal' | 'timeoutMs' | 'maxResponseBytes'>,
  outer: AbortSignal | undefined,
): Promise<OAuthHttpResponse> {
  if (outer?.aborted) throw aborted();
  const { timeoutMs, maxResponseBytes } = context;
  const shown = redactUrl(request.url);
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const failure = new Promise<never>((_, reject) => {
    // Reject before aborting: a client that rejects as soon as its signal aborts (fetch does)
    // must not win the race and turn a timeout into an abort.
    const stop = (error: OAuthClientError) => () => {
      reject(error);
      controller.abort();
    };
    timer = setTimeout(
      stop(oauthError('timeout', `request to ${shown} timed out after ${timeoutMs} ms`)),
      timeoutMs,
    );
    onAbort = stop(aborted());
    outer?.addEventListener('abort', onAbort, { once: true });
  });
  let response: Partial<OAuthHttpResponse> | null;
  try {
    response = await Promise.race([
      context.client.send({ ...request, timeoutMs, maxResponseBytes, signal: controller.signal }),
      failure,
    ]);
  } catch (error) {
    if (isOAuthClientError(error)) throw error;
    if (controller.signal.aborted) throw aborted();
    throw oauthError('network_error', `request to ${shown} failed`, { cause: networkFailure(error) });
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', onAbort!);
    failure.catch(() => {});
  }
  const { status, body, headers } = response ?? {};
  if (
    !Number.isInteger(status) ||
    typeof body !== 'string' ||
    typeof headers !== 'object' ||
    headers === null
  ) {
    throw oauthError('network_error', `request to ${shown} returned a malformed response`);
  }
  if (body.length > maxResponseBytes || utf8Length(body) > maxResponseBytes) {
    throw oauthError('response_too_large', `response from ${shown} exceeds ${maxResponseBytes} bytes`);
  }
  // Header names are lower-cased and values made strings, whatever the client handed back.
  const normalized: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || value === null) continue;
    const text = Array.isArray(value) ? value.map(String).join(', ') : String(value);
    const key = name.toLowerCase();
    normalized[key] = normalized[key] === undefined ? text : `${normalized[key]}, ${text}`;
  }
  return { ...(response as OAuthHttpResponse), headers: normalized };
}

/**
 * Sends one engine request through the injected client and applies the redirect policy, the
 * timeout and the size cap. Only the headers given here are sent.
 */
export async function sendRequest(context: HttpContext, options: SendOptions): Promise<OAuthHttpResponse> {
  const parsed = tryParseUrl(options.url);
  if (parsed === undefined || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')) {
    throw oauthError('unsafe_url', 'request URL must be an absolute http(s) URL');
  }
  const { origin } = parsed;
  const { redirect, signal } = options;
  let { method, url, body } = options;
  let headers = { ...options.headers };
  for (let hop = 0; ; hop++) {
    context.logger.debug('http.request', { method, url: redactUrl(url) });
    const response = await sendOnce(
      context,
      { method, url, headers, redirect, ...(body === undefined ? {} : { body }) },
      signal,
    );
    const { status } = response;
    const refuse = (what: string) =>
      oauthError('redirect_not_allowed', `${redactUrl(url)} ${what}`, { status });
    if (
      response.url !== undefined &&
      response.url !== url &&
      (redirect === 'never' || tryParseUrl(response.url)?.origin !== origin)
    ) {
      throw refuse('was redirected');
    }
    if (![301, 302, 303, 307, 308].includes(status)) return response;
    if (redirect === 'never')
      throw refuse('answered with a redirect, which is not followed for this request');
    const location = response.headers.location;
    const next = location === undefined ? undefined : tryParseUrl(location, url);
    if (next === undefined) throw refuse('answered with a redirect without a valid location');
    if (next.origin !== origin) throw refuse('redirected to another origin');
    if (hop >= context.maxRedirects) throw refuse(`redirected more than ${context.maxRedirects} times`);
    if (status === 303 || (status < 303 && method === 'POST')) {
      method = 'GET';
      body = undefined;
      const { 'content-type': _dropped, ...rest } = headers;
      headers = rest;
    }
    next.hash = '';
    url = next.href;
  }
}

const JSON_MEDIA_TYPE = /^application\/([\w.+-]+\+)?json$/i;

/**
 * Parses a JSON object body. A present content type must be JSON; the body must be an object.
 * `what` names the document in the error message, e.g. `"authorization server metadata"`.
 */
export function parseJsonObject(
  response: OAuthHttpResponse,
  what: string,
  code:
    | 'metadata_invalid'
    | 'token_response_invalid'
    | 'registration_failed'
    | 'discovery_failed'
    | 'device_authorization_failed' = 'metadata_invalid',
): Record<string, unknown> {
  const fail = (rule: string) => oauthError(code, `${what} ${rule}`, { status: response.status });
  const contentType = response.headers['content-type'];
  if (contentType !== undefined && !JSON_MEDIA_TYPE.test(contentType.split(';')[0]!.trim())) {
    throw fail('must be served as JSON');
  }
  let value: unknown;
  try {
    value = JSON.parse(response.body);
  } catch {
    throw fail('is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw fail('must be a JSON object');
  return value as Record<string, unknown>;
}
