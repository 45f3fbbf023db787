// What the contract does not cover: ky's own options, hooks, timeout and retry around the
// authorized fetch, per version, and what ky's errors hold.
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { inspect } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  isOAuthClientError,
  type OAuthHttpRequest,
  OAuthSession,
  type OAuthSessionOptions,
} from '@mcp-oauth/core';
import { dpop } from '@mcp-oauth/core/dpop';
import { createContractBody, startTestServer, type TestServer } from '@mcp-oauth/testkit';
import { type HTTPError, type KyInstance, TimeoutError } from 'ky';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createKyHttpClient, withOAuth } from './index.js';
import { KY_VERSIONS, kyOptions, report } from './test-utils/ky.js';

const servers: TestServer[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const server of servers.splice(0)) await server.close();
});

async function start(
  ky: KyInstance,
  options: { server?: Parameters<typeof startTestServer>[0]; session?: Partial<OAuthSessionOptions> } = {},
) {
  const server = await startTestServer(options.server);
  servers.push(server);
  const session = new OAuthSession({
    serverUrl: server.mcpUrl,
    httpClient: createKyHttpClient(ky),
    client: { clientName: 'ky unit test', redirectUris: ['http://127.0.0.1/callback'] },
    authorizationHandler: server.authorizationHandler(),
    ...options.session,
  });
  return { server, session };
}

/** A fetch that records the URL of each call, the fetch-only option ky hands it, and its signal. */
function recordingFetch(
  answer: (request: Request) => Promise<Response> = (request) => globalThis.fetch(request),
) {
  const calls: Array<{ path: string; marker: unknown; signal: AbortSignal }> = [];
  const fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = input as Request;
    calls.push({
      path: new URL(request.url).pathname,
      marker: (init as { marker?: unknown })?.marker,
      signal: request.signal,
    });
    return answer(request);
  };
  return { calls, fetch };
}

/** Like fetch: settles only when its signal aborts (at once when it already has). */
function hang(request: Request): Promise<Response> {
  return new Promise((_, reject) => {
    if (request.signal.aborted) reject(request.signal.reason);
    request.signal.addEventListener('abort', () => reject(request.signal.reason));
  });
}

const isKy1 = (ky: KyInstance) => ky === KY_VERSIONS[0]![1] || ky === KY_VERSIONS[1]![1];

