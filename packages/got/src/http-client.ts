import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { type OAuthHttpClient, readTextWithLimit } from '@mcp-oauth/core/adapter';
import type { Got } from 'got';

/**
 * An `OAuthHttpClient` that sends the engine's discovery, registration, token and revocation
 * requests through `instance` (default: got's own), so they use its agents, TLS options, DNS,
 * timeouts and HTTP/2 settings. Its headers (but `user-agent`), hooks, handlers, `prefixUrl`,
 * `searchParams`, credentials, cookie jar and cache are not used: only the engine's headers are sent.
 */
export function createGotHttpClient(instance?: Got): OAuthHttpClient {
  let transport: Promise<Got> | undefined;
  return {
    async send(request) {
      transport ??= transportOf(instance);
      const stream = (await transport).stream(request.url, {
        method: request.method,
        headers: request.headers,
        // In stream mode got waits for a POST body to be written: always give it one.
        ...(request.body === undefined && request.method === 'GET' ? {} : { body: request.body ?? '' }),
        signal: request.signal,
        followRedirect: false,
        throwHttpErrors: false,
        retry: { limit: 0 },
      });
      const response = await new Promise<IncomingMessage>((resolve, reject) => {
        stream.once('response', resolve).once('error', reject);
      });
      // core's reader stops (and cancels the stream) past the limit with `response_too_large`.
      const web = Readable.toWeb(stream) as ReadableStream<Uint8Array>;
      const body = await readTextWithLimit(web, request.maxResponseBytes);
      const headers = Object.entries(response.headers).flatMap(([name, value]) =>
        value === undefined ? [] : [[name, Array.isArray(value) ? value.join(', ') : value]],
      );
      return { status: response.statusCode ?? 0, headers: Object.fromEntries(headers), body };
    },
  };
}

/** A copy of `instance` that keeps its transport settings and nothing that adds to a request. */
async function transportOf(instance: Got | undefined): Promise<Got> {
  const base = instance ?? (await import('got')).default;
  const userAgent = base.defaults.options.headers['user-agent'];
  const transport = base.extend({ mutableDefaults: true });
  transport.defaults.handlers.length = 0;
  const { hooks } = transport.defaults.options;
  // Assignments outside `extend` replace a value instead of merging into it.
  Object.assign(transport.defaults.options, {
    headers: userAgent === undefined ? {} : { 'user-agent': userAgent },
    hooks: Object.fromEntries(Object.keys(hooks).map((event) => [event, []])),
    prefixUrl: '',
    searchParams: undefined,
    username: '',
    password: '',
    cookieJar: undefined,
    cache: undefined,
  });
  return transport;
}
