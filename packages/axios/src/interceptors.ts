import {
  AUTHORIZATION_HEADER_NAMES,
  type HeadersInput,
  isCrossOrigin,
  type OAuthSession,
  requestNotReplayable,
} from '@mcp-oauth/core';
import type { AxiosInstance, AxiosRequestConfig, AxiosResponse, InternalAxiosRequestConfig } from 'axios';

/** What the interceptors need from an `OAuthSession`. */
type AuthorizingSession = Pick<OAuthSession, 'getAuthorizationHeaders' | 'handleResponse'>;

/** Each request's state rides on its config under a string key: axios's `mergeConfig` drops symbol keys. */
const STATE = 'mcpOAuth';

interface RequestState {
  /** 0 for the first request, 1 for the authorization retry. */
  readonly attempt: number;
  readonly method: string;
  readonly url: string;
  /** `data` as the interceptor first saw it, before `transformRequest`: what the retry sends again. */
  readonly data: unknown;
}

/** Headers the retry must not inherit from the first attempt: fresh credentials, a recomputed length. */
const REGENERATED = new Set([...AUTHORIZATION_HEADER_NAMES, 'content-length']);

/**
 * Authorizes every request `instance` sends with `session`: a request interceptor adds the
 * session's headers, and a response interceptor hands each response (2xx included) to the session
 * and re-issues a rejected request once through `instance.request`. Returns a function that
 * ejects both interceptors.
 */
/** axios's own test for an absolute URL (`isAbsoluteURL`), which `buildFullPath` uses as is. */
const ABSOLUTE_URL = /^([a-z][a-z\d+\-.]*:)?\/\//i;

/**
 * The URL axios will request. An absolute `url` with no `params` is used as it is (what
 * `getUri` would return, without merging the whole config again); anything else asks axios.
 */
function requestUrl(instance: AxiosInstance, config: InternalAxiosRequestConfig): string {
  const { url, params } = config;
  const allowAbsolute = (config as { allowAbsoluteUrls?: boolean }).allowAbsoluteUrls !== false;
  if (params === undefined && typeof url === 'string' && allowAbsolute && ABSOLUTE_URL.test(url)) return url;
  return instance.getUri(config);
}

export function installOAuth(instance: AxiosInstance, session: AuthorizingSession): () => void {
  async function authorize(config: InternalAxiosRequestConfig): Promise<InternalAxiosRequestConfig> {
    const previous = stateOf(config);
    const url = absolute(requestUrl(instance, config));
    const method = (config.method ?? 'get').toUpperCase();
    const data: unknown = previous === undefined ? config.data : previous.data;
    setState(config, { attempt: previous?.attempt ?? 0, method, url, data });
    const headers = await session.getAuthorizationHeaders({ method, url, signal: signalOf(config) });
    for (const [name, value] of Object.entries(headers)) config.headers.set(name, value);
    if (Object.keys(headers).length > 0)
      config.beforeRedirect = stripOnCrossOrigin(url, config.beforeRedirect);
    return config;
  }

  /** The session's verdict on a response; `retry` only for a first attempt. */
  async function judge(response: AxiosResponse): Promise<'retry' | 'pass'> {
    // Anything but an axios response (an interceptor before this one reshaped it) is not judged.
    const state = stateOf(response?.config);
    if (state === undefined) return 'pass';
    const verdict = await session.handleResponse({
      method: state.method,
      url: finalUrl(response, state.url),
      status: response.status,
      // AxiosHeaders answers get(name) with the header's string (or undefined) at runtime.
      headers: response.headers as HeadersInput,
      requestHeaders: response.config.headers as HeadersInput,
      attempt: state.attempt,
      signal: signalOf(response.config),
    });
    return verdict === 'retry' && state.attempt === 0 ? 'retry' : 'pass';
  }

  function retry(response: AxiosResponse): Promise<AxiosResponse> {
    const { config } = response;
    const state = stateOf(config)!;
    discard(response.data);
    if (isStream(state.data)) requestNotReplayable();
    const headers = Object.fromEntries(
      Object.entries(config.headers).filter(([name]) => !REGENERATED.has(name.toLowerCase())),
    );
    const next: AxiosRequestConfig = { ...config, headers, data: state.data };
    setState(next, { ...state, attempt: 1 });
    return instance.request(next);
  }

  const requestId = instance.interceptors.request.use(authorize);
  const responseId = instance.interceptors.response.use(
    async (response) => ((await judge(response)) === 'retry' ? retry(response) : response),
    async (error: unknown) => {
      // A 4xx/5xx that validateStatus rejected; anything else (network, cancel, session) passes by.
      const { isAxiosError, response } = (error ?? {}) as {
        isAxiosError?: unknown;
        response?: AxiosResponse;
      };
      if (isAxiosError === true && response !== undefined && (await judge(response)) === 'retry') {
        return retry(response);
      }
      throw error;
    },
  );
  return () => {
    instance.interceptors.request.eject(requestId);
    instance.interceptors.response.eject(responseId);
  };
}