describe.each(KY_VERSIONS)('%s', (_name, ky) => {
  it('takes session options and exposes the session it built', async () => {
    const server = await startTestServer();
    servers.push(server);
    const api = withOAuth(ky, {
      serverUrl: server.mcpUrl,
      client: { clientName: 'ky options', redirectUris: ['http://127.0.0.1/callback'] },
      authorizationHandler: server.authorizationHandler(),
    });
    expect(api.oauthSession).toBeInstanceOf(OAuthSession);
    expect((await api.get(server.mcpUrl)).status).toBe(200);
    expect(server.requestsTo('/mcp').map((record) => record.status)).toEqual([401, 200]);
    expect(server.count('/token')).toBe(1);
  });

  it("keeps the instance's hooks: its beforeRequest changes go on every send, afterResponse sees the final response", async () => {
    const { server, session } = await start(ky);
    const seen: number[] = [];
    const stamp = (request: Request) => request.headers.set('x-app', 'stamped');
    const base = ky.create({
      hooks: {
        // ky 1 passes (request, options, response), ky 2 one state object
        beforeRequest: [
          (state: { request?: Request }) => stamp(state.request ?? (state as unknown as Request)),
        ],
        afterResponse: [(...args: unknown[]) => void seen.push(statusOf(args))],
      },
    } as Parameters<KyInstance['create']>[0]);
    expect((await withOAuth(base, session).get(server.mcpUrl)).status).toBe(200);
    expect(server.requestsTo('/mcp').map((record) => [record.status, record.headers['x-app']])).toEqual([
      [401, 'stamped'],
      [200, 'stamped'],
    ]);
    expect(seen).toEqual([200]);
  });

  it("sends every step with the call's own fetch and fetch-only options", async () => {
    const { server, session } = await start(ky);
    const instance = recordingFetch();
    const perCall = recordingFetch();
    const api = withOAuth(ky.create({ fetch: instance.fetch }), session);
    const perCallOptions = { fetch: perCall.fetch, marker: 'per-call' } as Parameters<KyInstance>[1];
    expect((await api.get(server.url('/mcp/a'), perCallOptions)).status).toBe(200);
    expect(instance.calls).toEqual([]);
    expect(perCall.calls.map(({ path, marker }) => [path, marker])).toEqual([
      ['/mcp/a', 'per-call'],
      ['/mcp/a', 'per-call'],
    ]);
  });

  it("bounds each send by the call's timeout and fails with ky's TimeoutError, the connection dropped", async () => {
    const { server, session } = await start(ky);
    const api = withOAuth(ky.create({ timeout: 60_000 }), session);
    expect((await api.get(server.mcpUrl)).status).toBe(200);
    const hanging = recordingFetch(hang);
    const outcome = await report(
      api.post(server.url('/mcp/slow'), { body: 'x', timeout: 200, fetch: hanging.fetch }),
    );
    expect((outcome.error as Error).name).toBe('TimeoutError');
    if (ky === KY_VERSIONS[3]![1]) expect(outcome.error).toBeInstanceOf(TimeoutError);
    expect(hanging.calls.map(({ path, signal }) => [path, signal.aborted])).toEqual([['/mcp/slow', true]]);
  });

  it("does not bound an interactive authorization by ky's timeout: only the sends", async () => {
    const server = await startTestServer();
    servers.push(server);
    const approve = server.authorizationHandler();
    const session = new OAuthSession({
      serverUrl: server.mcpUrl,
      httpClient: createKyHttpClient(ky),
      client: { clientName: 'ky slow user', redirectUris: ['http://127.0.0.1/callback'] },
      authorizationHandler: async (request) => {
        vi.advanceTimersByTime(5_000); // the user takes five times the timeout
        return approve(request);
      },
    });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const outcome = await report(withOAuth(ky.create({ timeout: 1_000 }), session).get(server.mcpUrl));
    vi.useRealTimers();
    expect(outcome.status).toBe(200);
    expect(server.requestsTo('/mcp').map((record) => record.status)).toEqual([401, 200]);
  });

  // Regression: a `Request` follows its source signal only through a weak reference, so while a
  // call waited on a user who never answered, a garbage collection could take the call's `Request`
  // and the caller's abort then never reached the session (the contract's abort case hung on ky 1.0).
  it('settles on abort while waiting on the user, after a garbage collection', async () => {
    let called: () => void = () => {};
    const waiting = new Promise<void>((resolve) => {
      called = resolve;
    });
    const { server, session } = await start(ky, {
      session: {
        authorizationHandler: () => {
          called();
          return new Promise(() => {});
        },
      },
    });
    const controller = new AbortController();
    const pending = report(
      withOAuth(ky, session).get(server.url('/mcp/abort'), { signal: controller.signal }),
    );
    await waiting;
    await collectGarbage();
    controller.abort();
    const { error } = await pending;
    expect(isOAuthClientError(error, 'aborted') || (error as Error).name === 'AbortError').toBe(true);
    expect(server.count('/mcp/abort')).toBe(1);
  });

  // Regression: undici's fetch follows the signal of the `Request` it is given only while that
  // `Request` is alive; a send whose `Request` was collected could no longer be timed out or aborted.
  it('drops the connection of a send that outlasts the timeout, after a garbage collection', async () => {
    const { server, session } = await start(ky);
    const api = withOAuth(ky, session);
    expect((await api.get(server.mcpUrl)).status).toBe(200);
    const gate = server.hold('/mcp/slow');
    const pending = report(api.get(server.url('/mcp/slow'), { timeout: 1_000, retry: 0 }));
    await gate.reached;
    await collectGarbage();
    expect(((await pending).error as Error).name).toBe('TimeoutError');
    await gate.abandoned;
  });

  it("aborts the response's body when the caller's signal fires while it is read", async () => {
    const { session } = await start(ky);
    let closed: () => void = () => {};
    const connectionClosed = new Promise<void>((resolve) => {
      closed = resolve;
    });
    // Headers and a first event, then nothing: a stream the caller stops reading.
    const streaming = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' }).write('data: first\n\n');
      response.on('close', closed);
    });
    await new Promise<void>((resolve) => streaming.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = streaming.address() as { port: number };
      const controller = new AbortController();
      const api = withOAuth(ky, session);
      const response = await api.get(`http://127.0.0.1:${port}/events`, { signal: controller.signal });
      const reading = response.text().catch((error: unknown) => error);
      controller.abort();
      expect(((await reading) as Error).name).toBe('AbortError');
      await connectionClosed;
    } finally {
      streaming.closeAllConnections();
      streaming.close();
    }
  });

  it('does not retry a GET whose send timed out, as ky does not retry its own timeouts', async () => {
    const { server, session } = await start(ky);
    const api = withOAuth(ky, session);
    expect((await api.get(server.mcpUrl)).status).toBe(200);
    const hanging = recordingFetch(hang);
    const outcome = await report(api.get(server.url('/mcp/slow'), { timeout: 100, fetch: hanging.fetch }));
    expect((outcome.error as Error).name).toBe('TimeoutError');
    expect(hanging.calls).toHaveLength(1);
  });

  it("gives ky's own retries a new DPoP proof", async () => {
    const { server, session } = await start(ky, { server: { dpop: true }, session: { dpop: dpop() } });
    const api = withOAuth(ky, session);
    expect((await api.get(server.mcpUrl)).status).toBe(200);
    server.respondWith('/mcp/flaky', { status: 503 }, { times: 1 });
    expect((await api.get(server.url('/mcp/flaky'))).status).toBe(200);
    const sent = server.requestsTo('/mcp/flaky');
    expect(sent.map((record) => record.status)).toEqual([503, 200]);
    expect(sent[1]!.dpop?.jti).toBeDefined();
    expect(sent[1]!.dpop?.jti).not.toBe(sent[0]!.dpop?.jti);
  });

  it('throws a failing refresh on a GET at once: ky does not retry it', async () => {
    let offset = 0;
    const { server, session } = await start(ky, { session: { clock: () => Date.now() + offset } });
    await session.authorize();
    offset = 2 * 3600_000; // the token has expired
    server.failTokenRequests();
    const outcome = await report(withOAuth(ky, session).get(server.url('/mcp/get')));
    expect(isOAuthClientError(outcome.error, 'refresh_failed')).toBe(true);
    expect(server.count('/token')).toBe(2); // the code exchange, then one refresh
    expect(server.count('/mcp/get')).toBe(0);
  });

  it('replays any body, a stream included, with ky retries off (ky 2 then keeps no copy)', async () => {
    const { server, session } = await start(ky);
    const api = withOAuth(ky.create({ retry: 0 }), session);
    for (const kind of ['json', 'stream'] as const) {
      server.revokeAllAccessTokens();
      const body = createContractBody(kind);
      const outcome = await report(
        api(server.url(`/mcp/${kind}`), kyOptions({ method: 'POST', url: '', body })),
      );
      expect(outcome.status).toBe(200);
      const sent = server.requestsTo(`/mcp/${kind}`);
      expect(sent.map((record) => record.status)).toEqual([401, 200]);
      expect(Buffer.from(sent[1]!.body).equals(Buffer.from(body.expected))).toBe(true);
      expect(Buffer.from(sent[0]!.body).equals(Buffer.from(body.expected))).toBe(true);
    }
  });

  it('follows a same-origin 307 inside the resource with a proof for the new URL', async () => {
    const { server, session } = await start(ky, { server: { dpop: true }, session: { dpop: dpop() } });
    const api = withOAuth(ky, session);
    expect((await api.get(server.mcpUrl)).status).toBe(200);
    server.redirectTo('/mcp/old', server.url('/mcp/new'), 307);
    const body = createContractBody('text');
    const outcome = await report(api(server.url('/mcp/old'), kyOptions({ method: 'POST', url: '', body })));
    expect(outcome.status).toBe(200);
    const [moved] = server.requestsTo('/mcp/new');
    expect(moved!.method).toBe('POST');
    expect(moved!.dpop?.htu).toBe(server.url('/mcp/new'));
    expect(Buffer.from(moved!.body).equals(Buffer.from(body.expected))).toBe(true);
  });

  it("hands a redirect back when the caller asked for redirect: 'manual'", async () => {
    const { server, session } = await start(ky);
    const api = withOAuth(ky.create({ redirect: 'manual', throwHttpErrors: false }), session);
    expect((await api.get(server.mcpUrl)).status).toBe(200);
    server.redirectTo('/mcp/old', server.url('/mcp/new'), 302);
    expect((await api.get(server.url('/mcp/old'))).status).toBe(302);
    expect(server.count('/mcp/new')).toBe(0);
  });

  it('in a browser, lets fetch follow a redirect it hides, without credentials', async () => {
    const { server, session } = await start(ky);
    const seen: Array<[RequestRedirect, string | null]> = [];
    const browserFetch = async (input: RequestInfo | URL, init?: RequestInit) => {
      const request = new Request(input, init);
      if (new URL(request.url).pathname !== '/mcp/moved') return globalThis.fetch(request);
      seen.push([request.redirect, request.headers.get('authorization')]);
      return request.redirect === 'manual'
        ? opaqueRedirect()
        : globalThis.fetch(server.url('/public/landing'));
    };
    const api = withOAuth(ky.create({ fetch: browserFetch }), session);
    expect((await api.get(server.mcpUrl)).status).toBe(200);
    expect((await api.get(server.url('/mcp/moved'))).status).toBe(200);
    expect(seen).toEqual([
      ['manual', expect.stringMatching(/^Bearer /)],
      ['follow', null],
    ]);
  });

  it('returns a second 401 as a response with throwHttpErrors: false', async () => {
    const { server, session } = await start(ky);
    server.alwaysUnauthorized('/mcp');
    const response = await withOAuth(ky.create({ throwHttpErrors: false }), session).get(server.mcpUrl);
    expect(response.status).toBe(401);
    expect(server.count('/mcp')).toBe(2);
  });

  for (const withDpop of [false, true]) {
    it(`leaves no ${withDpop ? 'DPoP token or proof' : 'token'} in the HTTPError or TimeoutError ky throws`, async () => {
      const { server, session } = await start(
        ky,
        withDpop ? { server: { dpop: true }, session: { dpop: dpop() } } : {},
      );
      const api = withOAuth(ky, session);
      expect((await api.get(server.mcpUrl)).status).toBe(200);
      const token = server.issuedTokens[0]!.accessToken;
      server.respondWith('/mcp/broken', { status: 500 });
      const failed = await api
        .post(server.url('/mcp/broken'), { json: { id: 1 }, retry: 0 })
        .catch((error) => error);
      const hanging = recordingFetch(hang);
      const timedOut = await api
        .get(server.url('/mcp/slow'), { timeout: 100, fetch: hanging.fetch })
        .catch((error) => error);
      expect(failed).toBeInstanceOf(Error);
      expect((failed as HTTPError).name).toBe('HTTPError');
      expect((timedOut as Error).name).toBe('TimeoutError');
      expect(server.requestsTo('/mcp/broken')[0]!.headers.authorization).toContain(token);
      for (const error of [failed, timedOut]) {
        const printed = `${inspect(error, { depth: 8, showHidden: true })}\n${JSON.stringify(error)}`;
        expect(printed).not.toContain(token);
        expect(printed.toLowerCase()).not.toContain('dpop ey');
        expect((error as HTTPError).request.headers.get('authorization')).toBeNull();
        expect((error as HTTPError).request.headers.get('dpop')).toBeNull();
      }
    });
  }

  it('works where AbortSignal.any is missing (Node 20.0–20.2)', async () => {
    const { server, session } = await start(ky);
    const api = withOAuth(ky.create({ timeout: 5_000 }), session);
    const any = Object.getOwnPropertyDescriptor(AbortSignal, 'any');
    Reflect.deleteProperty(AbortSignal, 'any');
    try {
      expect((await api.get(server.mcpUrl)).status).toBe(200);
    } finally {
      if (any !== undefined) Object.defineProperty(AbortSignal, 'any', any);
    }
  });

  it('serves one server per session from instances extended from one app', async () => {
    const first = await start(ky);
    const second = await start(ky);
    const app = ky.create({ headers: { 'x-app': 'shared' } });
    const [toFirst, toSecond] = [withOAuth(app, first.session), withOAuth(app, second.session)];
    expect((await toFirst.get(first.server.mcpUrl)).status).toBe(200);
    expect((await toSecond.get(second.server.mcpUrl)).status).toBe(200);
    expect(first.server.requestsTo('/mcp')[1]!.headers.authorization).toBe(
      `Bearer ${first.server.issuedTokens[0]!.accessToken}`,
    );
    expect(second.server.requestsTo('/mcp')[1]!.headers.authorization).toBe(
      `Bearer ${second.server.issuedTokens[0]!.accessToken}`,
    );
    expect(second.server.requestsTo('/mcp')[1]!.headers['x-app']).toBe('shared');
  });

  it("createKyHttpClient uses none of the instance's headers, hooks, prefix or search parameters", async () => {
    const server = await startTestServer();
    servers.push(server);
    let hookRuns = 0;
    const app = ky.create({
      headers: { 'x-app': 'secret' },
      searchParams: { apiKey: 'secret' },
      hooks: { beforeRequest: [() => void hookRuns++], afterResponse: [() => void hookRuns++] },
    });
    const response = await createKyHttpClient(app).send(
      engineRequest(server.url('/public/echo?engine=1'), { headers: { accept: 'application/json' } }),
    );
    expect(response.status).toBe(200);
    const [record] = server.requestsTo('/public/echo');
    expect(record!.search).toBe('?engine=1');
    expect(record!.headers['x-app']).toBeUndefined();
    expect(hookRuns).toBe(0);
  });

  if (!isKy1(ky)) {
    it('ky 2: runs beforeRequest hooks added after withOAuth too', async () => {
      const { server, session } = await start(ky);
      const api = withOAuth(ky, session).extend({
        hooks: { beforeRequest: [({ request }) => void request.headers.set('x-late', 'yes')] },
      });
      expect((await api.get(server.mcpUrl)).status).toBe(200);
      expect(server.requestsTo('/mcp').map((record) => record.headers['x-late'])).toEqual(['yes', 'yes']);
    });
  }
});

