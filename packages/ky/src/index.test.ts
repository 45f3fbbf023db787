// What the contract does not cover: ky's own options and hooks around the OAuth ones, per version.
import {
  isOAuthClientError,
  type OAuthHttpRequest,
  OAuthSession,
  type OAuthSessionOptions,
} from '@mcp-oauth/core';
import { createContractBody, startTestServer, type TestServer } from '@mcp-oauth/testkit';
import type { KyInstance } from 'ky';
import { afterEach, describe, expect, it } from 'vitest';
import { createKyHttpClient, oauthHooks, withOAuth } from './index.js';
import { KY_VERSIONS, kyOptions, report } from './test-utils/ky.js';

const servers: TestServer[] = [];
afterEach(async () => {
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

/** A fetch that counts its calls and the fetch-only options ky hands it. */
function countingFetch() {
  const calls: Array<{ url: string; marker: unknown }> = [];
  const fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    calls.push({ url: (input as Request).url, marker: (init as { marker?: unknown } | undefined)?.marker });
    return globalThis.fetch(input, init);
  };
  return { calls, fetch };
}

describe.each(KY_VERSIONS)('%s', (_name, ky) => {
  it('oauthHooks work in ky.extend({ hooks }) as withOAuth does', async () => {
    const { server, session } = await start(ky);
    const api = ky.extend({ hooks: oauthHooks(session) });
    const response = await api.post(server.url('/mcp'), { json: { jsonrpc: '2.0', id: 1, method: 'ping' } });
    expect(response.status).toBe(200);
    expect(server.requestsTo('/mcp').map((record) => record.status)).toEqual([401, 200]);
  });

  it('replays bodies with retries off, where ky 2 keeps no copy (a stream it does not buffer)', async () => {
    const { server, session } = await start(ky);
    const api = withOAuth(ky.create({ retry: 0 }), session);
    const send = (kind: 'json' | 'stream', body = createContractBody(kind)) =>
      report(api(server.url(`/mcp/${kind}`), kyOptions({ method: 'POST', url: '', body })));
    expect((await send('json')).status).toBe(200);
    const [first, retry] = server.requestsTo('/mcp/json');
    expect([first!.status, retry!.status]).toEqual([401, 200]);
    expect(retry!.text).toBe(first!.text);
    expect(JSON.parse(retry!.text)).toEqual(createContractBody('json').value);

    server.revokeAllAccessTokens();
    const stream = await send('stream');
    if (ky === KY_VERSIONS[2]![1] || ky === KY_VERSIONS[3]![1]) {
      expect(isOAuthClientError(stream.error, 'request_not_replayable')).toBe(true);
      expect(server.count('/mcp/stream')).toBe(1);
    } else {
      expect(stream.status).toBe(200); // ky 1 keeps the body whatever the retry limit
    }
  });

  it("sends the auth retry with the call's own fetch and fetch-only options", async () => {
    const { server, session } = await start(ky);
    const instance = countingFetch();
    const perCall = countingFetch();
    const api = withOAuth(ky.create({ fetch: instance.fetch }), session);
    const perCallOptions = { fetch: perCall.fetch, marker: 'per-call' } as Parameters<KyInstance>[1];
    expect((await api.get(server.url('/mcp/a'), perCallOptions)).status).toBe(200);
    expect(instance.calls).toEqual([]);
    expect(perCall.calls.map((call) => new URL(call.url).pathname)).toEqual(['/mcp/a', '/mcp/a']);
    // ky 1.0.0 does not pass unknown options to fetch; the auth retry always does.
    expect(perCall.calls[1]!.marker).toBe('per-call');
  });

  it("gives up on an auth retry that outlasts ky's timeout", async () => {
    const { server, session } = await start(ky);
    let calls = 0;
    const hangingRetry = (input: RequestInfo | URL, init?: RequestInit) => {
      if (calls++ === 0) return globalThis.fetch(input, init);
      const signal = (input as Request).signal;
      // Like fetch: a signal that is already aborted rejects at once (under load ky's timer can fire
      // before the retry is sent, and a listener added then would never be called).
      return new Promise<Response>((_, reject) => {
        if (signal.aborted) reject(signal.reason);
        signal.addEventListener('abort', () => reject(signal.reason));
      });
    };
    const api = withOAuth(ky.create({ fetch: hangingRetry, timeout: 300 }), session);
    const started = Date.now();
    const outcome = await report(api.post(server.url('/mcp'), { body: 'x' }));
    expect((outcome.error as Error).name).toBe('TimeoutError');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("gives ky's own retries a new DPoP proof", async () => {
    const { server, session } = await start(ky, { server: { dpop: true }, session: { dpop: true } });
    const api = withOAuth(ky, session);
    expect((await api.get(server.mcpUrl)).status).toBe(200);
    server.respondWith('/mcp/flaky', { status: 503 }, { times: 1 });
    expect((await api.get(server.url('/mcp/flaky'))).status).toBe(200);
    const sent = server.requestsTo('/mcp/flaky');
    expect(sent.map((record) => record.status)).toEqual([503, 200]);
    expect(sent[1]!.dpop?.jti).toBeDefined();
    expect(sent[1]!.dpop?.jti).not.toBe(sent[0]!.dpop?.jti);
  });

  it('a failing refresh on a GET is thrown, not retried by ky', async () => {
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

  it('keeps hooks of the instance: theirs before OAuth see each response, later ones the final one', async () => {
    const { server, session } = await start(ky);
    const seenBefore: number[] = [];
    const seenAfter: number[] = [];
    const stamp = (request: Request) => request.headers.set('x-app', 'stamped');
    const base = ky.create({
      hooks: {
        // ky 1 passes (request, options, response), ky 2 one state object
        beforeRequest: [
          (state: { request?: Request }) => stamp(state.request ?? (state as unknown as Request)),
        ],
        afterResponse: [(...args: unknown[]) => void seenBefore.push(statusOf(args))],
      },
    } as Parameters<KyInstance['create']>[0]);
    const api = withOAuth(base, session).extend({
      hooks: { afterResponse: [(...args: unknown[]) => void seenAfter.push(statusOf(args))] },
    } as Parameters<KyInstance['extend']>[0]);
    expect((await api.get(server.mcpUrl)).status).toBe(200);
    expect(server.requestsTo('/mcp').map((record) => record.headers['x-app'])).toEqual([
      'stamped',
      'stamped',
    ]);
    expect(seenBefore).toEqual([401]);
    expect(seenAfter).toEqual([200]);
  });

  it('follows a same-origin 307 inside the resource with a proof for the new URL', async () => {
    const { server, session } = await start(ky, { server: { dpop: true }, session: { dpop: true } });
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

  it('serves several sessions from one instance, each server getting only its own token', async () => {
    const first = await start(ky);
    const second = await start(ky);
    const api = withOAuth(withOAuth(ky, first.session), second.session);
    expect((await api.get(first.server.mcpUrl)).status).toBe(200);
    expect((await api.get(second.server.mcpUrl)).status).toBe(200);
    expect((await api.get(first.server.url('/mcp/again'))).status).toBe(200);
    expect(first.server.requestsTo('/mcp/again')[0]!.headers.authorization).toBe(
      `Bearer ${first.server.issuedTokens[0]!.accessToken}`,
    );
    expect(second.server.requestsTo('/mcp')[1]!.headers.authorization).toBe(
      `Bearer ${second.server.issuedTokens[0]!.accessToken}`,
    );
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
});

describe.each(KY_VERSIONS.slice(1))('%s (≥ 1.5, which shows an instance its parent options)', (_name, ky) => {
  it("createKyHttpClient sends through the instance's fetch and fetch-only options", async () => {
    const server = await startTestServer();
    servers.push(server);
    const { calls, fetch } = countingFetch();
    const app = ky.create({ fetch, marker: 'instance' } as Parameters<KyInstance['create']>[0]);
    const response = await createKyHttpClient(app).send(engineRequest(server.url('/public/echo')));
    expect(response.status).toBe(200);
    expect(calls).toEqual([{ url: server.url('/public/echo'), marker: 'instance' }]);
  });

  it('createKyHttpClient reports a redirect a browser hides as a 302 without a location', async () => {
    const app = ky.create({ fetch: async () => opaqueRedirect() });
    const response = await createKyHttpClient(app).send(
      engineRequest('http://127.0.0.1:9/token', { method: 'POST', body: 'grant_type=refresh_token' }),
    );
    expect(response).toEqual({ status: 302, headers: {}, body: '' });
  });
});

/** A request as the engine hands it to its `OAuthHttpClient`. */
function engineRequest(url: string, extra: Partial<OAuthHttpRequest> = {}): OAuthHttpRequest {
  const signal = new AbortController().signal;
  return {
    method: 'GET',
    url,
    headers: {},
    redirect: 'never',
    timeoutMs: 5000,
    maxResponseBytes: 65536,
    signal,
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
