import { isOAuthClientError, OAuthSession, type OAuthSessionOptions } from '@mcp-oauth/core';
import { dpop } from '@mcp-oauth/core/dpop';
import { createHttpContext, sendRequest } from '@mcp-oauth/core/protocol';
import {
  type AdapterHarness,
  describeAdapterContract,
  startEchoServer,
  startTestServer,
  type TestServer,
  type TestServerOptions,
} from '@mcp-oauth/testkit';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createFetchHttpClient, withOAuth } from './index.js';

const harness: AdapterHarness = {
  name: 'fetch',
  createClient(session, options) {
    const authorizedFetch = withOAuth(fetch, session);
    return {
      async request(request) {
        // fetch has no instance defaults: the application's default headers go on each request.
        const headers = new Headers({ ...options?.defaultHeaders, ...request.headers });
        const init: RequestInit & { duplex?: 'half' } = { method: request.method, headers };
        if (request.signal !== undefined) init.signal = request.signal;
        if (request.body !== undefined) {
          const { kind, value, contentType } = request.body;
          if (contentType !== undefined && !headers.has('content-type'))
            headers.set('content-type', contentType);
          init.body = kind === 'json' ? JSON.stringify(value) : (value as BodyInit);
          if (kind === 'stream') init.duplex = 'half';
        }
        try {
          const response = await authorizedFetch(request.url, init);
          return { status: response.status, body: await response.text() };
        } catch (error) {
          return { error };
        }
      },
    };
  },
  createHttpClient: () => createFetchHttpClient(),
  throwsHttpErrors: false,
  replayableBodies: ['json', 'text', 'urlsearchparams', 'formdata', 'bytes'],
};

describeAdapterContract(harness);

// ---------------------------------------------------------------------------------------------

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function setup(
  serverOptions: TestServerOptions = {},
  sessionOptions: Partial<OAuthSessionOptions> = {},
) {
  const server = await startTestServer(serverOptions);
  const echo = await startEchoServer();
  cleanups.push(
    () => server.close(),
    () => echo.close(),
  );
  const session = new OAuthSession({
    serverUrl: server.mcpUrl,
    httpClient: createFetchHttpClient(),
    client: { redirectUris: ['http://127.0.0.1/callback'] },
    authorizationHandler: server.authorizationHandler(),
    ...sessionOptions,
  });
  return { server, echo, session, authorizedFetch: withOAuth(fetch, session) };
}

async function authorized(
  serverOptions: TestServerOptions = {},
  sessionOptions: Partial<OAuthSessionOptions> = {},
) {
  const context = await setup(serverOptions, sessionOptions);
  await context.session.authorize();
  return context;
}

const bearer = (server: TestServer, index = 0) => `Bearer ${server.issuedTokens[index]!.accessToken}`;

