import { Agent } from 'node:http';
import { inspect } from 'node:util';
import { isOAuthClientError, OAuthSession, type OAuthSessionOptions } from '@mcp-oauth/core';
import { dpop } from '@mcp-oauth/core/dpop';
import { startTestServer, type TestServer } from '@mcp-oauth/testkit';
import latest, {
  type AxiosAdapter,
  type AxiosError,
  type AxiosResponse,
  type AxiosStatic,
  type CreateAxiosDefaults,
} from 'axios';
import oldest from 'axios-1.0.0';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createAxiosHttpClient, withOAuth } from './index.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

interface SetupOptions {
  readonly dpop?: boolean;
  readonly instance?: CreateAxiosDefaults;
  readonly session?: Partial<OAuthSessionOptions>;
}

/** A test server (resource + authorization server), a session for it, and an axios instance with OAuth. */
async function setup(axios: AxiosStatic, options: SetupOptions = {}) {
  const server = await startTestServer({ dpop: options.dpop === true });
  cleanups.push(() => server.close());
  const session = new OAuthSession({
    serverUrl: server.mcpUrl,
    httpClient: createAxiosHttpClient(axios.create()),
    client: { clientName: 'axios unit tests', redirectUris: ['http://127.0.0.1/callback'] },
    authorizationHandler: server.authorizationHandler(),
    ...(options.dpop === true ? { dpop: dpop() } : {}),
    ...options.session,
  });
  const instance = withOAuth(axios.create(options.instance), session);
  return { server, session, instance };
}

/** The current access token, after an authorization through `instance`. */
async function authorize(
  server: TestServer,
  instance: { get(url: string): Promise<unknown> },
): Promise<string> {
  await instance.get(server.mcpUrl);
  const token = server.issuedTokens.at(-1)?.accessToken;
  if (token === undefined) throw new Error('no token was issued');
  return token;
}

function rejection(promise: Promise<unknown>): Promise<AxiosError> {
  return promise.then(
    () => {
      throw new Error('expected the request to fail');
    },
    (error: unknown) => error as AxiosError,
  );
}

/** Everything a logger could print of `value`: util.inspect at any depth, and JSON. */
function printed(value: unknown): string {
  return `${inspect(value, { depth: 8, showHidden: false })}\n${JSON.stringify(value) ?? ''}`;
}

const versions: [string, AxiosStatic][] = [
  [`axios ${latest.VERSION}`, latest],
  [`axios ${oldest.VERSION}`, oldest as unknown as AxiosStatic],
];

