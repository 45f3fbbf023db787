import { OAuthClientError, type OAuthSession } from '@mcp-oauth/core';
import type { HeadersInput, OAuthSessionInput, SendStep, WithOAuthSession } from '@mcp-oauth/core/adapter';
import { attachSession, sessionFromInput } from '@mcp-oauth/core/adapter';
import type { AxiosAdapter, AxiosError, AxiosInstance, InternalAxiosRequestConfig as Config } from 'axios';
import axios from 'axios';
import { createAxiosHttpClient, splitQuery } from './http-client.js';
import { scrub } from './redact.js';

/** The transport under one of our adapters, so that a config sent again (axios-retry) is not wrapped twice. */
const TRANSPORT = Symbol('transport');
type Authorizing = AxiosAdapter & { [TRANSPORT]?: unknown };
/** axios's own test for an absolute URL (`isAbsoluteURL`), which it then requests as it is. */
const ABSOLUTE_URL = /^([a-z][a-z\d+\-.]*:)?\/\//i;

/**
 * Sends every request of `instance` through `session` (an `OAuthSession`, or its options: the
 * session then makes its own requests with `createAxiosHttpClient(instance)`), and returns `instance`.
 *
 * A request interceptor gives each request an adapter that carries it out step by step as the
 * session says — credentials, the authorization retry, every redirect hop — over the transport the
 * request would have used. Interceptors, transforms and `validateStatus` see one request and its
 * final response, and never a credential. One session per instance.
 */
export function withOAuth<T extends AxiosInstance>(
  instance: T,
  session: OAuthSessionInput,
): WithOAuthSession<T> {
  if ('oauthSession' in instance) {
    throw new OAuthClientError('invalid_options', 'this axios instance already has an OAuth session');
  }
  const oauth = sessionFromInput(session, () => createAxiosHttpClient(instance));
  // Added now, it runs after the request interceptors added later (axios runs the last added first).
  const wrap = (config: Config) => {
    const adapter = config.adapter as Authorizing | undefined;
    config.adapter = authorizing(oauth, instance, adapter?.[TRANSPORT] ?? adapter ?? axios.defaults.adapter);
    return config;
  };
  instance.interceptors.request.use(wrap, undefined, { synchronous: true });
  return attachSession(instance, oauth);
}

function authorizing(session: OAuthSession, instance: AxiosInstance, transport: unknown): AxiosAdapter {
  const adapter: Authorizing = async (config) => {
    const url = requestUrl(instance, config);
    if (url === undefined) return resolve(transport, config)(config); // not a URL: axios reports it
    const request = await session.beginRequest({
      method: (config.method ?? 'get').toUpperCase(),
      url,
      signal:
        typeof config.signal?.addEventListener === 'function' ? (config.signal as AbortSignal) : undefined,
      redirect: config.maxRedirects === 0 ? 'manual' : 'follow',
      replayableBody: !isStream(config.data),
    });
    for (let step: SendStep = request.first; ; ) {
      const { response, rejection } = await send(transportFor(transport, config, step), config, step, url);
      const status = response.status;
      const headers = response.headers as HeadersInput;
      const next = await request.respond({ status, headers, opaqueRedirect: status === 0 }).catch((error) => {
        discard(response.data);
        throw error;
      });
      if (next.type === 'done') {
        if (rejection !== undefined) throw rejection;
        return response;
      }
      discard(response.data);
      step = next;
    }
  };
  adapter[TRANSPORT] = transport;
  return adapter;
}

/**
 * Sends one step. A status that the caller's `validateStatus` rejects is a response all the same:
 * the transport's own `AxiosError` is kept, and thrown if that response is the last.
 */
async function send(adapter: AxiosAdapter, config: Config, step: SendStep, url: string) {
  try {
    return { response: scrub(await adapter(stepConfig(config, step, url)), config), rejection: undefined };
  } catch (error) {
    const { isAxiosError, response } = (scrub(error, config) ?? {}) as Partial<AxiosError>;
    if (isAxiosError !== true || response === undefined) throw error;
    return { response, rejection: error };
  }
}

/** The caller's config with a step's URL, method, headers, body and redirect mode. */
function stepConfig(config: Config, step: SendStep, url: string): Config {
  // toJSON() merges in what axios 1.0.0 keeps apart (the defaults); `false` (never send) stays.
  const AxiosHeaders = config.headers.constructor as new (from: object) => Config['headers'];
  const headers = new AxiosHeaders(Object.assign(config.headers.toJSON(), config.headers));
  for (const name of step.removeHeaders) headers.delete(name);
  for (const [name, value] of Object.entries(step.headers)) headers.set(name, value);
  // A redirect hop goes to its own absolute URL, without the caller's baseURL, params and serializer.
  const hop = { baseURL: undefined, params: undefined, paramsSerializer: undefined, ...splitQuery(step.url) };
  const target = step.url === url ? {} : hop;
  const redirects = step.redirect === 'manual' ? { maxRedirects: 0 } : {};
  const data = step.withBody ? config.data : undefined;
  return { ...config, ...target, ...redirects, method: step.method.toLowerCase(), headers, data } as Config;
}

function transportFor(transport: unknown, config: Config, step: SendStep): AxiosAdapter {
  const adapter = resolve(transport, config) as AxiosAdapter & { adapterName?: string };
  // XHR follows redirects inside the browser, credentials and all; axios's fetch adapter can stop.
  if (step.redirect === 'manual' && adapter.adapterName === 'xhr') return resolve('fetch', config);
  return adapter;
}

/** axios ≥ 1.6 names its adapters (`['xhr', 'http', 'fetch']`); 1.0.0 keeps a function there. */
function resolve(transport: unknown, config: Config): AxiosAdapter {
  return typeof transport === 'function'
    ? (transport as AxiosAdapter)
    : axios.getAdapter(transport as never, config);
}

/** The absolute URL axios will request; an absolute `url` without `params` is taken as it is. */
function requestUrl(instance: AxiosInstance, config: Config): string | undefined {
  const { url, params, allowAbsoluteUrls } = config;
  const direct = params === undefined && allowAbsoluteUrls !== false && ABSOLUTE_URL.test(url ?? '');
  try {
    const base = (globalThis as { location?: { href?: string } }).location?.href;
    return new URL(direct ? (url as string) : instance.getUri(config), base).href;
  } catch {
    return undefined;
  }
}

/** A Node stream or a web `ReadableStream` (the `form-data` package is one): read once, never again. */
function isStream(data: unknown): boolean {
  const candidate = data as { pipe?: unknown; getReader?: unknown } | null | undefined;
  return typeof candidate?.pipe === 'function' || typeof candidate?.getReader === 'function';
}

/** Frees the socket behind a response read as a stream (`responseType: 'stream'`) that is not handed back. */
function discard(data: unknown): void {
  const stream = data as { destroy?: () => void; cancel?: () => Promise<void> } | null | undefined;
  if (typeof stream?.destroy === 'function') stream.destroy();
  else if (typeof stream?.cancel === 'function') stream.cancel().catch(() => {});
}
