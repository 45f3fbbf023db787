import { type OAuthHttpClient, type OAuthHttpResponse, readTextWithLimit } from '@mcp-oauth/core/adapter';

/**
 * The engine's `OAuthHttpClient` over fetch: exactly the engine's method, URL, headers and body,
 * no cookies, no redirects followed, the body read up to `maxResponseBytes`.
 *
 * Browsers hide a manual redirect behind an `opaqueredirect` response (status 0, no `Location`);
 * it is reported as a 302 without a location, which the engine refuses (`redirect_not_allowed`).
 */
export function createFetchHttpClient(fetchImpl: typeof fetch = globalThis.fetch): OAuthHttpClient {
  return {
    async send(request): Promise<OAuthHttpResponse> {
      const response = await fetchImpl(request.url, {
        method: request.method,
        headers: request.headers,
        body: request.body ?? null,
        redirect: 'manual',
        credentials: 'omit',
        signal: request.signal,
      });
      if (response.type === 'opaqueredirect') {
        await response.body?.cancel().catch(() => {});
        return { status: 302, headers: {}, body: '' };
      }
      const headers: Record<string, string> = {};
      response.headers.forEach((value, name) => {
        const key = name.toLowerCase();
        headers[key] = headers[key] === undefined ? value : `${headers[key]}, ${value}`;
      });
      const body = await readTextWithLimit(response.body, request.maxResponseBytes);
      // A fetch that followed a redirect anyway says so; the engine then refuses the response.
      return {
        status: response.status,
        headers,
        body,
        ...(response.redirected ? { url: response.url } : {}),
      };
    },
  };
}
