import { type OAuthHttpClient, readTextWithLimit } from '@mcp-oauth/core/adapter';
import type { KyInstance } from 'ky';
import { transportOf } from './transport.js';

/**
 * The engine's `OAuthHttpClient` over `instance`'s transport: its `fetch` and the options ky
 * hands `fetch` as they are (e.g. undici's `dispatcher`), and nothing else of it — no default
 * headers, hooks, prefix, search parameters or retries, so discovery, registration and token
 * requests carry exactly the engine's headers (and no cookies). The engine times them out
 * (`timeoutMs`); a redirect is returned as it is; a body is not read past `maxResponseBytes`.
 * Without `instance` (ky's default one has no options), the global `fetch`.
 */
export function createKyHttpClient(instance?: KyInstance): OAuthHttpClient {
  const transport = transportOf(instance);
  return {
    async send({ url, method, headers, body = null, signal, maxResponseBytes }) {
      const init = { method, headers, body, redirect: 'manual', credentials: 'omit', signal } as const;
      // `signal` in the options too: fetch follows a `Request`'s own signal only while it is alive.
      const response = await transport.fetch(new Request(url, init), { ...transport.init, signal });
      if (response.type === 'opaqueredirect') {
        // A browser hides a manual redirect: a 302 without a location, which the engine refuses.
        await response.body?.cancel().catch(() => {});
        return { status: 302, headers: {}, body: '' };
      }
      const text = await readTextWithLimit(response.body, maxResponseBytes);
      // `Headers` iterate lower-case names, repeated values joined with `, ` (`set-cookie` aside).
      const answer = { status: response.status, headers: Object.fromEntries(response.headers), body: text };
      return response.redirected ? { ...answer, url: response.url } : answer;
    },
  };
}
