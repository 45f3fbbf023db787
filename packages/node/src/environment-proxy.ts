/**
 * The proxy the environment names (`HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY`, as curl and most
 * command-line tools read them) for the engine's OAuth requests and for MCP traffic, through
 * undici's own `EnvHttpProxyAgent`. Node's global `fetch` ignores these variables (before Node 24's
 * `NODE_USE_ENV_PROXY`), so a client behind a corporate proxy fails at its first request.
 */
import { OAuthClientError } from '@mcp-oauth/core';

export interface EnvironmentProxyOptions {
  /** Where the variables are read, once, when the fetch is created. Default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** The proxy settings the environment gives; `undefined` when it names no proxy. */
export interface EnvironmentProxy {
  /** For `http:` URLs (also for `https:` ones when no HTTPS proxy is named). */
  readonly httpProxy: string | undefined;
  /** For `https:` URLs. */
  readonly httpsProxy: string | undefined;
  /** Hosts reached directly: comma or space separated, `host`, `host:port`, `.suffix`, `*.suffix`, or `*`. */
  readonly noProxy: string;
}

type UndiciModule = typeof import('undici');

function variable(env: EnvironmentProxyOptions['env'] & object, name: string): string | undefined {
  // The lower-case form wins, as in curl and undici.
  const value = env[name.toLowerCase()] ?? env[name.toUpperCase()];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function checkProxyUrl(name: string, value: string | undefined): void {
  if (value === undefined) return;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    // The value may carry the proxy's password: the message names the variable only.
    throw new OAuthClientError('invalid_options', `${name} is not a valid URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new OAuthClientError('invalid_options', `${name} must be an http: or https: URL`);
  }
}

/**
 * The proxy settings in `env` (default `process.env`): `HTTPS_PROXY` for `https:` URLs,
 * `HTTP_PROXY` for `http:` URLs and for `https:` ones when `HTTPS_PROXY` is unset, `NO_PROXY`
 * for the hosts to reach directly; lower-case names win. `undefined` when no proxy is named.
 * Throws `invalid_options` for a value that is not an `http:` or `https:` URL.
 */
export function readEnvironmentProxy(
  env: EnvironmentProxyOptions['env'] = process.env,
): EnvironmentProxy | undefined {
  const httpProxy = variable(env, 'HTTP_PROXY');
  const httpsProxy = variable(env, 'HTTPS_PROXY');
  checkProxyUrl('HTTP_PROXY', httpProxy);
  checkProxyUrl('HTTPS_PROXY', httpsProxy);
  if (httpProxy === undefined && httpsProxy === undefined) return undefined;
  return { httpProxy, httpsProxy, noProxy: variable(env, 'NO_PROXY') ?? '' };
}

/** A `Request` of another fetch implementation (the global one, as ky builds), as undici's arguments. */
function foreignRequest(request: Request, init: RequestInit | undefined): [string, RequestInit] {
  const hasBody = request.body !== null && request.method !== 'GET' && request.method !== 'HEAD';
  return [
    request.url,
    {
      method: request.method,
      headers: request.headers,
      ...(hasBody ? { body: request.body, duplex: 'half' } : {}),
      redirect: request.redirect,
      signal: request.signal,
      ...init,
    } as RequestInit,
  ];
}

/**
 * A `fetch` that goes through the proxy the environment names, for `withOAuth` of
 * `@mcp-oauth/fetch` (MCP requests, and OAuth requests of a session it builds), its
 * `createFetchHttpClient` (OAuth requests of a session you build), the MCP SDK's transports, or
 * ky's `fetch` option:
 *
 * ```ts
 * const proxiedFetch = createEnvironmentProxyFetch();
 * const authorizedFetch = withOAuth(proxiedFetch, { serverUrl, client, authorizationHandler });
 * ```
 *
 * With a proxy named, requests go out through undici's `fetch` with an `EnvHttpProxyAgent` built
 * from those settings (CONNECT tunnels; `NO_PROXY` hosts directly), and its responses are
 * undici's. With none, it is the global `fetch`, and undici is never loaded. A `dispatcher` in
 * the call's `init` wins over the proxy's.
 */
export function createEnvironmentProxyFetch(options: EnvironmentProxyOptions = {}): typeof fetch {
  const proxy = readEnvironmentProxy(options.env ?? process.env);
  if (proxy === undefined) return (input, init) => globalThis.fetch(input, init);
  let loaded: Promise<{ undici: UndiciModule; dispatcher: import('undici').Dispatcher }> | undefined;
  const load = async () => {
    const undici = await import('undici');
    const dispatcher = new undici.EnvHttpProxyAgent({
      // Given explicitly, so that undici reads nothing else from process.env.
      httpProxy: proxy.httpProxy ?? '',
      httpsProxy: proxy.httpsProxy ?? proxy.httpProxy ?? '',
      noProxy: proxy.noProxy,
    });
    return { undici, dispatcher };
  };
  return async (input, init) => {
    loaded ??= load();
    const { undici, dispatcher } = await loaded;
    const [resource, requestInit] =
      typeof input === 'object' && 'url' in input && !(input instanceof undici.Request)
        ? foreignRequest(input, init)
        : [input, init];
    const response = await undici.fetch(resource as Parameters<UndiciModule['fetch']>[0], {
      dispatcher,
      ...(requestInit as Parameters<UndiciModule['fetch']>[1]),
    });
    return response as unknown as Response;
  };
}