describe('withOAuth: inputs', () => {
  it('takes a Request, and replays its body after a 401', async () => {
    const { server, authorizedFetch } = await setup();
    const request = new Request(server.url('/mcp/request'), {
      method: 'POST',
      headers: { 'content-type': 'text/plain', 'x-caller': 'yes' },
      body: 'request body ✓',
    });
    const response = await authorizedFetch(request);
    expect(response.status).toBe(200);
    const sent = server.requestsTo('/mcp/request');
    expect(sent.map((record) => [record.status, record.text, record.headers['x-caller']])).toEqual([
      [401, 'request body ✓', 'yes'],
      [200, 'request body ✓', 'yes'],
    ]);
    expect(sent[1]!.headers.authorization).toBe(bearer(server));
  });

  it('replays a Request whose body is a stream', async () => {
    const { server, authorizedFetch } = await setup();
    const chunks = ['first ', 'second ', 'third'];
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        const chunk = chunks.shift();
        if (chunk === undefined) controller.close();
        else controller.enqueue(new TextEncoder().encode(chunk));
      },
    });
    const request = new Request(server.url('/mcp/stream'), {
      method: 'POST',
      body,
      duplex: 'half',
    } as RequestInit);
    expect((await authorizedFetch(request)).status).toBe(200);
    expect(server.requestsTo('/mcp/stream').map((record) => record.text)).toEqual([
      'first second third',
      'first second third',
    ]);
  });

  it("lets init override a Request's headers, as fetch does", async () => {
    const { server, authorizedFetch } = await authorized();
    const request = new Request(server.url('/mcp/override'), { headers: { 'x-from': 'request' } });
    await authorizedFetch(request, { headers: { 'x-from': 'init' } });
    const [record] = server.requestsTo('/mcp/override');
    expect(record!.headers['x-from']).toBe('init');
    expect(record!.headers.authorization).toBe(bearer(server));
  });

  it('accepts a URL object and a Headers instance', async () => {
    const { server, authorizedFetch } = await authorized();
    const headers = new Headers([['x-list', 'a']]);
    const response = await authorizedFetch(new URL(server.url('/mcp/url?x=1')), { headers });
    expect(response.status).toBe(200);
    expect(server.requestsTo('/mcp/url')[0]!.headers).toMatchObject({
      'x-list': 'a',
      authorization: bearer(server),
    });
  });

  it('reads headers in every form fetch takes: a record in any case, pairs, any iterable of pairs', async () => {
    const { server, authorizedFetch } = await authorized();
    const forms: HeadersInit[] = [
      { 'X-Form': 'record', 'x-form': 'again', Authorization: 'Bearer caller' },
      [
        ['x-form', 'pairs'],
        ['X-FORM', 'again'],
      ],
      // A `Headers` of another realm or library is not `instanceof Headers`, only iterable.
      new Map([['x-form', 'iterable']]) as unknown as HeadersInit,
    ];
    for (const headers of forms) await authorizedFetch(server.url('/mcp/forms'), { headers });
    const sent = server.requestsTo('/mcp/forms').map((record) => record.headers);
    expect(sent.map((headers) => headers['x-form'])).toEqual(['record, again', 'pairs, again', 'iterable']);
    for (const headers of sent) expect(headers.authorization).toBe(bearer(server));
  });

  it('hands the wrapped fetch headers named like object properties as plain data', async () => {
    const { server, session } = await authorized();
    const seen: Array<Record<string, string>> = [];
    const spy: typeof fetch = (input, init) => {
      seen.push(init?.headers as Record<string, string>);
      return fetch(input, init);
    };
    // A computed key makes `__proto__` an own property, as a header parser would.
    const headers = { ['__proto__']: 'proto', constructor: 'ctor', 'x-plain': 'plain' };
    await withOAuth(spy, session)(server.url('/mcp/names'), { headers });
    expect(Object.getPrototypeOf(seen[0])).toBe(Object.prototype);
    expect(Object.entries(seen[0]!)).toEqual([
      ['__proto__', 'proto'],
      ['constructor', 'ctor'],
      ['x-plain', 'plain'],
      ['authorization', bearer(server)],
    ]);
    expect(server.requestsTo('/mcp/names')[0]!.headers).toMatchObject({
      constructor: 'ctor',
      'x-plain': 'plain',
    });
  });

  it("never changes the caller's init, headers or Request", async () => {
    const { server, authorizedFetch } = await setup();
    const headers = new Headers({ 'x-a': '1' });
    const init = Object.freeze({ method: 'POST', headers, body: 'frozen' });
    const plain = { 'x-b': '2' };
    expect((await authorizedFetch(server.url('/mcp/frozen'), init)).status).toBe(200);
    expect([...headers]).toEqual([['x-a', '1']]);
    expect((await authorizedFetch(server.url('/mcp/frozen'), { headers: plain })).status).toBe(200);
    expect(plain).toEqual({ 'x-b': '2' });
    const request = new Request(server.url('/mcp/frozen'), { headers: { 'x-c': '3' } });
    await authorizedFetch(request);
    expect([...request.headers]).toEqual([['x-c', '3']]);
  });

  it("replaces a caller's own Authorization inside the resource, and leaves it elsewhere", async () => {
    const { server, echo, authorizedFetch } = await authorized();
    await authorizedFetch(server.url('/mcp/own'), { headers: { authorization: 'Bearer mine' } });
    await authorizedFetch(echo.url('/own'), { headers: { authorization: 'Bearer mine' } });
    expect(server.requestsTo('/mcp/own')[0]!.headers.authorization).toBe(bearer(server));
    expect(echo.requests[0]!.headers.authorization).toBe('Bearer mine');
  });

  it('passes a relative URL to fetch untouched (fetch rejects it outside a browser)', async () => {
    const fetchImpl = vi.fn(async () => new Response('ok'));
    const { session } = await setup();
    const authorizedFetch = withOAuth(fetchImpl, session);
    await authorizedFetch('/relative');
    expect(fetchImpl).toHaveBeenCalledWith('/relative', undefined);
  });

  it('uses the fetch it wraps for every request', async () => {
    const { server, session } = await setup();
    const fetchImpl = vi.fn(globalThis.fetch);
    const response = await withOAuth(fetchImpl, session)(server.mcpUrl);
    expect(response.status).toBe(200);
    expect(fetchImpl).toHaveBeenCalledTimes(2);
  });
});

