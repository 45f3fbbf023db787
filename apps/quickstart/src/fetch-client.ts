import type { OAuthHttpClient, OAuthHttpRequest, OAuthHttpResponse } from '@mcp-oauth/core';

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
      const body = await readText(response, request.maxResponseBytes);
      return { status: response.status, headers, body };
    },
  };
}

/** Reads the body as UTF-8, throwing as soon as more than `maxBytes` have arrived. */
async function readText(response: Response, maxBytes: number): Promise<string> {
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return text + decoder.decode();
    received += value.byteLength;
    if (received > maxBytes) {
      await reader.cancel();
      throw new Error(`response body exceeds ${maxBytes} bytes`);
    }
    text += decoder.decode(value, { stream: true });
  }
}
