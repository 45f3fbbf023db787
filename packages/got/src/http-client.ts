import { Readable } from 'node:stream';
import { type OAuthHttpClient, type OAuthHttpResponse, readTextWithLimit } from '@mcp-oauth/core';
import type { Got, Hooks } from 'got';

/**
 * An `OAuthHttpClient` that sends the engine's discovery, registration, token and revocation
 * requests through `instance` (default: got's own), so they use its agents, TLS options, DNS,
 * timeouts and HTTP/2 settings. Its headers (but `user-agent`), hooks, handlers, `prefixUrl`,
 * `searchParams`, credentials, cookie jar and cache are not used: only the engine's headers are sent.
 */
export function createGotHttpClient(instance?: Got): OAuthHttpClient {
  let derived: Promise<Got> | undefined;
  return {
    async send(request) {
      derived ??= transportOf(instance);
      const stream = (await derived).stream(request.url, {
        method: request.method,
        headers: request.headers,
        // In stream mode got waits for a POST body to be written: always give it one.
        ...(request.body === undefined && request.method === 'GET' ? {} : { body: request.body ?? '' }),
        signal: request.signal,
        followRedirect: false,
        throwHttpErrors: false,
        retry: { limit: 0 },
      });
      const response = await new Promise<{ statusCode: number; headers: Record<string, unknown> }>(
        (resolve, reject) => {
          stream.once('response', resolve);
          stream.once('error', reject);
        },
      );
      // core's reader stops (and cancels the stream) past the limit with `response_too_large`.
      const body = await readTextWithLimit(
        Readable.toWeb(stream) as ReadableStream<Uint8Array>,
        request.maxResponseBytes,
      );
      return { status: response.statusCode, headers: flatten(response.headers), body };
    },
  };
}

/** A copy of `instance` that keeps its transport settings and nothing that adds to a request. */
async function transportOf(instance: Got | undefined): Promise<Got> {
  const base = instance ?? (await import('got')).default;
  const userAgent = base.defaults.options.headers['user-agent'];
  const transport = base.extend({ mutableDefaults: true });
  const options = transport.defaults.options;
  // Assignments outside `extend` replace a value instead of merging into it.
  options.headers = userAgent === undefined ? {} : { 'user-agent': userAgent };
  options.hooks = Object.fromEntries(
    Object.keys(options.hooks).map((event) => [event, []]),
  ) as unknown as Hooks;
  transport.defaults.handlers.length = 0;
  options.prefixUrl = '';
  options.searchParams = undefined;
  options.username = '';
  options.password = '';
  options.cookieJar = undefined;
  options.cache = undefined;
  return transport;
}

function flatten(headers: Record<string, unknown>): OAuthHttpResponse['headers'] {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return flat;
}
