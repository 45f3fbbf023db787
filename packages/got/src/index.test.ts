import { Agent as HttpAgent } from 'node:http';
import { Readable } from 'node:stream';
import { inspect } from 'node:util';
import { isOAuthClientError, OAuthSession, type OAuthSessionOptions } from '@mcp-oauth/core';
import { dpop } from '@mcp-oauth/core/dpop';
import { type EchoServer, startEchoServer, startTestServer, type TestServer } from '@mcp-oauth/testkit';
import type { Got, Response } from 'got';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createGotHttpClient, withOAuth } from './index.js';
import { type LoopbackServer, startServer } from './test-utils/server.js';
import { GOT_VERSIONS } from './test-utils/versions.js';

/** The error a promise rejects with, or a failure when it resolved. */
async function failure(promise: Promise<unknown>): Promise<Error & { code?: string; response?: Response }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected the request to fail');
}

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Setup {
  readonly server: TestServer;
  readonly echo: EchoServer;
  readonly session: OAuthSession;
  readonly warnings: Array<{ event: string; data: unknown }>;
  readonly client: Got;
}

async function setup(
  got: Got,
  options: { dpop?: boolean; session?: Partial<OAuthSessionOptions>; instance?: Got } = {},
): Promise<Setup> {
  const server = await startTestServer({ dpop: options.dpop === true });
  const echo = await startEchoServer();
  cleanups.push(
    () => server.close(),
    () => echo.close(),
  );
  const warnings: Setup['warnings'] = [];
  const session = new OAuthSession({
    serverUrl: server.mcpUrl,
    httpClient: createGotHttpClient(got),
    client: { clientName: 'got unit tests', redirectUris: ['http://127.0.0.1/callback'] },
    authorizationHandler: server.authorizationHandler(),
    logger: { debug() {}, warn: (event, data) => void warnings.push({ event, data }) },
    ...(options.dpop === true ? { dpop: dpop() } : {}),
    ...options.session,
  });
  return { server, echo, session, warnings, client: withOAuth(options.instance ?? got, session) };
}

/** The first request: 401, then the whole authorization, then the retry answered 200. */
async function authorized(got: Got, options: Parameters<typeof setup>[1] = {}): Promise<Setup> {
  const context = await setup(got, options);
  expect((await context.client(context.server.mcpUrl)).statusCode).toBe(200);
  return context;
}

/** Every secret a request carried: the access tokens issued, and each DPoP proof sent. */
function secretsOf(server: TestServer): string[] {
  return [
    ...server.issuedTokens.map((token) => token.accessToken),
    ...server.requests.flatMap((record) => (record.headers.dpop === undefined ? [] : [record.headers.dpop])),
  ];
}

/** `JSON.stringify` as a logger calls it: '' for what cannot be serialised (a response, an agent). */
function json(value: unknown): string {
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    return '';
  }
}

/** The ways an application prints an error or a response, each checked for every secret. */
function expectNoSecret(value: unknown, secrets: readonly string[]): void {
  expect(secrets.length).toBeGreaterThan(0);
  const { request, response } = value as { request?: unknown; response?: { request?: unknown } };
  const printed = [
    inspect(value, { depth: 8 }),
    inspect(value, { depth: 8, showHidden: true }),
    json(value),
    inspect(request, { depth: 8, showHidden: true }),
    inspect(response, { depth: 8, showHidden: true }),
    inspect(response?.request, { depth: 8, showHidden: true }),
  ].join('\n');
  for (const secret of secrets) expect(printed).not.toContain(secret);
  expect(printed).toContain('[redacted]');
}

