import { Readable } from 'node:stream';
import { isOAuthClientError, OAuthClientError } from '@mcp-oauth/core';
import type { Got } from 'got';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createGotHttpClient, oauthHooks, withOAuth } from './index.js';
import { type LoopbackServer, startServer } from './test-utils/server.js';
import { StubSession } from './test-utils/session.js';
import { GOT_VERSIONS } from './test-utils/versions.js';

/** The error got rejects with, or a failure when it resolved. */
async function failure(promise: Promise<unknown>): Promise<Error & { code?: string; response?: unknown }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected the request to fail');
}

/** The engine's error itself; got 14.0.0 cannot hand it back, so it is got's RequestError's cause there. */
function expectOAuthError(name: string, error: Error & { code?: string }, code: string): void {
  const engineError = name === 'got 14.0.0' ? error.cause : error;
  if (name === 'got 14.0.0') expect(error.name).toBe('RequestError');
  expect(isOAuthClientError(engineError) && engineError.code === code).toBe(true);
}

const unauthorized = { status: 401, headers: { 'www-authenticate': 'Bearer error="invalid_token"' } };

describe.each(GOT_VERSIONS)('$name', ({ name, got }) => {
  let server: LoopbackServer;
  let other: LoopbackServer;
  let stub: StubSession;
  let client: Got;

  beforeEach(async () => {
    server = await startServer();
    other = await startServer();
    stub = new StubSession(`${server.origin}/mcp`);
    client = withOAuth(got, stub.session);
  });
  afterEach(async () => {
    await server.close();
    await other.close();
  });

  describe('hooks', () => {
    it('adds the session headers inside the resource only', async () => {
      await client(`${server.origin}/mcp`);
      await client(`${server.origin}/outside`);
      expect(server.seen.map((request) => request.headers.authorization)).toEqual([
        'Bearer token-1',
        undefined,
      ]);
      expect(stub.headerRequests).toEqual([
        { method: 'GET', url: `${server.origin}/mcp` },
        { method: 'GET', url: `${server.origin}/outside` },
      ]);
    });

    it('leaves the instance it extends untouched', async () => {
      await got(`${server.origin}/mcp`);
      expect(server.seen[0]?.headers.authorization).toBeUndefined();
      expect(stub.headerRequests).toEqual([]);
    });

    it('shows every response to the session, the retried one included', async () => {
      server.reply = () => (server.seen.length === 1 ? unauthorized : { status: 200, body: 'fine' });
      const response = await client(`${server.origin}/mcp`);
      expect(response.body).toBe('fine');
      expect(server.seen.map((request) => request.headers.authorization)).toEqual([
        'Bearer token-1',
        'Bearer token-2',
      ]);
      expect(stub.seen.map((seen) => [seen.status, seen.attempt])).toEqual([
        [401, 0],
        [200, 1],
      ]);
      expect(stub.seen[0]?.requestHeaders).toMatchObject({ authorization: 'Bearer token-1' });
    });

    it('surfaces a second 401 as got’s HTTPError after exactly two requests', async () => {
      server.reply = () => unauthorized;
      const error = await failure(client(`${server.origin}/mcp`));
      expect(error.name).toBe('HTTPError');
      expect((error.response as { statusCode: number }).statusCode).toBe(401);
      expect(server.seen).toHaveLength(2);
    });

    it('returns the second 401 as a response when throwHttpErrors is off', async () => {
      server.reply = () => unauthorized;
      const response = await client(`${server.origin}/mcp`, { throwHttpErrors: false });
      expect(response.statusCode).toBe(401);
      expect(server.seen).toHaveLength(2);
    });

    const bodies: Array<[string, Record<string, unknown>, Buffer]> = [
      ['json', { json: { a: 1, text: 'é ✓' } }, Buffer.from(JSON.stringify({ a: 1, text: 'é ✓' }))],
      ['string', { body: 'plain ✓' }, Buffer.from('plain ✓')],
      ['bytes', { body: Buffer.from([0, 255, 128, 7]) }, Buffer.from([0, 255, 128, 7])],
      ['form', { form: { a: '1', b: 'x y&z' } }, Buffer.from('a=1&b=x+y%26z')],
    ];
    it.each(bodies)('re-sends a %s body byte for byte on the retry', async (_kind, options, expected) => {
      server.reply = () => (server.seen.length === 1 ? unauthorized : { status: 200 });
      await client.post(`${server.origin}/mcp`, options);
      expect(server.seen.map((request) => request.body)).toEqual([expected, expected]);
    });

    it('sends a FormData body again, serialised anew', async () => {
      server.reply = () => (server.seen.length === 1 ? unauthorized : { status: 200 });
      const form = new FormData();
      form.append('field', 'value ✓');
      form.append('file', new Blob(['file content']), 'note.txt');
      await client.post(`${server.origin}/mcp`, { body: form });
      const [first, retry] = server.seen.map((request) => {
        const boundary = /boundary=(.+)$/.exec(request.headers['content-type'] ?? '')?.[1] ?? 'none';
        return request.body.toString().replaceAll(boundary, 'BOUNDARY');
      });
      expect(first).toContain('value ✓');
      expect(first).toContain('file content');
      expect(retry).toBe(first);
    });

    it('refuses to retry a stream body: request_not_replayable, one request sent', async () => {
      server.reply = () => unauthorized;
      const error = await failure(
        client.post(`${server.origin}/mcp`, { body: Readable.from([Buffer.from('chunk')]) }),
      );
      expectOAuthError(name, error, 'request_not_replayable');
      expect(server.seen).toHaveLength(1);
    });

    it('retries a POST at once, whatever the instance’s retry rules and backoff', async () => {
      const strict = withOAuth(
        got.extend({ retry: { limit: 0, methods: [], calculateDelay: () => 60_000 } }),
        stub.session,
      );
      server.reply = () => (server.seen.length === 1 ? unauthorized : { status: 200 });
      const started = Date.now();
      await strict.post(`${server.origin}/mcp`, { body: 'x' });
      expect(Date.now() - started).toBeLessThan(1000);
      expect(server.seen).toHaveLength(2);
    });

    it('leaves the instance’s retry budget to its own retries', async () => {
      const retrying = withOAuth(
        got.extend({
          retry: {
            limit: 1,
            statusCodes: [503],
            calculateDelay: ({ computedValue }) => (computedValue === 0 ? 0 : 1),
          },
        }),
        stub.session,
      );
      const replies = [unauthorized, { status: 503 }, { status: 200, body: 'done' }];
      server.reply = () => replies[server.seen.length - 1];
      const response = await retrying(`${server.origin}/mcp`);
      expect(response.body).toBe('done');
      expect(server.seen).toHaveLength(3);
    });

    it('drops authorization and DPoP on a redirect to another origin', async () => {
      stub = new StubSession(`${server.origin}/mcp`, true);
      client = withOAuth(got, stub.session);
      server.reply = () => ({ status: 307, headers: { location: `${other.origin}/mcp` } });
      await client.post(`${server.origin}/mcp`, { body: 'x' });
      expect(server.seen[0]?.headers).toMatchObject({ authorization: 'Bearer token-1' });
      expect(server.seen[0]?.headers.dpop).toBeDefined();
      expect(other.seen).toHaveLength(1);
      expect(other.seen[0]?.headers.authorization).toBeUndefined();
      expect(other.seen[0]?.headers.dpop).toBeUndefined();
    });

    it('drops them on a same-origin redirect out of the resource, and renews them within it', async () => {
      stub = new StubSession(`${server.origin}/mcp`, true);
      client = withOAuth(got, stub.session);
      const locations: Record<string, string> = { '/mcp/a': '/mcp/b', '/mcp/b': '/outside' };
      server.reply = (request) => {
        const location = locations[request.path];
        return location === undefined ? { status: 200 } : { status: 302, headers: { location } };
      };
      await client(`${server.origin}/mcp/a`);
      const [first, second, third] = server.seen;
      expect(first?.headers.dpop).toContain(`${server.origin}/mcp/a`);
      expect(second?.headers.dpop).toContain(`${server.origin}/mcp/b`);
      expect(second?.headers.authorization).toBe('Bearer token-1');
      expect(third?.path).toBe('/outside');
      expect(third?.headers.authorization).toBeUndefined();
      expect(third?.headers.dpop).toBeUndefined();
    });

    it('cancels a request waiting on the session when its signal aborts', async () => {
      stub.wait = (signal) =>
        new Promise((_, reject) => {
          signal?.addEventListener('abort', () => reject(new OAuthClientError('aborted', 'aborted')));
        });
      const controller = new AbortController();
      const pending = failure(client(`${server.origin}/mcp`, { signal: controller.signal }));
      setTimeout(() => controller.abort(), 20);
      const error = await pending;
      expect(error.name).toBe('AbortError');
      expect(server.seen).toHaveLength(0);
    });

    it('surfaces a session failure as the typed error', async () => {
      server.reply = () => unauthorized;
      stub.handleResponse = async () => {
        throw new OAuthClientError('refresh_failed', 'refreshing the access token failed');
      };
      const error = await failure(client(`${server.origin}/mcp`));
      expectOAuthError(name, error, 'refresh_failed');
      expect(server.seen).toHaveLength(1);
    });

    it('runs earlier response hooks on both responses, later ones on the final one only, and no beforeRetry', async () => {
      const calls: string[] = [];
      const before = got.extend({
        hooks: {
          afterResponse: [
            (response) => {
              calls.push(`before ${response.statusCode}`);
              return response;
            },
          ],
          beforeRetry: [() => void calls.push('beforeRetry')],
        },
      });
      const ordered = withOAuth(before, stub.session).extend({
        hooks: {
          afterResponse: [
            (response) => {
              calls.push(`after ${response.statusCode}`);
              return response;
            },
          ],
        },
      });
      server.reply = () => (server.seen.length === 1 ? unauthorized : { status: 200 });
      await ordered(`${server.origin}/mcp`);
      expect(calls).toEqual(['before 401', 'before 200', 'after 200']);
    });

    it('keeps got’s prefixUrl, .json() and resolveBodyOnly working across the retry', async () => {
      const api = withOAuth(
        got.extend({ prefixUrl: `${server.origin}/mcp`, resolveBodyOnly: true }),
        stub.session,
      );
      server.reply = () =>
        server.seen.length === 1
          ? unauthorized
          : { status: 200, headers: { 'content-type': 'application/json' }, body: '{"ok":true}' };
      expect(await api.post('tools', { json: { a: 1 } }).json()).toEqual({ ok: true });
      expect(server.seen.map((request) => request.path)).toEqual(['/mcp/tools', '/mcp/tools']);
      expect(server.seen[1]?.headers.authorization).toBe('Bearer token-2');
    });

    it('lets the hooks of two sessions share one instance', async () => {
      const second = new StubSession(`${other.origin}/mcp`);
      second.token = 100;
      const both = withOAuth(withOAuth(got, stub.session), second.session);
      other.reply = () => (other.seen.length === 1 ? unauthorized : { status: 200 });
      await both(`${server.origin}/mcp`);
      await both(`${other.origin}/mcp`);
      expect(server.seen.map((request) => request.headers.authorization)).toEqual(['Bearer token-1']);
      expect(other.seen.map((request) => request.headers.authorization)).toEqual([
        'Bearer token-100',
        'Bearer token-101',
      ]);
    });

    it('works as plain hooks in an instance of the application’s own', async () => {
      const own = got.extend({ hooks: oauthHooks(stub.session, got) });
      server.reply = () => (server.seen.length === 1 ? unauthorized : { status: 200 });
      await own.post(`${server.origin}/mcp`, { json: { a: 1 } });
      expect(server.seen.map((request) => request.headers.authorization)).toEqual([
        'Bearer token-1',
        'Bearer token-2',
      ]);
    });
  });

  describe('createGotHttpClient', () => {
    const send = (
      httpClient: ReturnType<typeof createGotHttpClient>,
      overrides: Record<string, unknown> = {},
    ) =>
      httpClient.send({
        method: 'GET',
        url: `${server.origin}/.well-known/oauth-authorization-server`,
        headers: { accept: 'application/json' },
        redirect: 'never',
        timeoutMs: 5000,
        maxResponseBytes: 1024,
        signal: new AbortController().signal,
        ...overrides,
      });

    it('sends only the engine’s headers and body, whatever the instance adds', async () => {
      let hookRuns = 0;
      const application = got.extend({
        prefixUrl: `${server.origin}/api`,
        headers: { 'x-mcp-session': 'app', authorization: 'Basic app', 'user-agent': 'my-app/1.0' },
        searchParams: { app: '1' },
        hooks: {
          beforeRequest: [
            (options) => {
              hookRuns++;
              options.headers['x-hook'] = 'hook';
            },
          ],
        },
        handlers: [
          (options, next) => {
            options.headers['x-handler'] = 'handler';
            return next(options);
          },
        ],
      });
      const response = await send(createGotHttpClient(application), {
        method: 'POST',
        url: `${server.origin}/token`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=refresh_token',
      });
      expect(response.status).toBe(200);
      const [request] = server.seen;
      expect(request?.path).toBe('/token');
      expect(request?.body.toString()).toBe('grant_type=refresh_token');
      const names = Object.keys(request?.headers ?? {}).sort();
      expect(
        names.filter(
          (header) => !['accept-encoding', 'connection', 'content-length', 'host'].includes(header),
        ),
      ).toEqual(['content-type', 'user-agent']);
      expect(request?.headers['user-agent']).toBe('my-app/1.0');
      expect(hookRuns).toBe(0);
      await application('mcp');
      expect(hookRuns).toBe(1);
      expect(server.seen[1]?.headers['x-mcp-session']).toBe('app');
    });

    it('returns redirects and error statuses as they are', async () => {
      server.reply = (request) =>
        request.path === '/moved'
          ? { status: 302, headers: { location: '/elsewhere' } }
          : {
              status: 400,
              headers: { 'content-type': 'application/json' },
              body: '{"error":"invalid_grant"}',
            };
      const redirect = await send(createGotHttpClient(got), { url: `${server.origin}/moved` });
      expect(redirect).toMatchObject({ status: 302, headers: { location: '/elsewhere' } });
      const failed = await send(createGotHttpClient(got), { url: `${server.origin}/token` });
      expect(failed).toMatchObject({ status: 400, body: '{"error":"invalid_grant"}' });
      expect(server.seen).toHaveLength(2);
    });

    it('stops reading past maxResponseBytes', async () => {
      server.reply = () => ({ status: 200, body: 'x'.repeat(5000) });
      const error = await failure(send(createGotHttpClient(got)));
      expect(isOAuthClientError(error, 'response_too_large')).toBe(true);
    });

    it('honours the signal', async () => {
      server.reply = () => undefined;
      const controller = new AbortController();
      const pending = failure(send(createGotHttpClient(got), { signal: controller.signal }));
      setTimeout(() => controller.abort(), 20);
      expect(await pending).toBeInstanceOf(Error);
    });
  });
});

describe('createGotHttpClient without an instance', () => {
  it('uses got’s default instance', async () => {
    const server = await startServer();
    try {
      const response = await createGotHttpClient().send({
        method: 'GET',
        url: `${server.origin}/x`,
        headers: {},
        redirect: 'never',
        timeoutMs: 5000,
        maxResponseBytes: 1024,
        signal: new AbortController().signal,
      });
      expect(response).toMatchObject({ status: 200, body: 'ok' });
    } finally {
      await server.close();
    }
  });
});