describe.each(KY_VERSIONS.slice(1))('%s (≥ 1.5, which shows an instance its parent options)', (_name, ky) => {
  it("builds the session's own requests over the instance's fetch when given options", async () => {
    const server = await startTestServer();
    servers.push(server);
    const { calls, fetch } = recordingFetch();
    const api = withOAuth(ky.create({ fetch }), {
      serverUrl: server.mcpUrl,
      client: { clientName: 'ky options', redirectUris: ['http://127.0.0.1/callback'] },
      authorizationHandler: server.authorizationHandler(),
    });
    expect((await api.get(server.mcpUrl)).status).toBe(200);
    expect(calls.map((call) => call.path)).toContain('/token');
  });

  it("createKyHttpClient sends through the instance's fetch and fetch-only options", async () => {
    const server = await startTestServer();
    servers.push(server);
    const { calls, fetch } = recordingFetch();
    const app = ky.create({ fetch, marker: 'instance' } as Parameters<KyInstance['create']>[0]);
    const response = await createKyHttpClient(app).send(engineRequest(server.url('/public/echo')));
    expect(response.status).toBe(200);
    expect(calls.map(({ path, marker }) => [path, marker])).toEqual([['/public/echo', 'instance']]);
  });

  it('createKyHttpClient drops an aborted request, after a garbage collection', async () => {
    const server = await startTestServer();
    servers.push(server);
    const gate = server.hold('/token');
    const controller = new AbortController();
    const sending = createKyHttpClient(ky)
      .send(engineRequest(server.url('/token'), { method: 'POST', body: 'x', signal: controller.signal }))
      .catch((error: unknown) => error);
    await gate.reached;
    await collectGarbage();
    controller.abort();
    expect(((await sending) as Error).name).toBe('AbortError');
    await gate.abandoned;
  });

  it('createKyHttpClient reports a redirect a browser hides as a 302 without a location', async () => {
    const app = ky.create({ fetch: async () => opaqueRedirect() });
    const response = await createKyHttpClient(app).send(
      engineRequest('http://127.0.0.1:9/token', { method: 'POST', body: 'grant_type=refresh_token' }),
    );
    expect(response).toEqual({ status: 302, headers: {}, body: '' });
  });
});