describe.each(GOT_VERSIONS)('$name', ({ name, got }) => {
  describe('withOAuth', () => {
    it('builds its own session from options, sending its OAuth requests through the instance', async () => {
      const server = await startTestServer();
      cleanups.push(() => server.close());
      const app = got.extend({ headers: { 'user-agent': 'my-app/1.0', 'x-app': 'app' } });
      const client = withOAuth(app, {
        serverUrl: server.mcpUrl,
        client: { redirectUris: ['http://127.0.0.1/callback'] },
        authorizationHandler: server.authorizationHandler(),
      });
      expect((await client(server.mcpUrl)).statusCode).toBe(200);
      expect(client.oauthSession).toBeInstanceOf(OAuthSession);
      expect(Object.keys(client)).not.toContain('oauthSession');
      const [token] = server.requestsTo('/token');
      expect(token?.headers['user-agent']).toBe('my-app/1.0');
      expect(token?.headers['x-app']).toBeUndefined();
      expect(server.requestsTo('/mcp').map((record) => record.headers['x-app'])).toEqual(['app', 'app']);
    });

    it('takes a session as it is, and leaves the instance it extends untouched', async () => {
      const { server, session, client } = await authorized(got);
      expect((client as Got & { oauthSession: OAuthSession }).oauthSession).toBe(session);
      const plain = await got(server.mcpUrl, { throwHttpErrors: false });
      expect(plain.statusCode).toBe(401);
      expect(server.requestsTo('/mcp').map((record) => record.headers.authorization === undefined)).toEqual([
        true,
        false,
        true,
      ]);
    });
  });

  describe('several sessions, other hosts', () => {
    it("leaves the caller's own Authorization alone outside the resource", async () => {
      const { echo, client } = await authorized(got);
      await client(echo.url('/api'), { headers: { authorization: 'token app-key' } });
      expect(echo.requests.map((record) => record.headers.authorization)).toEqual(['token app-key']);
    });

    it('authorizes two MCP servers through one instance extended twice', async () => {
      const first = await setup(got);
      const second = await setup(got);
      const both = withOAuth(withOAuth(got, first.session), second.session);
      expect((await both(first.server.mcpUrl)).statusCode).toBe(200);
      expect((await both.post(second.server.url('/mcp/tools'), { json: { a: 1 } })).statusCode).toBe(200);
      expect((await both(first.server.url('/mcp/again'))).statusCode).toBe(200);
      const sent = (server: TestServer, path: string) =>
        server.requestsTo(path).map((record) => record.headers.authorization?.split(' ')[1]);
      const [firstToken, secondToken] = [first.server, second.server].map(
        (server) => server.issuedTokens[0]?.accessToken,
      );
      expect(sent(first.server, '/mcp')).toEqual([undefined, firstToken]);
      expect(sent(first.server, '/mcp/again')).toEqual([firstToken]);
      expect(sent(second.server, '/mcp/tools')).toEqual([undefined, secondToken]);
      // The first session sees the second server's 401 before the second session handles it.
      expect(first.warnings.map((warning) => warning.event)).toEqual(['session.outside_scope']);
      expect(second.warnings).toEqual([]);
    });
  });

  describe('redirects', () => {
    for (const dpopMode of [false, true]) {
      const kind = dpopMode ? 'DPoP' : 'Bearer';

      it(`${kind}: follows each hop inside the resource with that hop's own credentials`, async () => {
        const { server, client } = await authorized(got, { dpop: dpopMode });
        server.redirectTo('/mcp/a', server.url('/mcp/b'), 302);
        const response = await client(server.url('/mcp/a'));
        expect(response.statusCode).toBe(200);
        expect(response.url).toBe(server.url('/mcp/b'));
        const [hopA, hopB] = [server.requestsTo('/mcp/a')[0], server.requestsTo('/mcp/b')[0]];
        const token = server.issuedTokens[0]!.accessToken;
        for (const hop of [hopA, hopB]) expect(hop?.headers.authorization).toBe(`${kind} ${token}`);
        if (dpopMode) {
          expect(hopA?.dpop?.htu).toBe(server.url('/mcp/a'));
          expect(hopB?.dpop?.htu).toBe(server.url('/mcp/b'));
          expect(hopA?.dpop?.jti).not.toBe(hopB?.dpop?.jti);
        }
      });

      for (const status of [302, 307]) {
        it(`${kind}: a ${status} to a same-origin path outside the resource gets no credentials`, async () => {
          const { server, client } = await authorized(got, { dpop: dpopMode });
          server.redirectTo('/mcp/x', server.url('/outside/x'), status);
          const response = await client.post(server.url('/mcp/x'), { json: { a: 1 } });
          expect(response.statusCode).toBe(200);
          expect(server.requestsTo('/mcp/x')[0]?.headers.authorization).toMatch(new RegExp(`^${kind} `));
          const [outside] = server.requestsTo('/outside/x');
          expect(outside?.method).toBe(status === 307 ? 'POST' : 'GET');
          expect(outside?.headers.authorization).toBeUndefined();
          expect(outside?.headers.dpop).toBeUndefined();
        });
      }
    }

    it('hands a redirect back when the caller follows none (followRedirect: false)', async () => {
      const { server, client } = await authorized(got);
      server.redirectTo('/mcp/a', server.url('/mcp/b'), 302);
      const response = await client(server.url('/mcp/a'), { followRedirect: false });
      expect(response.statusCode).toBe(302);
      expect(server.count('/mcp/a')).toBe(1);
      expect(server.count('/mcp/b')).toBe(0);
    });

    it('leaves redirects outside the resource to got, with no credentials', async () => {
      const { server, echo, client } = await authorized(got);
      server.redirectTo('/public/a', echo.url('/landing'), 302);
      const response = await client(server.url('/public/a'));
      expect(response.statusCode).toBe(200);
      expect(response.redirectUrls.map(String)).toEqual([echo.url('/landing')]);
      expect(echo.credentialed()).toEqual([]);
    });
  });

  describe("got's own machinery", () => {
    it("sends the authorization retry at once: not one of got's retries, a POST included", async () => {
      const calculateDelay = vi.fn(() => 0);
      const beforeRetry = vi.fn();
      const strict = got.extend({
        retry: { limit: 0, methods: [], calculateDelay },
        hooks: { beforeRetry: [beforeRetry] },
      });
      const { server, client } = await setup(got, { instance: strict });
      const response = await client.post(server.url('/mcp/tools'), { json: { a: 1 } });
      expect(response.statusCode).toBe(200);
      expect(server.requestsTo('/mcp/tools').map((record) => record.status)).toEqual([401, 200]);
      expect(calculateDelay).not.toHaveBeenCalled();
      expect(beforeRetry).not.toHaveBeenCalled();
    });

    it("keeps got's own retries, each with fresh credentials", async () => {
      const beforeRetry = vi.fn();
      const retrying = got.extend({
        retry: {
          limit: 1,
          statusCodes: [503],
          calculateDelay: ({ computedValue }) => (computedValue === 0 ? 0 : 1),
        },
        hooks: { beforeRetry: [beforeRetry] },
      });
      const { server, client } = await setup(got, { dpop: true, instance: retrying });
      // First contact 401 (authorization, then the retry), the retry 503 (got's retry), then 200.
      const replies = [401, 503];
      server.respondWith('/mcp/flaky', () => {
        const status = replies.shift() ?? 200;
        return status === 401
          ? {
              status,
              headers: { 'www-authenticate': `Bearer resource_metadata="${server.resourceMetadataUrl}"` },
            }
          : { status, body: status === 200 ? 'done' : '' };
      });
      const response = await client(server.url('/mcp/flaky'));
      expect(response.body).toBe('done');
      const sent = server.requestsTo('/mcp/flaky');
      expect(sent.map((record) => record.status)).toEqual([401, 503, 200]);
      expect(sent.map((record) => record.headers.authorization?.split(' ')[0])).toEqual([
        undefined,
        'DPoP',
        'DPoP',
      ]);
      expect(new Set(sent.slice(1).map((record) => record.dpop?.jti)).size).toBe(2);
      expect(beforeRetry).toHaveBeenCalledTimes(1);
    });

    it("follows a redirect answered to got's own retry, hop by hop", async () => {
      const retrying = got.extend({
        retry: { limit: 1, calculateDelay: ({ computedValue }) => Math.min(computedValue, 1) },
      });
      const { server, client } = await authorized(got, { instance: retrying });
      const replies = [{ status: 503 }, { status: 302, headers: { location: server.url('/mcp/b') } }];
      server.respondWith('/mcp/a', () => replies.shift() ?? { status: 500 });
      const response = await client(server.url('/mcp/a'));
      expect(response.statusCode).toBe(200);
      expect(response.url).toBe(server.url('/mcp/b'));
      const token = `Bearer ${server.issuedTokens[0]!.accessToken}`;
      expect(server.requestsTo('/mcp/b').map((record) => record.headers.authorization)).toEqual([token]);
    });

    it('runs earlier afterResponse hooks on every response, later ones once, on the last', async () => {
      const calls: string[] = [];
      const record = (label: string) => (response: Response) => {
        calls.push(`${label} ${response.statusCode}`);
        return response;
      };
      const before = got.extend({ hooks: { afterResponse: [record('before')] } });
      const { server, session } = await setup(got);
      const client = withOAuth(before, session).extend({ hooks: { afterResponse: [record('after')] } });
      await client(server.mcpUrl);
      expect(calls.splice(0)).toEqual(['before 401', 'before 200', 'after 200']);
      server.redirectTo('/mcp/a', server.url('/mcp/b'), 307);
      await client.post(server.url('/mcp/a'), { body: 'x' });
      expect(calls).toEqual(['before 307', 'before 200', 'after 200']);
    });

    it('keeps prefixUrl, resolveBodyOnly and .json() across the retry', async () => {
      const { server, session } = await setup(got);
      const api = withOAuth(got.extend({ prefixUrl: server.mcpUrl, resolveBodyOnly: true }), session);
      const echoed = await api.post('tools', { json: { a: 1 } }).json<{ path: string; body: string }>();
      expect(echoed.path).toBe('/mcp/tools');
      expect(Buffer.from(echoed.body, 'base64').toString()).toBe('{"a":1}');
      expect(server.requestsTo('/mcp/tools').map((record) => record.status)).toEqual([401, 200]);
    });

    it('gives got.stream() the credentials of its first send (no retry, no redirect followed inside)', async () => {
      const { server, client } = await authorized(got);
      server.redirectTo('/mcp/moved', server.url('/mcp/b'), 302);
      const stream = client.stream(server.url('/mcp/moved'));
      const status = await new Promise<number>((resolve, reject) => {
        stream.once('response', (response: { statusCode: number }) => resolve(response.statusCode));
        stream.once('error', reject);
      });
      stream.destroy();
      expect(status).toBe(302);
      expect(server.requestsTo('/mcp/moved')[0]?.headers.authorization).toMatch(/^Bearer /);
      expect(server.count('/mcp/b')).toBe(0);
    });
  });

  describe('errors', () => {
    for (const dpopMode of [false, true]) {
      const kind = dpopMode ? 'DPoP' : 'Bearer';

      it(`${kind}: an HTTPError (and the response it holds) carries no token or proof`, async () => {
        const { server, client } = await authorized(got, { dpop: dpopMode });
        server.plainForbidden('/mcp/forbidden');
        const error = await failure(client(server.url('/mcp/forbidden')));
        expect(error.name).toBe('HTTPError');
        expect(error.response?.statusCode).toBe(403);
        expect(server.requestsTo('/mcp/forbidden')[0]?.headers.authorization).toMatch(
          new RegExp(`^${kind} `),
        );
        expectNoSecret(error, secretsOf(server));
        expect(error.response?.request.options.headers.authorization).toBe('[redacted]');
      });

      it(`${kind}: a response handed back carries no token or proof`, async () => {
        const { server, client } = await authorized(got, { dpop: dpopMode });
        server.respondWith('/mcp/ok', { status: 200, body: 'ok' }); // not the echo of the request
        const response = await client(server.url('/mcp/ok'));
        expect(server.requestsTo('/mcp/ok')[0]?.headers.authorization).toMatch(new RegExp(`^${kind} `));
        expectNoSecret({ response, request: response.request }, secretsOf(server));
      });

      it(`${kind}: an abort in flight rejects with an error that carries no token`, async () => {
        const { server, client } = await authorized(got, { dpop: dpopMode });
        const gate = server.hold('/mcp/slow');
        const controller = new AbortController();
        const pending = failure(client(server.url('/mcp/slow'), { signal: controller.signal }));
        await gate.reached;
        controller.abort();
        const error = await pending;
        expect(error.name).toBe('AbortError');
        expectNoSecret(error, secretsOf(server));
      });
    }

    it('an abort while the request waits for a socket rejects with an error that carries no token', async () => {
      const agent = new HttpAgent({ keepAlive: true, maxSockets: 1 });
      cleanups.push(() => agent.destroy());
      const { server, client } = await authorized(got, { instance: got.extend({ agent: { http: agent } }) });
      const gate = server.hold('/mcp/busy');
      const busy = client(server.url('/mcp/busy'));
      await gate.reached;
      const controller = new AbortController();
      const queued = failure(client(server.url('/mcp/queued'), { signal: controller.signal }));
      await vi.waitFor(() => expect(Object.values(agent.requests).flat()).toHaveLength(1));
      controller.abort();
      const error = await queued;
      expect(error.name).toBe('AbortError');
      expect(server.count('/mcp/queued')).toBe(0);
      // The agent in the error's options holds the request in flight on its socket: let it end first.
      gate.release();
      await busy;
      expectNoSecret(error, secretsOf(server));
    });

    it('a timeout in flight rejects with an error that carries no token', async () => {
      const { server, client } = await authorized(got);
      const gate = server.hold('/mcp/slow');
      const pending = failure(
        client(server.url('/mcp/slow'), { timeout: { request: 200 }, retry: { limit: 0 } }),
      );
      await gate.reached;
      const error = await pending;
      expect(error.name).toBe('TimeoutError');
      expectNoSecret(error, secretsOf(server));
    });

    it('a got.stream() error carries no token', async () => {
      const { server, client } = await authorized(got);
      const gate = server.hold('/mcp/slow');
      const stream = client.stream(server.url('/mcp/slow'), {
        timeout: { request: 200 },
        retry: { limit: 0 },
      });
      const error = await new Promise<Error>((resolve) => stream.once('error', resolve));
      await gate.reached;
      expect(error.name).toBe('TimeoutError');
      expect(server.requestsTo('/mcp/slow')[0]?.headers.authorization).toMatch(/^Bearer /);
      expectNoSecret(error, secretsOf(server));
    });

    it("rejects with the session's OAuthClientError itself, not got's wrapper", async () => {
      const { server, client } = await authorized(got);
      server.revokeAllAccessTokens();
      server.failTokenRequests({ status: 500 });
      const error = await failure(client(server.url('/mcp/again')));
      expect(isOAuthClientError(error, 'refresh_failed'), `${name}: ${error.name} ${error.message}`).toBe(
        true,
      );
      expect(server.count('/mcp/again')).toBe(1);
    });

    it('a stream body that would have to be sent again is request_not_replayable, sent once', async () => {
      const { server, client } = await setup(got);
      const error = await failure(
        client.post(server.url('/mcp/body'), { body: Readable.from([Buffer.from('chunk')]) }),
      );
      expect(isOAuthClientError(error, 'request_not_replayable')).toBe(true);
      expect(server.requestsTo('/mcp/body').map((record) => record.text)).toEqual(['chunk']);
    });

    it('an abort while the request waits on the session is got’s AbortError, and nothing is sent', async () => {
      let called: () => void = () => {};
      const waiting = new Promise<void>((resolve) => {
        called = resolve;
      });
      const { server, client } = await setup(got, {
        session: {
          authorizationHandler: () => {
            called();
            return new Promise(() => {});
          },
        },
      });
      const controller = new AbortController();
      const pending = failure(client(server.url('/mcp/abort'), { signal: controller.signal }));
      await waiting;
      controller.abort();
      expect((await pending).name).toBe('AbortError');
      expect(server.count('/mcp/abort')).toBe(1);
    });
  });

  describe('the session decides', () => {
    it('retries with the DPoP nonce asked for on the retry after an authorization', async () => {
      const { server, client } = await setup(got, { dpop: true });
      server.requireDpopNonce('nonce-1');
      const response = await client(server.mcpUrl);
      expect(response.statusCode).toBe(200);
      const sent = server.requestsTo('/mcp');
      expect(sent.map((record) => record.status)).toEqual([401, 401, 200]);
      expect(sent.map((record) => record.dpop?.nonce)).toEqual([undefined, undefined, 'nonce-1']);
    });

    it('logs a 401 for a URL outside the resource, and hands it back', async () => {
      const { server, client, warnings } = await authorized(got);
      server.respondWith('/mcp-other', { status: 401, headers: { 'www-authenticate': 'Bearer' } });
      const response = await client(server.url('/mcp-other'), { throwHttpErrors: false });
      expect(response.statusCode).toBe(401);
      expect(server.count('/mcp-other')).toBe(1);
      expect(warnings.map((warning) => warning.event)).toEqual(['session.outside_scope']);
    });
  });

  describe('createGotHttpClient', () => {
    let loopback: LoopbackServer;

    const send = (
      httpClient: ReturnType<typeof createGotHttpClient>,
      overrides: Record<string, unknown> = {},
    ) =>
      httpClient.send({
        method: 'GET',
        url: `${loopback.origin}/.well-known/oauth-authorization-server`,
        headers: { accept: 'application/json' },
        redirect: 'never',
        timeoutMs: 5000,
        maxResponseBytes: 1024,
        signal: new AbortController().signal,
        ...overrides,
      });

    const start = async () => {
      loopback = await startServer();
      cleanups.push(() => loopback.close());
    };

    it('sends only the engine’s headers and body, whatever the instance adds', async () => {
      await start();
      let hookRuns = 0;
      const application = got.extend({
        prefixUrl: `${loopback.origin}/api`,
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
        url: `${loopback.origin}/token`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=refresh_token',
      });
      expect(response.status).toBe(200);
      const [request] = loopback.seen;
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
      expect(loopback.seen[1]?.headers['x-mcp-session']).toBe('app');
    });

    it('returns redirects and error statuses as they are', async () => {
      await start();
      loopback.reply = (request) =>
        request.path === '/moved'
          ? { status: 302, headers: { location: '/elsewhere' } }
          : {
              status: 400,
              headers: { 'content-type': 'application/json' },
              body: '{"error":"invalid_grant"}',
            };
      const redirect = await send(createGotHttpClient(got), { url: `${loopback.origin}/moved` });
      expect(redirect).toMatchObject({ status: 302, headers: { location: '/elsewhere' } });
      const failed = await send(createGotHttpClient(got), { url: `${loopback.origin}/token` });
      expect(failed).toMatchObject({ status: 400, body: '{"error":"invalid_grant"}' });
      expect(loopback.seen).toHaveLength(2);
    });

    it('stops reading past maxResponseBytes', async () => {
      await start();
      loopback.reply = () => ({ status: 200, body: 'x'.repeat(5000) });
      const error = await failure(send(createGotHttpClient(got)));
      expect(isOAuthClientError(error, 'response_too_large')).toBe(true);
    });
  });
});

describe('createGotHttpClient without an instance', () => {
  it('uses got’s default instance', async () => {
    const server = await startServer();
    cleanups.push(() => server.close());
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
  });
});