describe('withOAuth: redirects', () => {
  it('follows a redirect inside the resource with a new DPoP proof for each hop', async () => {
    const { server, authorizedFetch } = await authorized({ dpop: true }, { dpop: dpop() });
    server.redirectTo('/mcp/old', server.url('/mcp/new?x=1'), 308);
    const response = await authorizedFetch(server.url('/mcp/old'), { method: 'POST', body: 'kept' });
    expect(response.status).toBe(200);
    expect(response.url).toBe(server.url('/mcp/new?x=1'));
    const [old] = server.requestsTo('/mcp/old');
    const [moved] = server.requestsTo('/mcp/new');
    expect(old!.dpop?.htu).toBe(server.url('/mcp/old'));
    expect(moved!.dpop?.htu).toBe(server.url('/mcp/new'));
    expect(moved!.text).toBe('kept');
    expect(moved!.status).toBe(200);
  });

  it('drops the token when a redirect leaves the resource on the same origin', async () => {
    const { server, authorizedFetch } = await authorized();
    server.redirectTo('/mcp/out', server.url('/public/landing'), 302);
    expect((await authorizedFetch(server.url('/mcp/out'))).status).toBe(200);
    expect(server.requestsTo('/mcp/out')[0]!.headers.authorization).toBe(bearer(server));
    expect(server.requestsTo('/public/landing')[0]!.headers.authorization).toBeUndefined();
  });

  it('drops cookies and credentials when a redirect leaves the origin', async () => {
    const { server, echo, authorizedFetch } = await authorized();
    server.redirectTo('/mcp/away', echo.url('/landing'), 307);
    const response = await authorizedFetch(server.url('/mcp/away'), {
      method: 'PUT',
      headers: { cookie: 'session=1', 'x-kept': 'yes' },
      body: 'payload',
    });
    expect(response.status).toBe(200);
    expect(echo.requests[0]).toMatchObject({ method: 'PUT', text: 'payload' });
    expect(echo.requests[0]!.headers).toMatchObject({ 'x-kept': 'yes' });
    expect(echo.requests[0]!.headers.cookie).toBeUndefined();
    expect(echo.credentialed()).toEqual([]);
  });

  it('turns a POST into a GET on 303, without the body or its content type', async () => {
    const { server, authorizedFetch } = await authorized();
    server.redirectTo('/mcp/submit', server.url('/mcp/result'), 303);
    const response = await authorizedFetch(server.url('/mcp/submit'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(response.status).toBe(200);
    const [result] = server.requestsTo('/mcp/result');
    expect(result).toMatchObject({ method: 'GET', text: '' });
    expect(result!.headers['content-type']).toBeUndefined();
    expect(result!.headers.authorization).toBe(bearer(server));
  });

  it("respects the caller's redirect: 'manual' and 'error'", async () => {
    const { server, echo, authorizedFetch } = await authorized();
    server.redirectTo('/mcp/away', echo.url('/landing'), 302);
    const manual = await authorizedFetch(server.url('/mcp/away'), { redirect: 'manual' });
    expect(manual.status).toBe(302);
    expect(manual.headers.get('location')).toBe(echo.url('/landing'));
    await expect(authorizedFetch(server.url('/mcp/away'), { redirect: 'error' })).rejects.toThrow(TypeError);
    expect(echo.requests).toEqual([]);
  });

  it('stops after 20 redirects, as fetch does', async () => {
    const { server, authorizedFetch } = await authorized();
    server.redirectTo('/mcp/loop', server.url('/mcp/loop'), 302);
    await expect(authorizedFetch(server.url('/mcp/loop'))).rejects.toMatchObject({
      code: 'redirect_not_allowed',
    });
    expect(server.count('/mcp/loop')).toBe(21);
  });

  it('a 401 from a page outside the resource starts no authorization', async () => {
    const { server, authorizedFetch } = await authorized();
    server.redirectTo('/mcp/login', server.url('/public/login'), 302);
    server.respondWith('/public/login', {
      status: 401,
      headers: { 'www-authenticate': 'Bearer realm="elsewhere"' },
    });
    const response = await authorizedFetch(server.url('/mcp/login'));
    expect(response.status).toBe(401);
    expect(server.count('/mcp/login')).toBe(1);
    expect(server.count('/token')).toBe(1);
  });

  it('a streamed body cannot follow a 307', async () => {
    const { server, authorizedFetch } = await authorized();
    server.redirectTo('/mcp/stream', server.url('/mcp/elsewhere'), 307);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new Uint8Array([1, 2, 3]));
        controller.close();
      },
    });
    await expect(
      authorizedFetch(server.url('/mcp/stream'), { method: 'POST', body, duplex: 'half' } as RequestInit),
    ).rejects.toMatchObject({ code: 'request_not_replayable' });
    expect(server.count('/mcp/elsewhere')).toBe(0);
  });
});

