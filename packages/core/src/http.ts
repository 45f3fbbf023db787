import { isOAuthClientError, networkFailure, oauthError } from './errors.js';
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

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const encoder = new TextEncoder();

/** Byte length of a string as UTF-8, without allocating when the string is plainly ASCII-short. */
export function utf8Length(value: string): number {
  return encoder.encode(value).byteLength;
}

async function sendOnce(
  context: HttpContext,
  request: Omit<OAuthHttpRequest, 'signal' | 'timeoutMs' | 'maxResponseBytes'>,
  outer: AbortSignal | undefined,
): Promise<OAuthHttpResponse> {
  if (outer?.aborted) throw oauthError('aborted', 'the request was aborted');
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const failure = new Promise<never>((_, reject) => {
    // Reject before aborting: a client that rejects as soon as its signal aborts (fetch does)
    // must not win the race and turn a timeout into an abort.
    timer = setTimeout(() => {
      reject(
        oauthError('timeout', `request to ${redactUrl(request.url)} timed out after ${context.timeoutMs} ms`),
      );
      controller.abort();
    }, context.timeoutMs);
    if (outer !== undefined) {
      onAbort = () => {
        reject(oauthError('aborted', 'the request was aborted'));
        controller.abort();
      };
      outer.addEventListener('abort', onAbort, { once: true });
    }
  });
  try {
    const response = await Promise.race([
      context.client.send({
        ...request,
        timeoutMs: context.timeoutMs,
        maxResponseBytes: context.maxResponseBytes,
        signal: controller.signal,
      }),
      failure,
    ]);
    return validateResponseShape(response, context, request.url);
  } catch (error) {
    if (isOAuthClientError(error)) throw error;
    if (controller.signal.aborted) throw oauthError('aborted', 'the request was aborted');
    throw oauthError('network_error', `request to ${redactUrl(request.url)} failed`, {
      cause: networkFailure(error),
    });
  } finally {
    clearTimeout(timer);
    if (onAbort !== undefined) outer?.removeEventListener('abort', onAbort);
    failure.catch(() => {});
  }
}

function validateResponseShape(response: unknown, context: HttpContext, url: string): OAuthHttpResponse {
  const candidate = response as Partial<OAuthHttpResponse> | null;
  if (
    candidate === null ||
    typeof candidate !== 'object' ||
    typeof candidate.status !== 'number' ||
    !Number.isInteger(candidate.status) ||
    typeof candidate.body !== 'string' ||
    typeof candidate.headers !== 'object' ||
    candidate.headers === null
  ) {
    throw oauthError('network_error', `request to ${redactUrl(url)} returned a malformed response`);
  }
  if (
    candidate.body.length > context.maxResponseBytes ||
    utf8Length(candidate.body) > context.maxResponseBytes
  ) {
    throw oauthError(
      'response_too_large',
      `response from ${redactUrl(url)} exceeds ${context.maxResponseBytes} bytes`,
    );
  }
  // Header names are lower-cased and values made strings, whatever the client handed back.
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(candidate.headers)) {
    if (value === undefined || value === null) continue;
    const text = Array.isArray(value) ? value.map(String).join(', ') : String(value);
    const key = name.toLowerCase();
    headers[key] = headers[key] === undefined ? text : `${headers[key]}, ${text}`;
  }
  return { ...(candidate as OAuthHttpResponse), headers };
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
  const origin = parsed.origin;
  let method = options.method;
  let url = options.url;
  let body = options.body;
  let headers = { ...(options.headers ?? {}) };
  for (let hop = 0; ; hop++) {
    const request = {
      method,
      url,
      headers,
      redirect: options.redirect,
      ...(body === undefined ? {} : { body }),
    };
    context.logger.debug('http.request', { method, url: redactUrl(url) });
    const response = await sendOnce(context, request, options.signal);
    if (response.url !== undefined && response.url !== url) {
      const finalUrl = tryParseUrl(response.url);
      if (options.redirect === 'never' || finalUrl?.origin !== origin) {
        throw oauthError('redirect_not_allowed', `request to ${redactUrl(url)} was redirected`, {
          status: response.status,
        });
      }
    }
    if (!REDIRECT_STATUSES.has(response.status)) return response;
    if (options.redirect === 'never') {
      throw oauthError(
        'redirect_not_allowed',
        `${redactUrl(options.url)} answered with a redirect, which is not followed for this request`,
        { status: response.status },
      );
    }
    const location = response.headers.location;
    const next = location === undefined ? undefined : tryParseUrl(location, url);
    if (next === undefined) {
      throw oauthError(
        'redirect_not_allowed',
        `${redactUrl(url)} answered with a redirect without a valid location`,
        { status: response.status },
      );
    }
    if (next.origin !== origin) {
      throw oauthError('redirect_not_allowed', `${redactUrl(url)} redirected to another origin`, {
        status: response.status,
      });
    }
    if (hop >= context.maxRedirects) {
      throw oauthError(
        'redirect_not_allowed',
        `${redactUrl(options.url)} redirected more than ${context.maxRedirects} times`,
        { status: response.status },
      );
    }
    if (
      response.status === 303 ||
      ((response.status === 301 || response.status === 302) && method === 'POST')
    ) {
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
  const contentType = response.headers['content-type'];
  if (contentType !== undefined) {
    const mediaType = contentType.split(';')[0]?.trim() ?? '';
    if (!JSON_MEDIA_TYPE.test(mediaType)) {
      throw oauthError(code, `${what} must be served as JSON`, { status: response.status });
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(response.body);
  } catch {
    throw oauthError(code, `${what} is not valid JSON`, { status: response.status });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw oauthError(code, `${what} must be a JSON object`, { status: response.status });
  }
  return value as Record<string, unknown>;
}
