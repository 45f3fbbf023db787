import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { isOAuthClientError, type RequestInfo, type ResponseInfo } from '@mcp-oauth/core';
import latest, { type AxiosError, type AxiosStatic } from 'axios';
import oldest from 'axios-1.0.0';
import { afterEach, describe, expect, it } from 'vitest';
import { createAxiosHttpClient, installOAuth, isOAuthRetry } from './index.js';

interface Seen {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

type Handler = (request: Seen, response: ServerResponse) => void;

const servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function listen(handler: Handler) {
  const seen: Seen[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const entry = {
        method: request.method ?? '',
        path: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks),
      };
      seen.push(entry);
      handler(entry, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const handle = {
    origin,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  servers.push(handle);
  return handle;
}

/** 401 for a request without a second token (`token-2`, `a-2`, …); 200 otherwise. */
const rejectFirstToken: Handler = (request, response) => {
  const authorized = request.headers.authorization?.endsWith('-2') === true;
  response.writeHead(authorized ? 200 : 401, { 'content-type': 'text/plain' }).end(authorized ? 'ok' : 'no');
};

/** A session that hands out `token-1`, `token-2`, … inside `resource` and retries each first 401 there. */
function fakeSession(resource: string, name = 'token') {
  const authorizations: RequestInfo[] = [];
  const responses: ResponseInfo[] = [];
  let issued = 0;
  const session: Parameters<typeof installOAuth>[1] = {
    async getAuthorizationHeaders(request) {
      authorizations.push(request);
      if (!String(request.url).startsWith(resource)) return {};
      issued++;
      return { authorization: `Bearer ${name}-${issued}`, dpop: `proof-${issued}` };
    },
    async handleResponse(response) {
      responses.push(response);
      const inside = String(response.url).startsWith(resource);
      return inside && response.status === 401 && response.attempt === 0 ? 'retry' : 'pass';
    },
  };
  return { session, authorizations, responses };
}

const versions: [string, AxiosStatic][] = [
  [`axios ${latest.VERSION}`, latest],
  [`axios ${oldest.VERSION}`, oldest as unknown as AxiosStatic],
];

describe.each(versions)('%s', (_name, axios) => {
  describe('installOAuth', () => {
    it('adds the session headers for each request’s own method and URL, and none outside the resource', async () => {
      const server = await listen((_request, response) => response.end('ok'));
      const { session, authorizations, responses } = fakeSession(`${server.origin}/mcp`);
      const instance = axios.create({ baseURL: server.origin });
      installOAuth(instance, session);

      await instance.post('/mcp?x=1', { a: 1 });
      await instance.get('/elsewhere');

      expect(authorizations.map(({ method, url }) => [method, String(url)])).toEqual([
        ['POST', `${server.origin}/mcp?x=1`],
        ['GET', `${server.origin}/elsewhere`],
      ]);
      expect(server.seen[0]?.headers).toMatchObject({ authorization: 'Bearer token-1', dpop: 'proof-1' });
      expect(server.seen[1]?.headers.authorization).toBeUndefined();
      expect(responses.map(({ status, attempt }) => [status, attempt])).toEqual([
        [200, 0],
        [200, 0],
      ]);
    });

    it('asks for headers for the URL axios really requests: absolute URLs, baseURL and params', async () => {
      const server = await listen((_request, response) => response.end('ok'));
      const { session, authorizations } = fakeSession(`${server.origin}/mcp`);
      const instance = axios.create({ baseURL: 'http://127.0.0.1:1/ignored' });
      installOAuth(instance, session);

      await instance.get(`${server.origin}/mcp/a`);
      await instance.get(`${server.origin}/mcp/b`, { params: { page: 2 } });
      await instance.get('/mcp/c', { baseURL: `${server.origin}/` });

      expect(authorizations.map(({ url }) => String(url))).toEqual([
        `${server.origin}/mcp/a`,
        `${server.origin}/mcp/b?page=2`,
        `${server.origin}/mcp/c`,
      ]);
      expect(server.seen.map((request) => request.path)).toEqual(['/mcp/a', '/mcp/b?page=2', '/mcp/c']);
    });

    it('retries a 401 once with fresh headers, and a second 401 surfaces as axios’s AxiosError', async () => {
      const server = await listen((_request, response) => response.writeHead(401).end('no'));
      const { session, responses } = fakeSession(`${server.origin}/mcp`);
      const instance = axios.create();
      installOAuth(instance, session);

      const error = (await instance
        .get(`${server.origin}/mcp`)
        .catch((caught: unknown) => caught)) as AxiosError;

      expect(axios.isAxiosError(error)).toBe(true);
      expect(error.response?.status).toBe(401);
      expect(server.seen.map((request) => request.headers.authorization)).toEqual([
        'Bearer token-1',
        'Bearer token-2',
      ]);
      expect(responses.map(({ attempt }) => attempt)).toEqual([0, 1]);
      expect(isOAuthRetry(error.config)).toBe(true);
    });

    it('hands a 401 accepted by validateStatus to the session too', async () => {
      const server = await listen(rejectFirstToken);
      const { session } = fakeSession(`${server.origin}/mcp`);
      const instance = axios.create({ validateStatus: () => true });
      installOAuth(instance, session);

      const response = await instance.get(`${server.origin}/mcp`);

      expect([response.status, response.data]).toEqual([200, 'ok']);
      expect(server.seen).toHaveLength(2);
      expect(isOAuthRetry(response.config)).toBe(true);
    });

    it('tells the session which token the rejected request carried', async () => {
      const server = await listen(rejectFirstToken);
      const { session, responses } = fakeSession(`${server.origin}/mcp`);
      const instance = axios.create();
      installOAuth(instance, session);

      await instance.get(`${server.origin}/mcp`);

      const sent = responses.map((response) =>
        (response.requestHeaders as { get(name: string): unknown }).get('authorization'),
      );
      expect(sent).toEqual(['Bearer token-1', 'Bearer token-2']);
    });

    const bodies: [string, () => unknown, ((data: unknown) => unknown)[]?][] = [
      ['a JSON object', () => ({ text: 'héllo', list: [1, 2] })],
      ['a string', () => '  {"padded": true}  '],
      ['URLSearchParams', () => new URLSearchParams({ a: '1', b: 'two words' })],
      ['bytes', () => new Uint8Array([0, 1, 2, 255])],
      ['a Buffer', () => Buffer.from('buffer body')],
      [
        'a body a custom transformRequest wraps',
        () => ({ a: 1 }),
        [(data) => JSON.stringify({ wrapped: data })],
      ],
    ];

    it.each(bodies)('re-sends %s byte-identical on the retry', async (_kind, body, transformRequest) => {
      const server = await listen(rejectFirstToken);
      const { session } = fakeSession(`${server.origin}/mcp`);
      const instance = axios.create(transformRequest === undefined ? {} : { transformRequest });
      installOAuth(instance, session);

      const response = await instance.post(`${server.origin}/mcp`, body(), {
        headers: { 'content-type': contentTypeFor(body()) },
      });

      expect(response.status).toBe(200);
      const [first, second] = server.seen;
      expect(first?.body.length).toBeGreaterThan(0);
      expect(second?.body.toString('hex')).toBe(first?.body.toString('hex'));
      expect(second?.headers['content-type']).toBe(first?.headers['content-type']);
    });

    it('refuses to retry a stream body with request_not_replayable, after one request', async () => {
      const server = await listen(rejectFirstToken);
      const { session, responses } = fakeSession(`${server.origin}/mcp`);
      const instance = axios.create();
      installOAuth(instance, session);

      const error = await instance
        .post(`${server.origin}/mcp`, Readable.from([Buffer.from('once')]), {
          headers: { 'content-type': 'application/octet-stream' },
        })
        .catch((caught: unknown) => caught);

      expect(isOAuthClientError(error, 'request_not_replayable')).toBe(true);
      expect(server.seen.map((request) => request.body.toString())).toEqual(['once']);
      expect(responses).toHaveLength(1);
    });

    it('passes the request’s signal to the session', async () => {
      const server = await listen((_request, response) => response.end('ok'));
      const { session, authorizations } = fakeSession(`${server.origin}/mcp`);
      const instance = axios.create();
      installOAuth(instance, session);
      const controller = new AbortController();

      await instance.get(`${server.origin}/mcp`, { signal: controller.signal });

      expect(authorizations[0]?.signal).toBe(controller.signal);
    });

    it('surfaces an error from the session unchanged', async () => {
      const server = await listen((_request, response) => response.end('ok'));
      const failure = new Error('refresh failed');
      const instance = axios.create();
      installOAuth(instance, {
        getAuthorizationHeaders: () => Promise.reject(failure),
        handleResponse: async () => 'pass',
      });

      await expect(instance.get(`${server.origin}/mcp`)).rejects.toBe(failure);
      expect(server.seen).toHaveLength(0);
    });

    it('stops authorizing once ejected', async () => {
      const server = await listen((_request, response) => response.end('ok'));
      const { session, authorizations } = fakeSession(`${server.origin}/mcp`);
      const instance = axios.create();
      const eject = installOAuth(instance, session);
      eject();

      await instance.get(`${server.origin}/mcp`);

      expect(authorizations).toHaveLength(0);
      expect(server.seen[0]?.headers.authorization).toBeUndefined();
    });

    it('lets several sessions share one instance, each authorizing only its own server', async () => {
      const first = await listen(rejectFirstToken);
      const second = await listen(rejectFirstToken);
      const a = fakeSession(`${first.origin}/mcp`, 'a');
      const b = fakeSession(`${second.origin}/mcp`, 'b');
      const instance = axios.create();
      installOAuth(instance, a.session);
      installOAuth(instance, b.session);

      await instance.get(`${first.origin}/mcp`);
      await instance.get(`${second.origin}/mcp`);

      expect(first.seen.map((request) => [request.headers.authorization, request.headers.dpop])).toEqual([
        ['Bearer a-1', 'proof-1'],
        ['Bearer a-2', 'proof-2'],
      ]);
      expect(second.seen.map((request) => request.headers.authorization)).toEqual([
        'Bearer b-1',
        'Bearer b-2',
      ]);
      expect(a.responses.map(({ status, attempt }) => [status, attempt])).toEqual([
        [401, 0],
        [200, 1],
        [401, 0],
        [200, 1],
      ]);
    });

    it('judges a response by the URL that answered after a redirect', async () => {
      const server = await listen((request, response) => {
        if (request.path === '/mcp/old') response.writeHead(302, { location: '/login' }).end();
        else response.writeHead(401).end();
      });
      const { session, responses } = fakeSession(`${server.origin}/mcp`);
      const instance = axios.create();
      installOAuth(instance, session);

      const error = (await instance
        .get(`${server.origin}/mcp/old`)
        .catch((caught: unknown) => caught)) as AxiosError;

      expect(error.response?.status).toBe(401);
      expect(server.seen.map((request) => request.path)).toEqual(['/mcp/old', '/login']);
      expect(responses.map((response) => String(response.url))).toEqual([`${server.origin}/login`]);
    });

    it('drops Authorization and DPoP on a redirect to another origin and keeps them on the same origin', async () => {
      const other = await listen((_request, response) => response.end('elsewhere'));
      const server = await listen((request, response) => {
        const location = request.path === '/mcp/away' ? `${other.origin}/landing` : '/mcp/here';
        if (request.path === '/mcp/here') response.end('here');
        else response.writeHead(302, { location }).end();
      });
      const { session, responses } = fakeSession(`${server.origin}/mcp`);
      const hops: string[] = [];
      const instance = axios.create({ beforeRedirect: (options) => hops.push(String(options.href)) });
      installOAuth(instance, session);

      await instance.get(`${server.origin}/mcp/away`);
      await instance.get(`${server.origin}/mcp/same`);

      expect(other.seen[0]?.headers.authorization).toBeUndefined();
      expect(other.seen[0]?.headers.dpop).toBeUndefined();
      expect(server.seen[2]?.headers).toMatchObject({ authorization: 'Bearer token-2', dpop: 'proof-2' });
      expect(hops).toEqual([`${other.origin}/landing`, `${server.origin}/mcp/here`]);
      expect(String(responses[0]?.url)).toBe(`${other.origin}/landing`);
    });
  });

  describe('createAxiosHttpClient', () => {
    const engineRequest = (url: string, body?: string) => ({
      method: body === undefined ? ('GET' as const) : ('POST' as const),
      url,
      headers: body === undefined ? { accept: 'application/json' } : { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body }),
      redirect: 'never' as const,
      timeoutMs: 5000,
      maxResponseBytes: 64,
      signal: new AbortController().signal,
    });

    it('sends only the engine’s headers, whatever the instance and axios.defaults add', async () => {
      const server = await listen((_request, response) => response.end('{}'));
      const instance = axios.create({
        headers: { 'x-app': 'secret' },
        params: { key: 'secret' },
        auth: { username: 'u', password: 'p' },
      });
      instance.defaults.headers.common['x-common'] = 'secret';
      instance.interceptors.request.use((config) => {
        config.headers.set('x-interceptor', 'secret');
        return config;
      });
      axios.defaults.headers.common['x-global'] = 'secret';
      try {
        const response = await createAxiosHttpClient(instance).send(
          engineRequest(`${server.origin}/token`, '{"a":1}'),
        );
        expect(response).toMatchObject({ status: 200, body: '{}' });
      } finally {
        delete axios.defaults.headers.common['x-global'];
      }

      const [seen] = server.seen;
      expect(seen?.path).toBe('/token');
      expect(seen?.body.toString()).toBe('{"a":1}');
      expect(JSON.stringify(seen?.headers)).not.toContain('secret');
      expect(Object.keys(seen?.headers ?? {}).sort()).toEqual(
        expect.arrayContaining(['content-type', 'host']),
      );
      expect(
        Object.keys(seen?.headers ?? {}).filter((name) => name.startsWith('x-') || name === 'authorization'),
      ).toEqual([]);
    });

    it('returns a redirect as it is, with lower-case headers, and reads 4xx bodies', async () => {
      const server = await listen((request, response) => {
        if (request.path === '/moved')
          response.writeHead(302, { Location: '/elsewhere', 'X-Mixed': 'A' }).end();
        else response.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"invalid_grant"}');
      });
      const client = createAxiosHttpClient();

      const moved = await client.send(engineRequest(`${server.origin}/moved`));
      const rejected = await client.send(engineRequest(`${server.origin}/token`, 'x'));

      expect(moved).toMatchObject({ status: 302, headers: { location: '/elsewhere', 'x-mixed': 'A' } });
      expect(rejected).toMatchObject({ status: 400, body: '{"error":"invalid_grant"}' });
      expect(server.seen.map((request) => request.path)).toEqual(['/moved', '/token']);
    });

    it('sends the URL’s query exactly as written', async () => {
      const server = await listen((_request, response) => response.end('{}'));
      const client = createAxiosHttpClient();
      const queries = ['?p=b2c_1_signin&x=%C3%A9'];
      // axios 1.0.0 cannot send a query its URLSearchParams would rewrite (axios#4999).
      if (axios.VERSION !== '1.0.0') queries.push('?a=b%20c&d=~&flag');

      for (const query of queries) await client.send(engineRequest(`${server.origin}/token${query}`));

      expect(server.seen.map((request) => request.path)).toEqual(queries.map((query) => `/token${query}`));
    });

    it('stops reading past maxResponseBytes with response_too_large', async () => {
      const server = await listen((_request, response) => response.end('x'.repeat(1000)));

      const error = await createAxiosHttpClient()
        .send(engineRequest(`${server.origin}/big`))
        .catch((caught: unknown) => caught);

      expect(isOAuthClientError(error, 'response_too_large')).toBe(true);
    });

    it('uses the instance’s transport settings', async () => {
      const seen: unknown[] = [];
      const instance = axios.create({
        timeout: 1234,
        adapter: async (config) => {
          seen.push(config.timeout);
          return { data: 'adapted', status: 200, statusText: 'OK', headers: {}, config };
        },
      });

      const response = await createAxiosHttpClient(instance).send(engineRequest('http://127.0.0.1:1/x'));

      expect(response.body).toBe('adapted');
      expect(seen).toEqual([1234]);
    });
  });
});

function contentTypeFor(body: unknown): string {
  if (typeof body === 'string') return 'text/plain';
  if (body instanceof Uint8Array) return 'application/octet-stream';
  if (body instanceof URLSearchParams) return 'application/x-www-form-urlencoded';
  return 'application/json';
}
