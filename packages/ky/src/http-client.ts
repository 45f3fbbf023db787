import { OAuthClientError, type OAuthHttpClient, readTextWithLimit } from '@mcp-oauth/core';
import type { default as ky, Options } from 'ky';
import { discard } from './redirects.js';
import { fetchOnlyOptions } from './transport.js';

/**
 * The engine's `OAuthHttpClient` over ky. Discovery, registration and token requests go out
 * through `instance`'s `fetch`, its `timeout` and the options it hands to `fetch` as they are
 * (e.g. undici's `dispatcher`) — and nothing else of it: no default headers, hooks, prefix,
 * search parameters or retries, so they carry only the headers the engine sets (and no cookies).
 * A redirect is returned as it is, and a body larger than the engine's cap is not read past it.
 * Without `instance`, ky's default instance is imported at the first request: ky is ESM only, and
 * this package can then be `require`d where Node cannot `require` ESM (before 20.19).
 */
export function createKyHttpClient(instance?: typeof ky): OAuthHttpClient {
  let client = instance === undefined ? undefined : transportOf(instance);
  return {
    async send(request) {
      client ??= transportOf((await import('ky')).default);
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

/** A ky instance with `instance`'s `fetch`, `timeout` and fetch-only options, and nothing else of it. */
function transportOf(instance: typeof ky): typeof ky {
  let defaults: Options = {};
  try {
    instance.extend((parent) => {
      defaults = parent;
      return {};
    });
  } catch {
    // ky before 1.5 cannot show an instance its parent's options: nothing is inherited.
  }
  return instance.create({
    ...fetchOnlyOptions(defaults),
    ...(defaults.fetch === undefined ? {} : { fetch: defaults.fetch }),
    timeout: defaults.timeout ?? false, // the engine times out its own requests
    retry: 0,
    throwHttpErrors: false,
  });
}
