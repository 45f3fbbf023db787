import type { OAuthHttpClient, OAuthHttpRequest, OAuthHttpResponse } from '@mcp-oauth/core';
import { readTextWithLimit } from '@mcp-oauth/core/adapter';

/**
 * The engine's `OAuthHttpClient` over the global `fetch` (Node 20+, browsers, Deno, Bun): it sends
 * exactly what the engine asks for, never follows a redirect, and stops reading a body at the cap.
 */
export function createFetchHttpClient(fetchFunction: typeof fetch = globalThis.fetch): OAuthHttpClient {
  return {
    async send(request: OAuthHttpRequest): Promise<OAuthHttpResponse> {
      const response = await fetchFunction(request.url, {
        method: request.method,
        headers: request.headers,
        ...(request.body === undefined ? {} : { body: request.body }),
        redirect: 'manual',
        signal: request.signal,
      });
      const headers: Record<string, string> = {};
      response.headers.forEach((value, name) => {
        const previous = headers[name];
        headers[name] = previous === undefined ? value : `${previous}, ${value}`;
      });
      // core's reader throws `response_too_large` (and cancels the stream) past the cap.
      const body = await readTextWithLimit(response.body, request.maxResponseBytes);
      return { status: response.status, headers, body };
    },
  };
}