describe.each(versions)('%s', (_name, axios) => {
  describe('credentials stay inside the resource', () => {
    for (const status of [302, 307]) {
      for (const useDpop of [false, true]) {
        it(`a ${status} from /mcp/x to /outside/x on the same origin gets no ${useDpop ? 'DPoP token or proof' : 'token'} (issue 10)`, async () => {
          const { server, instance } = await setup(axios, { dpop: useDpop });
          await authorize(server, instance);
          server.redirectTo('/mcp/x', server.url('/outside/x'), status);

          const response = await instance.post(server.url('/mcp/x'), { a: 1 });

          expect(response.status).toBe(200);
          const [hop] = server.requestsTo('/mcp/x');
          expect(hop?.headers.authorization).toMatch(useDpop ? /^DPoP / : /^Bearer /);
          const [outside] = server.requestsTo('/outside/x');
          expect(outside?.method).toBe(status === 307 ? 'POST' : 'GET');
          expect(outside?.headers.authorization).toBeUndefined();
          expect(outside?.headers.dpop).toBeUndefined();
        });
      }
    }

    it('a redirect inside the resource carries a fresh DPoP proof for the new URL, query included', async () => {
      // The application's params serializer is for its own params, not for the query of a hop.
      const paramsSerializer = { serialize: () => 'serialized=by-the-app' };
      const { server, instance } = await setup(axios, { dpop: true, instance: { paramsSerializer } });
      await authorize(server, instance);
      server.redirectTo('/mcp/a', server.url('/mcp/b?page=2'), 307);

      const response = await instance.post(server.url('/mcp/a'), { a: 1 });

      expect(response.status).toBe(200);
      const [hop] = server.requestsTo('/mcp/b');
      expect(hop?.search).toBe('?page=2');
      expect(hop?.dpop?.htu).toBe(server.url('/mcp/b'));
      expect(hop?.dpop?.htm).toBe('POST');
      expect(hop?.dpop?.jti).not.toBe(server.requestsTo('/mcp/a')[0]?.dpop?.jti);
    });

    it('authorizes the URL axios builds from baseURL, a relative url and params', async () => {
      const { server, instance } = await setup(axios);
      instance.defaults.baseURL = server.origin;
      await authorize(server, instance);

      await instance.get('/mcp/tools', { params: { cursor: 'a b' } });
      await instance.get('/public/page', { params: { cursor: 1 } });

      const [tools] = server.requestsTo('/mcp/tools');
      expect(tools?.search).toBe('?cursor=a+b');
      expect(tools?.headers.authorization).toMatch(/^Bearer /);
      expect(server.requestsTo('/public/page')[0]?.headers.authorization).toBeUndefined();
    });

    it('with maxRedirects: 0, hands a redirect back instead of following it', async () => {
      const { server, instance } = await setup(axios);
      await authorize(server, instance);
      server.redirectTo('/mcp/moved', server.url('/mcp/there'), 302);

      const response = await instance.get(server.url('/mcp/moved'), {
        maxRedirects: 0,
        validateStatus: () => true,
      });

      expect(response.status).toBe(302);
      expect(server.count('/mcp/there')).toBe(0);
    });

    it('also authorizes a request that brings its own adapter', async () => {
      const { server, instance } = await setup(axios);
      const seen: unknown[] = [];
      const http = axios.getAdapter?.('http') ?? (axios.defaults.adapter as AxiosAdapter);
      const adapter: AxiosAdapter = (config) => {
        seen.push(config.headers.get('authorization'));
        return http(config);
      };

      const response = await instance.get(server.mcpUrl, { adapter });

      expect(response.status).toBe(200);
      const token = server.issuedTokens[0]?.accessToken;
      expect(seen).toEqual([undefined, `Bearer ${token}`]);
      expect(response.config.headers.get('authorization')).toBeUndefined();
    });
  });

  describe('what the caller sees', () => {
    it('interceptors see one request and its final response, without credentials', async () => {
      const { server, instance } = await setup(axios);
      const requests: unknown[] = [];
      const responses: unknown[] = [];
      instance.interceptors.request.use((config) => {
        requests.push(config.headers.get('authorization'));
        return config;
      });
      instance.interceptors.response.use((response) => {
        responses.push([response.status, response.config.headers.get('authorization')]);
        return response;
      });

      const response = await instance.get(server.mcpUrl);

      expect(server.requestsTo('/mcp').map((record) => record.status)).toEqual([401, 200]);
      expect(response.status).toBe(200);
      expect(requests).toEqual([undefined]);
      expect(responses).toEqual([[200, undefined]]);
    });

    it('the first 401 is retried even when validateStatus accepts it; the last one is the answer', async () => {
      const { server, instance } = await setup(axios, { instance: { validateStatus: () => true } });
      server.alwaysUnauthorized('/mcp');

      const response = await instance.get(server.mcpUrl);

      expect(response.status).toBe(401);
      expect(server.requestsTo('/mcp').map((record) => record.status)).toEqual([401, 401]);
    });

    for (const [status, code] of [
      [401, 'ERR_BAD_REQUEST'],
      [500, 'ERR_BAD_RESPONSE'],
    ] as const) {
      it(`a final ${status} is axios's own AxiosError (${code}), with no token anywhere in it`, async () => {
        const { server, instance } = await setup(axios);
        const token = await authorize(server, instance);
        server.respondWith('/mcp/fail', (record) => ({
          status: record.headers.authorization === undefined ? 200 : status,
          headers: status === 401 ? { 'www-authenticate': 'Bearer error="invalid_token"' } : {},
          body: 'failed',
        }));

        const error = await rejection(instance.post(server.url('/mcp/fail'), { a: 1 }));

        expect(error).toBeInstanceOf(axios.AxiosError);
        expect(error.message).toBe(`Request failed with status code ${status}`);
        expect(error.code).toBe(code);
        expect(error.response?.status).toBe(status);
        expect(error.response?.data).toBe('failed');
        expect(error.config?.headers.get('authorization')).toBeUndefined();
        expect(error.response?.config).toBe(error.config);
        const head = (error.request as { _header?: string })._header ?? '';
        expect(head).toMatch(/^authorization: \[redacted\]\r$/im);
        expect(printed(error)).not.toContain(token);
        expect(printed(error.toJSON())).not.toContain(token);
      });
    }

    it('a DPoP proof is redacted too', async () => {
      const { server, instance } = await setup(axios, { dpop: true });
      const token = await authorize(server, instance);
      server.respondWith('/mcp/fail', { status: 500, body: 'failed' });

      const error = await rejection(instance.get(server.url('/mcp/fail')));

      const proof = server.requestsTo('/mcp/fail')[0]?.headers.dpop ?? '';
      expect(proof.length).toBeGreaterThan(20);
      expect(printed(error)).not.toContain(token);
      expect(printed(error)).not.toContain(proof);
      expect((error.request as { _header?: string })._header).toMatch(/^dpop: \[redacted\]\r$/im);
    });

    it('an aborted request rejects with no token in the error', async () => {
      const { server, instance } = await setup(axios);
      const token = await authorize(server, instance);
      const gate = server.hold('/mcp/slow');
      const controller = new AbortController();

      const pending = rejection(instance.get(server.url('/mcp/slow'), { signal: controller.signal }));
      await gate.reached;
      controller.abort();
      const error = await pending;

      expect(axios.isCancel(error)).toBe(true);
      expect(printed(error)).not.toContain(token);
    });

    it('a request aborted while it waits for a free socket rejects with no token in the error', async () => {
      // Until a socket takes it, Node keeps the request's head (credentials included) in `outputData`.
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      cleanups.push(async () => agent.destroy());
      const { server, instance } = await setup(axios, { instance: { httpAgent: agent } });
      const token = await authorize(server, instance);
      const gate = server.hold('/mcp/slow');
      const slow = instance.get(server.url('/mcp/slow'));
      await gate.reached;
      const controller = new AbortController();

      const pending = rejection(instance.get(server.url('/mcp/queued'), { signal: controller.signal }));
      await vi.waitFor(() => expect(Object.keys(agent.requests)).toHaveLength(1));
      controller.abort();
      const error = await pending;
      gate.release();
      await slow;

      expect(axios.isCancel(error)).toBe(true);
      expect(server.count('/mcp/queued')).toBe(0);
      expect(printed(error)).not.toContain(token);
    });

    it('a successful response carries no token outside its data', async () => {
      const { server, instance } = await setup(axios);
      const token = await authorize(server, instance);
      server.respondWith('/mcp/ok', { status: 200, body: 'fine' });

      const response = await instance.get(server.url('/mcp/ok'));

      expect(response.data).toBe('fine');
      expect(server.requestsTo('/mcp/ok')[0]?.headers.authorization).toBe(`Bearer ${token}`);
      expect(inspect(response, { depth: 8 })).not.toContain(token);
      expect(JSON.stringify(response.config)).not.toContain(token);
    });

    it('a config sent again (as axios-retry does) is not wrapped twice', async () => {
      const { server, session, instance } = await setup(axios);
      await authorize(server, instance);
      server.respondWith('/mcp/flaky', { status: 503, body: 'busy' }, { times: 1 });
      const begun = vi.spyOn(session, 'beginRequest');

      const error = await rejection(instance.get(server.url('/mcp/flaky')));
      // axios 1.0.0 cannot send its own config again ("Invalid character in header content"): it
      // needs plain headers.
      const config = error.config!;
      const again = axios.VERSION === '1.0.0' ? { ...config, headers: config.headers.toJSON() } : config;
      const response = await instance.request(again);

      expect(response.status).toBe(200);
      expect(begun).toHaveBeenCalledTimes(2);
      expect(server.requestsTo('/mcp/flaky').map((record) => record.headers.authorization)).toEqual([
        expect.stringMatching(/^Bearer /),
        expect.stringMatching(/^Bearer /),
      ]);
    });

    it('a response read as a stream is handed back as a stream; the 401 before it is freed', async () => {
      const { server, instance } = await setup(axios);

      const response: AxiosResponse<NodeJS.ReadableStream> = await instance.get(server.mcpUrl, {
        responseType: 'stream',
      });

      let text = '';
      for await (const chunk of response.data) text += String(chunk);
      expect(JSON.parse(text)).toMatchObject({ path: '/mcp' });
      expect(server.requestsTo('/mcp').map((record) => record.status)).toEqual([401, 200]);
    });
  });

  describe('withOAuth', () => {
    it('returns the same instance, with its session', async () => {
      const { session, instance } = await setup(axios);
      expect(instance.oauthSession).toBe(session);
    });

    it('refuses a second session on the same instance', async () => {
      const { instance, server } = await setup(axios);
      const again = () =>
        withOAuth(instance, {
          serverUrl: server.mcpUrl,
          client: { clientName: 'x', redirectUris: ['http://127.0.0.1/callback'] },
        });
      let caught: unknown;
      try {
        again();
      } catch (error) {
        caught = error;
      }
      expect(isOAuthClientError(caught, 'invalid_options')).toBe(true);
    });

    it('builds a session from options, whose own requests go over the instance without its headers', async () => {
      const server = await startTestServer();
      cleanups.push(() => server.close());
      const instance = withOAuth(axios.create({ headers: { 'x-app': 'secret-app-header' } }), {
        serverUrl: server.mcpUrl,
        client: { clientName: 'from options', redirectUris: ['http://127.0.0.1/callback'] },
        authorizationHandler: server.authorizationHandler(),
      });

      const response = await instance.get(server.mcpUrl);

      expect(response.status).toBe(200);
      expect(instance.oauthSession).toBeInstanceOf(OAuthSession);
      expect(server.requestsTo('/mcp').map((record) => record.headers['x-app'])).toEqual([
        'secret-app-header',
        'secret-app-header',
      ]);
      expect(server.requestsTo('/token')[0]?.headers['x-app']).toBeUndefined();
    });
  });
});

