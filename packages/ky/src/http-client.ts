import { OAuthClientError, type OAuthHttpClient, readTextWithLimit } from '@mcp-oauth/core';
import ky, { type Options } from 'ky';
import { discard } from './redirects.js';
import { fetchOnlyOptions } from './transport.js';

/**
 * The engine's `OAuthHttpClient` over ky. Discovery, registration and token requests go out
 * through `instance`'s `fetch`, its `timeout` and the options it hands to `fetch` as they are
 * (e.g. undici's `dispatcher`) — and nothing else of it: no default headers, hooks, prefix,
 * search parameters or retries, so they carry only the headers the engine sets (and no cookies).
 * A redirect is returned as it is, and a body larger than the engine's cap is not read past it.
 */
export function createKyHttpClient(instance: typeof ky = ky): OAuthHttpClient {
  let defaults: Options = {};
  try {
    instance.extend((parent) => {
      defaults = parent;
      return {};
    });
  } catch {
    // ky before 1.5 cannot show an instance its parent's options: nothing is inherited.
  }
  const client = instance.create({
    ...fetchOnlyOptions(defaults),
    ...(defaults.fetch === undefined ? {} : { fetch: defaults.fetch }),
    timeout: defaults.timeout ?? false, // the engine times out its own requests
    retry: 0,
    throwHttpErrors: false,
  });
  return {
    async send(request) {
      let response: Response;
      try {
        response = await client(request.url, {
          method: request.method,
          headers: request.headers,
          ...(request.body === undefined ? {} : { body: request.body }),
          redirect: 'manual',
          credentials: 'omit',
          signal: request.signal,
        });
      } catch (error) {
        if (error instanceof Error && error.name === 'TimeoutError') {
          throw new OAuthClientError('timeout', 'the request timed out');
        }
        throw error;
      }
      if (response.type === 'opaqueredirect') {
        // A browser hides a manual redirect: a 302 without a location, which the engine refuses.
        discard(response);
        return { status: 302, headers: {}, body: '' };
      }
      const headers: Record<string, string> = {};
      response.headers.forEach((value, name) => {
        headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
      });
      return {
        status: response.status,
        headers,
        body: await readTextWithLimit(response.body, request.maxResponseBytes),
      };
    },
  };
}
