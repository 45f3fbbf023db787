// The whole flow (OAuth and MCP requests of the fetch adapter through the proxy, NO_PROXY
// bypassing it) is tested in packages/compat, where both packages are installed.
import { isOAuthClientError } from '@mcp-oauth/core';
import { startTestProxy, startTestServer, type TestProxy, type TestServer } from '@mcp-oauth/testkit';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createEnvironmentProxyFetch, readEnvironmentProxy } from './environment-proxy.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  vi.unstubAllEnvs();
});

async function servers(): Promise<{ proxy: TestProxy; server: TestServer }> {
  const proxy = await startTestProxy();
  const server = await startTestServer();
  cleanups.push(
    () => proxy.close(),
    () => server.close(),
  );
  return { proxy, server };
}

async function get(proxiedFetch: typeof fetch, url: string): Promise<number> {
  const response = await proxiedFetch(url);
  await response.text();
  return response.status;
}

describe('createEnvironmentProxyFetch', () => {
  it('sends requests through HTTP_PROXY, in a CONNECT tunnel', async () => {
    const { proxy, server } = await servers();
    const proxiedFetch = createEnvironmentProxyFetch({ env: { HTTP_PROXY: proxy.url } });
    expect(await get(proxiedFetch, server.url('/public/a'))).toBe(200);
    expect(await get(proxiedFetch, server.url('/public/b?query=1'))).toBe(200);
    expect(new Set(proxy.tunnels)).toEqual(new Set([`CONNECT ${new URL(server.origin).host}`]));
    expect(proxy.requests).toEqual(['GET /public/a', 'GET /public/b']);
  });

  it('takes a Request of the global fetch, as ky passes, body and headers included', async () => {
    const { proxy, server } = await servers();
    const proxiedFetch = createEnvironmentProxyFetch({ env: { HTTP_PROXY: proxy.url } });
    const request = new Request(server.url('/public/form'), {
      method: 'PUT',
      headers: { 'content-type': 'text/plain', 'x-caller': 'ky' },
      body: 'body ✓',
    });
    const response = await proxiedFetch(request);
    expect(response.status).toBe(200);
    await response.text();
    const [record] = server.requestsTo('/public/form');
    expect([record?.method, record?.text, record?.headers['x-caller']]).toEqual(['PUT', 'body ✓', 'ky']);
    expect(proxy.requests).toEqual(['PUT /public/form']);
  });

  it('reaches NO_PROXY hosts directly, an entry with a port for that port only', async () => {
    const { proxy, server } = await servers();
    const port = new URL(server.origin).port;
    for (const noProxy of ['127.0.0.1', 'localhost, 127.0.0.1', `127.0.0.1:${port}`, '*']) {
      const direct = createEnvironmentProxyFetch({ env: { HTTP_PROXY: proxy.url, NO_PROXY: noProxy } });
      expect(await get(direct, server.url('/public/direct'))).toBe(200);
    }
    expect(proxy.requests).toEqual([]);
    const otherPort = createEnvironmentProxyFetch({
      env: { HTTP_PROXY: proxy.url, NO_PROXY: '127.0.0.1:1' },
    });
    expect(await get(otherPort, server.url('/public/proxied'))).toBe(200);
    expect(proxy.requests).toEqual(['GET /public/proxied']);
  });

  it('uses HTTPS_PROXY for https: URLs only', async () => {
    const { proxy, server } = await servers();
    const proxiedFetch = createEnvironmentProxyFetch({ env: { HTTPS_PROXY: proxy.url } });
    expect(await get(proxiedFetch, server.url('/public'))).toBe(200);
    expect(proxy.requests).toEqual([]); // the server is http:
  });

  it('reads process.env by default, lower-case names first', async () => {
    const { proxy, server } = await servers();
    vi.stubEnv('http_proxy', proxy.url);
    vi.stubEnv('HTTP_PROXY', 'http://127.0.0.1:9'); // nothing listens there
    vi.stubEnv('no_proxy', '');
    vi.stubEnv('NO_PROXY', '');
    expect(await get(createEnvironmentProxyFetch(), server.url('/public'))).toBe(200);
    expect(proxy.requests).toEqual(['GET /public']);
  });

  it('is the global fetch when no proxy is named', async () => {
    const { proxy, server } = await servers();
    const plainFetch = createEnvironmentProxyFetch({ env: { NO_PROXY: '*' } });
    const response = await plainFetch(server.url('/public'));
    expect(response).toBeInstanceOf(Response);
    await response.text();
    expect(proxy.requests).toEqual([]);
  });
});

describe('readEnvironmentProxy', () => {
  it.each([
    [{}, undefined],
    [{ HTTP_PROXY: '  ' }, undefined],
    [{ NO_PROXY: '*' }, undefined],
    [
      { HTTP_PROXY: 'http://proxy:3128' },
      { httpProxy: 'http://proxy:3128', httpsProxy: undefined, noProxy: '' },
    ],
    [
      { https_proxy: 'http://a:1', HTTPS_PROXY: 'http://b:2', NO_PROXY: '.corp, localhost' },
      { httpProxy: undefined, httpsProxy: 'http://a:1', noProxy: '.corp, localhost' },
    ],
  ])('%j → %j', (env, expected) => {
    expect(readEnvironmentProxy(env)).toEqual(expected);
  });

  it.each([
    ['HTTPS_PROXY', 'http://user:SECRET@[not-a-host'],
    ['HTTP_PROXY', 'socks5://user:SECRET@proxy:1080'],
  ])('refuses a %s that is not an http(s) URL, without showing it', (name, value) => {
    let caught: unknown;
    try {
      createEnvironmentProxyFetch({ env: { [name]: value } });
    } catch (error) {
      caught = error;
    }
    expect(isOAuthClientError(caught) && caught.code).toBe('invalid_options');
    expect((caught as Error).message).toContain(name);
    expect(JSON.stringify(caught) + String(caught)).not.toContain('SECRET');
  });
});
