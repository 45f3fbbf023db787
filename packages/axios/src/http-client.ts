import { OAuthClientError, type OAuthHttpClient } from '@mcp-oauth/core';
import axios, { type AxiosInstance, type AxiosRequestConfig } from 'axios';

/**
 * The transport settings the engine's requests take from the application's instance. Everything
 * else — default headers (the instance's and `axios.defaults`'), `auth`, `params`, `baseURL`,
 * interceptors, transforms, `withCredentials`/XSRF, `validateStatus`, redirects — is left behind.
 */
const INHERITED_CONFIG = [
  'adapter',
  'env',
  'family',
  'fetchOptions',
  'http2Options',
  'httpAgent',
  'httpsAgent',
  'httpVersion',
  'insecureHTTPParser',
  'lookup',
  'proxy',
  'socketPath',
  'timeout',
  'transport',
] as const satisfies readonly (keyof AxiosRequestConfig)[];

const identity = (data: unknown) => data;

/**
 * An `OAuthHttpClient` over axios, for the session's discovery, registration and token requests.
 * It sends them through a derived instance that keeps `instance`'s transport (proxy, agents and
 * TLS, timeout, adapter) and sends only the engine's headers; it never follows a redirect.
 */
export function createAxiosHttpClient(instance: AxiosInstance = axios): OAuthHttpClient {
  const derived = instance.create();
  const defaults = derived.defaults as Record<string, unknown>;
  const inherited: readonly string[] = INHERITED_CONFIG;
  for (const key of Object.keys(defaults)) if (!inherited.includes(key)) delete defaults[key];
  return {
    async send(request) {
      try {
        const response = await derived.request<unknown>({
          ...splitQuery(request.url),
          method: request.method,
          headers: { ...request.headers },
          data: request.body,
          signal: request.signal,
          maxRedirects: 0,
          maxContentLength: request.maxResponseBytes,
          responseType: 'text',
          transformRequest: [identity],
          transformResponse: [identity],
          validateStatus: () => true,
        });
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(response.headers)) {
          if (value === undefined || value === null || value === false) continue;
          headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
        }
        const body = typeof response.data === 'string' ? response.data : '';
        return { status: response.status, headers, body };
      } catch (error) {
        const message = (error as { message?: unknown } | null)?.message;
        if (typeof message === 'string' && message.startsWith('maxContentLength size of')) {
          throw new OAuthClientError(
            'response_too_large',
            `response exceeds ${request.maxResponseBytes} bytes`,
          );
        }
        throw error;
      }
    },
  };
}

/**
 * axios 1.0.0 drops the `?` of a query written in the URL (axios#4999, fixed in 1.1.0), so a query
 * goes in `params` — when `URLSearchParams` writes it back unchanged; otherwise it stays in the URL.
 */
export function splitQuery(href: string): Pick<AxiosRequestConfig, 'url' | 'params'> {
  const url = new URL(href);
  const params = new URLSearchParams(url.search);
  if (url.search === '' || `?${params}` !== url.search) return { url: href };
  return { url: `${url.origin}${url.pathname}`, params };
}