/** True for the request the adapter re-issued after the session renewed authorization (e.g. for axios-retry's `retryCondition`). */
export function isOAuthRetry(config: AxiosRequestConfig | undefined): boolean {
  return stateOf(config)?.attempt === 1;
}

function stateOf(config: AxiosRequestConfig | undefined): RequestState | undefined {
  const value = (config as Record<string, unknown> | undefined)?.[STATE];
  return typeof value === 'object' && value !== null ? (value as RequestState) : undefined;
}

function setState(config: AxiosRequestConfig, state: RequestState): void {
  (config as Record<string, unknown>)[STATE] = state;
}

/** follow-redirects (axios's Node transport) keeps `DPoP` on every hop and `Authorization` on subdomains. */
function stripOnCrossOrigin(
  url: string,
  previous: AxiosRequestConfig['beforeRedirect'],
): NonNullable<AxiosRequestConfig['beforeRedirect']> {
  return (options, responseDetails, requestDetails) => {
    const headers = options.headers as Record<string, unknown> | undefined;
    if (headers !== undefined && isCrossOrigin(url, String(options.href))) {
      for (const name of Object.keys(headers)) {
        if (AUTHORIZATION_HEADER_NAMES.includes(name.toLowerCase())) delete headers[name];
      }
    }
    previous?.(options, responseDetails, requestDetails);
  };
}

/** The URL that answered, after any redirects axios followed: the session judges the response by it. */
function finalUrl(response: AxiosResponse, url: string): string {
  const request = response.request as { res?: { responseUrl?: unknown }; responseURL?: unknown } | undefined;
  const final = request?.res?.responseUrl ?? request?.responseURL;
  return typeof final === 'string' && final !== '' ? final : url;
}

function absolute(uri: string): string {
  return typeof location === 'undefined' ? uri : new URL(uri, location.href).href;
}

function signalOf(config: AxiosRequestConfig): AbortSignal | undefined {
  const signal = config.signal;
  return typeof signal?.addEventListener === 'function' ? (signal as AbortSignal) : undefined;
}

/** A Node stream or a web `ReadableStream`: read once, so never sent again. */
function isStream(data: unknown): boolean {
  const candidate = data as { pipe?: unknown; getReader?: unknown } | null | undefined;
  return typeof candidate?.pipe === 'function' || typeof candidate?.getReader === 'function';
}

/** Frees the socket behind a first response read as a stream (`responseType: 'stream'`). */
function discard(data: unknown): void {
  const stream = data as { destroy?: () => void; cancel?: () => Promise<void> } | null | undefined;
  if (typeof stream?.destroy === 'function') stream.destroy();
  else if (typeof stream?.cancel === 'function') stream.cancel().catch(() => {});
}