describe('withOAuth: several servers', () => {
  it('chains: each session authorizes only its own server', async () => {
    const first = await setup();
    const second = await setup();
    const both = withOAuth(withOAuth(fetch, first.session), second.session);
    expect((await both(first.server.mcpUrl)).status).toBe(200);
    expect((await both(second.server.mcpUrl)).status).toBe(200);
    expect((await both(first.echo.url('/x'))).status).toBe(200);
    expect(first.server.requestsTo('/mcp')[1]!.headers.authorization).toBe(bearer(first.server));
    expect(second.server.requestsTo('/mcp')[1]!.headers.authorization).toBe(bearer(second.server));
    expect(first.echo.credentialed()).toEqual([]);
  });
});

describe('createFetchHttpClient', () => {
  const request = (url: string) =>
    ({
      method: 'GET',
      url,
      headers: {},
      redirect: 'never',
      timeoutMs: 1000,
      maxResponseBytes: 1024,
      signal: new AbortController().signal,
    }) as const;

  it("maps a browser's opaque redirect to a 3xx the engine refuses", async () => {
    const opaque = {
      type: 'opaqueredirect',
      status: 0,
      headers: new Headers(),
      body: null,
    } as unknown as Response;
    const client = createFetchHttpClient(async () => opaque);
    expect(await client.send(request('https://as.example.com/token'))).toEqual({
      status: 302,
      headers: {},
      body: '',
    });
    const context = createHttpContext(client);
    const error = await sendRequest(context, {
      method: 'GET',
      url: 'https://as.example.com/.well-known/oauth-authorization-server',
      redirect: 'same-origin',
    }).catch((caught: unknown) => caught);
    expect(isOAuthClientError(error, 'redirect_not_allowed')).toBe(true);
  });

  it('reports the final URL of a fetch that followed a redirect anyway', async () => {
    const followed = new Response('{}', { status: 200 });
    Object.defineProperty(followed, 'redirected', { value: true });
    Object.defineProperty(followed, 'url', { value: 'https://elsewhere.example.com/x' });
    const client = createFetchHttpClient(async () => followed);
    const response = await client.send(request('https://as.example.com/x'));
    expect(response.url).toBe('https://elsewhere.example.com/x');
  });

  it('sends no cookies and never follows redirects', async () => {
    const fetchImpl = vi.fn(async (_input: RequestInfo | URL, _init?: RequestInit) => new Response('ok'));
    await createFetchHttpClient(fetchImpl).send(request('https://as.example.com/x'));
    expect(fetchImpl.mock.calls[0]![1]).toMatchObject({
      redirect: 'manual',
      credentials: 'omit',
      body: null,
    });
  });
});
