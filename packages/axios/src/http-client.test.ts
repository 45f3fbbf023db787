import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isOAuthClientError } from '@mcp-oauth/core';
import latest, { type AxiosStatic } from 'axios';
import oldest from 'axios-1.0.0';
import { afterEach, describe, expect, it } from 'vitest';
import { createAxiosHttpClient } from './index.js';

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

const versions: [string, AxiosStatic][] = [
  [`axios ${latest.VERSION}`, latest],
  [`axios ${oldest.VERSION}`, oldest as unknown as AxiosStatic],
];

describe.each(versions)('%s', (_name, axios) => {
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
