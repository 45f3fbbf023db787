// `withOAuth` plugged into the official MCP TypeScript SDK, v1 and v2 clients, against a real SDK
// server: v1 `McpServer` over Streamable HTTP, guarded by the SDK's `requireBearerAuth`, with
// tokens from an authorization server made of the SDK's `mcpAuthRouter` (see sdk-*.ts). The
// transports get no `authProvider`: every 401 and 403 is handled inside the fetch wrapper.
import { OAuthSession } from '@mcp-oauth/core';
import {
  Client as ClientV2,
  StreamableHTTPClientTransport as StreamableHTTPClientTransportV2,
} from '@modelcontextprotocol/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFetchHttpClient, withOAuth } from './index.js';
import { type SdkAuthorizationServer, startSdkAuthorizationServer } from './sdk-authorization-server.js';
import {
  ADMIN_SCOPE,
  ADMIN_TOOL,
  type SdkMcpServer,
  startSdkMcpServer,
  TOOLS_SCOPE,
} from './sdk-mcp-server.js';
import { approve, bearer, posts, REDIRECT_URI, sorted, textOf } from './sdk-scenario.js';

/** What the scenario needs of either SDK generation's `Client`. */
interface McpClient {
  listTools(): Promise<{ tools: ReadonlyArray<{ name: string }> }>;
  callTool(params: { name: string; arguments: Record<string, unknown> }): Promise<unknown>;
  close(): Promise<void>;
}

type Connect = (mcpUrl: URL, fetch: typeof globalThis.fetch, opened: McpClient[]) => Promise<McpClient>;

const connectV1: Connect = async (mcpUrl, fetch, opened) => {
  const client = new Client({ name: 'mcp-oauth-fetch-sdk-v1', version: '1.0.0' });
  opened.push(client);
  await client.connect(new StreamableHTTPClientTransport(mcpUrl, { fetch }));
  return client;
};

const connectV2: Connect = async (mcpUrl, fetch, opened) => {
  const client = new ClientV2({ name: 'mcp-oauth-fetch-sdk-v2', version: '1.0.0' });
  opened.push(client);
  await client.connect(new StreamableHTTPClientTransportV2(mcpUrl, { fetch }));
  return client;
};

