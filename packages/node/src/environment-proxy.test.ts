import { request as httpRequest, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { isOAuthClientError, OAuthSession } from '@mcp-oauth/core';
import { createFetchHttpClient, withOAuth } from '@mcp-oauth/fetch';
import { closeServer, listenOnLoopback, startTestServer, type TestServer } from '@mcp-oauth/testkit';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createEnvironmentProxyFetch, readEnvironmentProxy } from './environment-proxy.js';

/**
 * A forward proxy on 127.0.0.1: CONNECT tunnels (what undici opens, for http: targets too) and
 * absolute-form requests. Tunnelled http: traffic is plain text, so it notes each request line
 * it carries. It reaches 127.0.0.1 only.
 */
interface TestProxy {
  readonly url: string;
  /** `CONNECT host:port` for each tunnel, and `METHOD /path` for each request seen through it. */
  readonly tunnels: string[];
  readonly requests: string[];
  close(): Promise<void>;
}

async function startProxy(): Promise<TestProxy> {
  const tunnels: string[] = [];
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const { server, origin } = await listenOnLoopback((request, response) => {
    const target = new URL(request.url ?? '');
    if (target.hostname !== '127.0.0.1') return void response.writeHead(403).end();
    requests.push(`${request.method} ${target.pathname}`);
    const upstream = httpRequest(target, { method: request.method, headers: request.headers }, (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    });
    upstream.on('error', () => response.destroy());
    request.pipe(upstream);
  });
  (server as Server).on('connect', (request, client: Socket, head: Buffer) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => {});
    const match = /^127\.0\.0\.1:(\d+)$/.exec(request.url ?? '');
    if (match === null) return void client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
    tunnels.push(`CONNECT ${request.url}`);
    const upstream = connect(Number(match[1]), '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      const note = (chunk: Buffer) => {
        for (const line of chunk.toString('latin1').matchAll(/(?:^|\r\n)([A-Z]+) (\/\S*) HTTP\/1\.1\r\n/g)) {
          requests.push(`${line[1]} ${new URL(line[2] ?? '/', 'http://x').pathname}`);
        }
      };
      if (head.length > 0) {
        note(head);
        upstream.write(head);
      }
      client.on('data', note);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
  });
  return {
    url: origin,
    tunnels,
    requests,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await closeServer(server);
    },
  };
}

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  vi.unstubAllEnvs();
});

async function servers() {
  const proxy = await startProxy();
  const server = await startTestServer();
  cleanups.push(
    () => proxy.close(),
    () => server.close(),
  );
  return { proxy, server };
}

/** Authorizes (discovery, registration, code, token), calls the MCP server, then refreshes and calls again. */
async function oauthAndMcp(server: TestServer, proxiedFetch: typeof fetch) {
  const session = new OAuthSession({
    serverUrl: server.mcpUrl,
    httpClient: createFetchHttpClient(proxiedFetch),
    client: { clientName: 'proxy test', redirectUris: ['http://127.0.0.1/callback'] },
    authorizationHandler: server.authorizationHandler(), // the user's browser: not through the proxy
  });
  const authorizedFetch = withOAuth(session, proxiedFetch);
  const call = async () => {
    const response = await authorizedFetch(server.mcpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    return { status: response.status, echo: (await response.json()) as { body: string } };
  };
  const first = await call();
  server.revokeAllAccessTokens();
  const second = await call();
  return [first, second].map(({ status, echo }) => [status, Buffer.from(echo.body, 'base64').toString()]);
}

/** What the servers received, but the browser's visit to /authorize. */
const receivedByServer = (server: TestServer) =>
  server.requests
    .filter((record) => record.path !== '/authorize')
    .map((record) => `${record.method} ${record.path}`);

const CALL_BODY = '{"jsonrpc":"2.0","id":1,"method":"tools/list"}';

describe('createEnvironmentProxyFetch', () => {
  it('sends OAuth and MCP requests through HTTP_PROXY', async () => {
    const { proxy, server } = await servers();
    const proxiedFetch = createEnvironmentProxyFetch({ env: { HTTP_PROXY: proxy.url } });
    expect(await oauthAndMcp(server, proxiedFetch)).toEqual([
      [200, CALL_BODY],
      [200, CALL_BODY],
    ]);
    expect(proxy.tunnels.length).toBeGreaterThan(0);
    expect(new Set(proxy.tunnels)).toEqual(new Set([`CONNECT ${new URL(server.origin).host}`]));
    // Every request the servers received came through the proxy…
    expect([...proxy.requests].sort()).toEqual(receivedByServer(server).sort());
    // …OAuth requests and MCP requests alike.
    expect(new Set(proxy.requests)).toEqual(
      new Set([
        'GET /.well-known/oauth-protected-resource/mcp',
        'GET /.well-known/oauth-authorization-server',
        'POST /register',
        'POST /token',
        'POST /mcp',
      ]),
    );
    expect(server.issuedTokens.map((token) => token.grantType)).toEqual([
      'authorization_code',
      'refresh_token',
    ]);
  });

  it('reaches NO_PROXY hosts directly', async () => {
    const { proxy, server } = await servers();
    const proxiedFetch = createEnvironmentProxyFetch({
      env: { HTTP_PROXY: proxy.url, NO_PROXY: 'localhost,127.0.0.1' },
    });
    expect(await oauthAndMcp(server, proxiedFetch)).toEqual([
      [200, CALL_BODY],
      [200, CALL_BODY],
    ]);
    expect(proxy.tunnels).toEqual([]);
    expect(proxy.requests).toEqual([]);
    expect(receivedByServer(server)).toContain('POST /token');
  });

  it('matches NO_PROXY entries with a port to that port only', async () => {
    const { proxy, server } = await servers();
    const port = new URL(server.origin).port;
    const other = createEnvironmentProxyFetch({ env: { HTTP_PROXY: proxy.url, NO_PROXY: '127.0.0.1:1' } });
    await (await other(server.url('/public'))).text();
    expect(proxy.requests).toEqual(['GET /public']);
    const same = createEnvironmentProxyFetch({
      env: { HTTP_PROXY: proxy.url, NO_PROXY: `127.0.0.1:${port}` },
    });
    await (await same(server.url('/public'))).text();
    expect(proxy.requests).toEqual(['GET /public']);
  });

  it('uses HTTPS_PROXY for https: URLs only', async () => {
    const { proxy, server } = await servers();
    const proxiedFetch = createEnvironmentProxyFetch({ env: { HTTPS_PROXY: proxy.url } });
    expect(await oauthAndMcp(server, proxiedFetch)).toEqual([
      [200, CALL_BODY],
      [200, CALL_BODY],
    ]);
    expect(proxy.requests).toEqual([]); // the servers are http:
  });

  it('reads process.env by default, lower-case names first', async () => {
    const { proxy, server } = await servers();
    vi.stubEnv('http_proxy', proxy.url);
    vi.stubEnv('HTTP_PROXY', 'http://127.0.0.1:9'); // nothing listens there
    vi.stubEnv('no_proxy', '');
    vi.stubEnv('NO_PROXY', '');
    const response = await createEnvironmentProxyFetch()(server.url('/public'));
    expect(response.status).toBe(200);
    await response.text();
    expect(proxy.requests).toEqual(['GET /public']);
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