// The CJS build must load where `require` cannot load an ES module (Node 20.0–20.18): ky is ESM only.
it('imports nothing of ky at load time (types only; TimeoutError when a send times out)', () => {
  const directory = new URL('./', import.meta.url);
  const sources = readdirSync(directory).filter(
    (name) => name.endsWith('.ts') && !name.includes('test') && !name.includes('example'),
  );
  expect(sources.length).toBeGreaterThan(3);
  for (const name of sources) {
    const text = readFileSync(new URL(name, directory), 'utf8');
    for (const [statement] of text.matchAll(/^import[^;]*from '(ky|ky\/[^']*)';/gm)) {
      expect(statement, name).toMatch(/^import type /);
    }
  }
});

/** A full garbage collection, then a turn of the event loop (three times). */
async function collectGarbage(): Promise<void> {
  setFlagsFromString('--expose-gc');
  const collect = runInNewContext('gc') as () => void;
  for (let round = 0; round < 3; round++) {
    collect();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** A request as the engine hands it to its `OAuthHttpClient`. */
function engineRequest(url: string, extra: Partial<OAuthHttpRequest> = {}): OAuthHttpRequest {
  return {
    method: 'GET',
    url,
    headers: {},
    redirect: 'never',
    timeoutMs: 5000,
    maxResponseBytes: 65536,
    signal: new AbortController().signal,
    ...extra,
  };
}

function statusOf(args: readonly unknown[]): number {
  const first = args[0] as { response?: Response };
  return (first.response ?? (args[2] as Response)).status;
}

/** What a browser's fetch answers a redirected `redirect: 'manual'` request with. */
function opaqueRedirect(): Response {
  const response = new Response(null);
  Object.defineProperties(response, {
    type: { value: 'opaqueredirect' },
    status: { value: 0 },
    ok: { value: false },
    clone: { value: opaqueRedirect },
  });
  return response;
}
