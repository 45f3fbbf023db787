/**
 * `createEnvironmentProxyFetch` of @mcp-oauth/node with the fetch adapter, as an application
 * behind a proxy uses them: the session's OAuth requests and the MCP requests both go through
 * `HTTP_PROXY` (a CONNECT proxy on 127.0.0.1 that notes each request it carries), and `NO_PROXY`
 * hosts are reached directly.
 */
import { OAuthSession } from '@mcp-oauth/core';
import { createFetchHttpClient, withOAuth } from '@mcp-oauth/fetch';
import { createEnvironmentProxyFetch } from '@mcp-oauth/node';
import { startTestProxy, startTestServer, type TestProxy, type TestServer } from '@mcp-oauth/testkit';
import { afterEach, describe, expect, it } from 'vitest';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
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

const CALL_BODY = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });

/** Calls the MCP server twice through `authorizedFetch`, revoking the access token in between (a refresh). */
async function callTwice(server: TestServer, authorizedFetch: typeof fetch) {
  const statuses: [number, string][] = [];
  for (let round = 0; round < 2; round++) {
    const response = await authorizedFetch(server.mcpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: CALL_BODY,
    });
    const echo = (await response.json()) as { body: string };
    statuses.push([response.status, Buffer.from(echo.body, 'base64').toString()]);
    server.revokeAllAccessTokens();
  }
  return statuses;
}

/** What the server received, but the browser's visit to /authorize (the user's browser has its own settings). */
const receivedByServer = (server: TestServer) =>
  server.requests
    .filter((record) => record.path !== '/authorize')
    .map((record) => `${record.method} ${record.path}`);

const sessionOptions = (server: TestServer) => ({
  serverUrl: server.mcpUrl,
  client: { clientName: 'proxy test', redirectUris: ['http://127.0.0.1/callback'] },
  authorizationHandler: server.authorizationHandler(),
});

describe('the fetch adapter behind HTTP_PROXY', () => {
  it('sends the OAuth requests and the MCP requests through the proxy', async () => {
    const { proxy, server } = await servers();
    const proxiedFetch = createEnvironmentProxyFetch({ env: { HTTP_PROXY: proxy.url } });
    const session = new OAuthSession({
      ...sessionOptions(server),
      httpClient: createFetchHttpClient(proxiedFetch),
    });
    expect(await callTwice(server, withOAuth(proxiedFetch, session))).toEqual([
      [200, CALL_BODY],
      [200, CALL_BODY],
    ]);
    expect(server.issuedTokens.map((token) => token.grantType)).toEqual([
      'authorization_code',
      'refresh_token',
    ]);
    // Every request the server received came through the proxy, in tunnels to the server…
    expect([...proxy.requests].sort()).toEqual(receivedByServer(server).sort());
    expect(new Set(proxy.tunnels)).toEqual(new Set([`CONNECT ${new URL(server.origin).host}`]));
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
  });

  it('reaches NO_PROXY hosts directly', async () => {
    const { proxy, server } = await servers();
    const proxiedFetch = createEnvironmentProxyFetch({
      env: { HTTP_PROXY: proxy.url, NO_PROXY: 'localhost,127.0.0.1' },
    });
    // Session options instead of a session: its OAuth requests use the same fetch.
    expect(await callTwice(server, withOAuth(proxiedFetch, sessionOptions(server)))).toEqual([
      [200, CALL_BODY],
      [200, CALL_BODY],
    ]);
    expect(receivedByServer(server)).toEqual(expect.arrayContaining(['POST /token', 'POST /mcp']));
    expect(proxy.tunnels).toEqual([]);
    expect(proxy.requests).toEqual([]);
  });
});