describe("axios's fetch adapter", () => {
  it('the fetch Request an AxiosError holds carries no token', async () => {
    const { server, instance } = await setup(latest, { instance: { adapter: 'fetch' } });
    const token = await authorize(server, instance);
    server.respondWith('/mcp/fail', { status: 500, body: 'failed' });

    const error = await rejection(instance.get(server.url('/mcp/fail')));

    expect(error.request).toBeInstanceOf(Request);
    expect((error.request as Request).headers.get('authorization')).toBe('[redacted]');
    expect(printed(error)).not.toContain(token);
  });
});

describe('in a browser', () => {
  it('XHR, which follows redirects itself, is replaced by the fetch adapter for requests the session follows', async () => {
    const calls: string[] = [];
    const xhr = Object.assign(
      (async (config) => {
        calls.push(String(config.url));
        return { data: 'from xhr', status: 200, statusText: 'OK', headers: {}, config };
      }) as AxiosAdapter,
      { adapterName: 'xhr' },
    );
    const { server, instance } = await setup(latest, { instance: { adapter: xhr } });
    await authorize(server, instance);
    server.redirectTo('/mcp/x', server.url('/outside/x'), 302);

    const inside = await instance.get(server.url('/mcp/x'));
    const outside = await instance.get(server.url('/public/page'));

    expect(inside.status).toBe(200);
    expect(server.requestsTo('/outside/x')[0]?.headers.authorization).toBeUndefined();
    expect(outside.data).toBe('from xhr');
    expect(calls).toEqual([server.url('/public/page')]);
  });
});
