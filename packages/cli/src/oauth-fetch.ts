import type { OAuthSession } from '@mcp-oauth/core';
import { withOAuth } from '@mcp-oauth/fetch';
import { createEnvironmentProxyFetch } from '@mcp-oauth/node';
import type { DebugLog } from './log.js';

let environmentFetch: typeof fetch | undefined;

/**
 * The fetch under every OAuth and MCP request of the CLI: through the proxy `HTTPS_PROXY` or
 * `HTTP_PROXY` names, but for `NO_PROXY` hosts (the global fetch when none is named).
 */
export function networkFetch(): typeof fetch {
  environmentFetch ??= createEnvironmentProxyFetch();
  return environmentFetch;
}

/** The URL without query or fragment, for the log. */
function loggable(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return '(not a URL)';
  }
}

/** `fetchImpl`, with one debug line per HTTP exchange: method, URL without query, status. */
function loggingFetch(fetchImpl: typeof fetch, log: DebugLog): typeof fetch {
  if (!log.enabled) return fetchImpl;
  return async (input, init) => {
    const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
    const url = loggable(input instanceof Request ? input.url : String(input));
    try {
      const response = await fetchImpl(input, init);
      log.write('debug', 'mcp.exchange', { method, url, status: response.status });
      return response;
    } catch (error) {
      log.write('debug', 'mcp.exchange_failed', { method, url, error: (error as Error | null)?.name });
      throw error;
    }
  };
}

/**
 * The one place the CLI puts OAuth on fetch: every MCP request (`tools`, `call`, `proxy`) goes
 * through this wrapper, which adds the session's token inside the server's URL only, renews it,
 * and steps up on `insufficient_scope`.
 */
export function oauthFetch(
  session: OAuthSession,
  log: DebugLog,
  fetchImpl: typeof fetch = networkFetch(),
): typeof fetch {
  return withOAuth(loggingFetch(fetchImpl, log), session);
}