describe.each([
  { generation: 'v1 @modelcontextprotocol/sdk', connect: connectV1 },
  { generation: 'v2 @modelcontextprotocol/client', connect: connectV2 },
])('$generation StreamableHTTPClientTransport with fetch: withOAuth(session)', ({ connect }) => {
  let authorizationServer: SdkAuthorizationServer;
  let mcp: SdkMcpServer;
  let session: OAuthSession;
  let client: McpClient;
  const opened: McpClient[] = [];
  const authorizationUrls: URL[] = [];
  const tokens: { first?: string; steppedUp?: string } = {};

  beforeAll(async () => {
    authorizationServer = await startSdkAuthorizationServer({
      scopesSupported: [TOOLS_SCOPE, ADMIN_SCOPE, 'offline_access'],
    });
    mcp = await startSdkMcpServer(authorizationServer);
    session = new OAuthSession({
      serverUrl: mcp.mcpUrl,
      httpClient: createFetchHttpClient(),
      client: { clientName: 'mcp-oauth SDK integration test', redirectUris: [REDIRECT_URI] },
      authorizationHandler: async ({ authorizationUrl }) => {
        authorizationUrls.push(new URL(authorizationUrl));
        return approve(authorizationUrl);
      },
    });
  });

  afterAll(async () => {
    for (const each of opened) await each.close();
    await mcp?.close();
    await authorizationServer?.close();
  });

  it('authorizes on the first 401, then lists tools and calls echo with one registration and one token request', async () => {
    client = await connect(mcp.mcpUrl, withOAuth(fetch, session), opened);
    const { tools } = await client.listTools();
    expect(sorted(tools.map((tool) => tool.name))).toEqual([ADMIN_TOOL, 'echo']);
    const result = await client.callTool({ name: 'echo', arguments: { text: 'hello through withOAuth' } });
    expect(textOf(result)).toBe('hello through withOAuth');

    const { log } = authorizationServer.provider;
    expect(log.registrations).toHaveLength(1);
    const clientId = log.registrations[0];
    expect(log.authorizations).toEqual([{ clientId, scopes: expect.any(Array), resource: mcp.mcpUrl.href }]);
    expect(sorted(log.authorizations[0]!.scopes)).toEqual(['mcp:tools', 'offline_access']);
    expect(log.tokenRequests.map((request) => request.grantType)).toEqual(['authorization_code']);
    expect(authorizationUrls).toHaveLength(1);
    expect(authorizationUrls[0]?.searchParams.get('resource')).toBe(mcp.mcpUrl.href);

    // The first request went out bare and was challenged the way the SDK challenges; every other
    // request carried the one token issued, which introspection found active.
    const [first, ...rest] = mcp.requests;
    expect(first).toMatchObject({ rpcMethod: 'initialize', authorization: undefined, status: 401 });
    expect(first?.wwwAuthenticate).toMatch(/^Bearer /);
    expect(first?.wwwAuthenticate).toContain(`resource_metadata="${mcp.resourceMetadataUrl}"`);
    const token = bearer(rest[0]!);
    expect(token).toBeDefined();
    expect(authorizationServer.provider.issuedAccessToken(token!)).toBe(true);
    for (const record of rest) {
      expect(record).toMatchObject({ authorization: `Bearer ${token}`, tokenActive: true });
      // The background GET for a server-to-client stream is refused as in the SDK's stateless example.
      if (record.httpMethod === 'GET') expect(record.status).toBe(405);
      else expect(record.status).toBeLessThan(400);
    }
    expect(posts(rest).map((record) => record.rpc)).toEqual([
      'initialize',
      'notifications/initialized',
      'tools/list',
      'tools/call echo',
    ]);
    tokens.first = token!;
  });

  it(`steps up on requireBearerAuth's 403 insufficient_scope and retries ${ADMIN_TOOL} once`, async () => {
    const before = mcp.requests.length;
    const result = await client.callTool({ name: ADMIN_TOOL, arguments: { text: 'needs more' } });
    // The tool answers with the scopes of the token the server accepted.
    const scopesSeen = /^needs more \[(.+)\]$/.exec(textOf(result))?.[1]?.split(' ');
    expect(scopesSeen).toEqual(expect.arrayContaining([TOOLS_SCOPE, ADMIN_SCOPE]));

    const calls = mcp.requests.slice(before);
    expect(posts(calls)).toEqual([
      { rpc: `tools/call ${ADMIN_TOOL}`, token: tokens.first, active: true, status: 403 },
      { rpc: `tools/call ${ADMIN_TOOL}`, token: expect.any(String), active: true, status: 200 },
    ]);
    expect(calls[0]?.wwwAuthenticate).toContain('error="insufficient_scope"');
    expect(calls[0]?.wwwAuthenticate).toContain(`scope="${TOOLS_SCOPE} ${ADMIN_SCOPE}"`);
    const steppedUp = bearer(calls[1]!)!;
    expect(steppedUp).not.toBe(tokens.first);

    const { log } = authorizationServer.provider;
    expect(log.registrations).toHaveLength(1);
    expect(log.authorizations).toHaveLength(2);
    expect(log.authorizations[1]?.scopes).toEqual(expect.arrayContaining([TOOLS_SCOPE, ADMIN_SCOPE]));
    expect(log.tokenRequests.map((request) => request.grantType)).toEqual([
      'authorization_code',
      'authorization_code',
    ]);
    // The first grant's refresh token is revoked once the step-up replaced it.
    expect(log.revocations).toEqual(['refresh_token']);
    tokens.steppedUp = steppedUp;
  });

  it('refreshes on the 401 for an expired token, without the user, and retries once', async () => {
    authorizationServer.provider.expireAccessTokens();
    const before = mcp.requests.length;
    const result = await client.callTool({ name: 'echo', arguments: { text: 'after expiry' } });
    expect(textOf(result)).toBe('after expiry');

    const calls = mcp.requests.slice(before);
    expect(posts(calls)).toEqual([
      { rpc: 'tools/call echo', token: tokens.steppedUp, active: false, status: 401 },
      { rpc: 'tools/call echo', token: expect.any(String), active: true, status: 200 },
    ]);
    expect(calls[0]?.wwwAuthenticate).toContain('error="invalid_token"');
    const refreshed = bearer(calls[1]!)!;
    expect([tokens.first, tokens.steppedUp]).not.toContain(refreshed);

    const { log } = authorizationServer.provider;
    expect(log.registrations).toHaveLength(1);
    expect(log.authorizations).toHaveLength(2);
    expect(authorizationUrls).toHaveLength(2);
    expect(log.tokenRequests.map((request) => request.grantType)).toEqual([
      'authorization_code',
      'authorization_code',
      'refresh_token',
    ]);
    // The refresh keeps the stepped-up grant.
    expect(log.tokenRequests[2]?.scopes).toEqual(expect.arrayContaining([TOOLS_SCOPE, ADMIN_SCOPE]));

    // Over the whole session the server saw no token it had not issued, and no token it had
    // rejected was sent again: the only inactive one is the token this test expired, once.
    const presented = mcp.requests.map(bearer).filter((token) => token !== undefined);
    for (const token of presented) expect(authorizationServer.provider.issuedAccessToken(token)).toBe(true);
    const rejected = mcp.requests.filter((record) => record.tokenActive === false);
    expect(rejected.map(bearer)).toEqual([tokens.steppedUp]);
    expect(mcp.requests.filter((record) => record.authorization === undefined)).toHaveLength(1);
  });
});
