// `createMcpAuthProvider` as the `authProvider` of the MCP SDK v2 client's
// `StreamableHTTPClientTransport` (no fetch wrapper), against a real SDK server: v1 `McpServer`
// over Streamable HTTP guarded by the SDK's `requireBearerAuth`, with tokens from an authorization
// server made of the SDK's `mcpAuthRouter` (see sdk-*.ts).
import { isOAuthClientError, type OAuthLogger, OAuthSession } from '@mcp-oauth/core';
import {
  type AuthProvider,
  Client,
  InsufficientScopeError,
  StreamableHTTPClientTransport,
} from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFetchHttpClient, createMcpAuthProvider, type McpAuthProvider } from './index.js';
import { type SdkAuthorizationServer, startSdkAuthorizationServer } from './sdk-authorization-server.js';
import {
  ADMIN_SCOPE,
  ADMIN_TOOL,
  type SdkMcpServer,
  startSdkMcpServer,
  TOOLS_SCOPE,
} from './sdk-mcp-server.js';
import { useSession } from './sdk-readme-session.js';
import { approve, bearer, posts, REDIRECT_URI, sorted, textOf } from './sdk-scenario.js';

const HOUR_MS = 3_600_000;
const PARALLEL = 6;

interface Servers {
  readonly authorizationServer: SdkAuthorizationServer;
  readonly mcp: SdkMcpServer;
}

async function startServers(): Promise<Servers> {
  const authorizationServer = await startSdkAuthorizationServer({
    scopesSupported: [TOOLS_SCOPE, ADMIN_SCOPE, 'offline_access'],
  });
  return { authorizationServer, mcp: await startSdkMcpServer(authorizationServer) };
}

/** The grant types the authorization server was asked for, in order. */
const grants = ({ authorizationServer }: Servers) =>
  authorizationServer.provider.log.tokenRequests.map((request) => request.grantType);

describe('v2 @modelcontextprotocol/client StreamableHTTPClientTransport with authProvider: createMcpAuthProvider(session)', () => {
  let servers: Servers;
  let session: OAuthSession;
  let authProvider: McpAuthProvider;
  let client: Client;
  /** Added to the session's clock: how far its time runs ahead of the servers'. */
  let clockAheadMs = 0;
  /** Called on each "refresh" decision the session logs. */
  let onRefreshDecision = () => {};
  const authorizationUrls: URL[] = [];
  const tokens: { first?: string; steppedUp?: string; refreshed?: string } = {};

  const logger: OAuthLogger = {
    debug(event, data) {
      if (event === 'session.decision' && (data as { decision: string }).decision === 'refresh') {
        onRefreshDecision();
      }
    },
    warn() {},
  };

  beforeAll(async () => {
    servers = await startServers();
    session = new OAuthSession({
      serverUrl: servers.mcp.mcpUrl,
      httpClient: createFetchHttpClient(),
      client: { clientName: 'mcp-oauth authProvider test', redirectUris: [REDIRECT_URI] },
      authorizationHandler: async ({ authorizationUrl }) => {
        authorizationUrls.push(new URL(authorizationUrl));
        return approve(authorizationUrl);
      },
      clock: () => Date.now() + clockAheadMs,
      logger,
    });
    authProvider = createMcpAuthProvider(session);
  });

  afterAll(async () => {
    await client?.close();
    await servers?.mcp.close();
    await servers?.authorizationServer.close();
  });

  it("is the SDK's AuthProvider, and not an OAuthClientProvider the SDK would drive itself", () => {
    const sdkProvider: AuthProvider = authProvider;
    expect(typeof sdkProvider.onUnauthorized).toBe('function');
    expect('tokens' in authProvider || 'clientInformation' in authProvider).toBe(false);
    expect(createMcpAuthProvider(session).oauthSession).toBe(session);
  });

  it('connects: the first 401 is authorized through onUnauthorized, then tools are listed and called', async () => {
    client = new Client({ name: 'mcp-oauth-auth-provider', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(session.serverUrl, { authProvider }));
    const { tools } = await client.listTools();
    expect(sorted(tools.map((tool) => tool.name))).toEqual([ADMIN_TOOL, 'echo']);
    const result = await client.callTool({ name: 'echo', arguments: { text: 'hello through authProvider' } });
    expect(textOf(result)).toBe('hello through authProvider');

    const { log } = servers.authorizationServer.provider;
    expect(log.registrations).toHaveLength(1);
    expect(log.authorizations).toEqual([
      { clientId: log.registrations[0], scopes: expect.any(Array), resource: servers.mcp.mcpUrl.href },
    ]);
    expect(sorted(log.authorizations[0]!.scopes)).toEqual([TOOLS_SCOPE, 'offline_access']);
    expect(grants(servers)).toEqual(['authorization_code']);
    expect(authorizationUrls).toHaveLength(1);

    // The transport's first request went out bare (token() had nothing yet) and was challenged;
    // the transport retried it once with the token the session obtained, and sent that token on.
    const [first, ...rest] = servers.mcp.requests;
    expect(first).toMatchObject({ rpcMethod: 'initialize', authorization: undefined, status: 401 });
    expect(first?.wwwAuthenticate).toContain(`resource_metadata="${servers.mcp.resourceMetadataUrl}"`);
    const token = bearer(rest[0]!)!;
    expect(servers.authorizationServer.provider.issuedAccessToken(token)).toBe(true);
    for (const record of rest) {
      expect(record).toMatchObject({ authorization: `Bearer ${token}`, tokenActive: true });
      if (record.httpMethod === 'GET') expect(record.status).toBe(405);
      else expect(record.status).toBeLessThan(400);
    }
    expect(posts(rest).map((record) => record.rpc)).toEqual([
      'initialize',
      'notifications/initialized',
      'tools/list',
      'tools/call echo',
    ]);
    tokens.first = token;
  });

  it(`a 403 insufficient_scope reaches the caller as the SDK's InsufficientScopeError; handleInsufficientScope steps up`, async () => {
    const before = servers.mcp.requests.length;
    const callAdmin = () => client.callTool({ name: ADMIN_TOOL, arguments: { text: 'needs more' } });
    const error = await callAdmin().then(
      () => undefined,
      (rejection: unknown) => rejection,
    );
    // The SDK hands a 403 to no AuthProvider: it throws, naming the scopes the server requires.
    expect(error).toBeInstanceOf(InsufficientScopeError);
    expect((error as InsufficientScopeError).requiredScope).toBe(`${TOOLS_SCOPE} ${ADMIN_SCOPE}`);
    expect(authorizationUrls).toHaveLength(1);

    await authProvider.handleInsufficientScope(error as InsufficientScopeError);
    const scopesSeen = /^needs more \[(.+)\]$/.exec(textOf(await callAdmin()))?.[1]?.split(' ');
    expect(scopesSeen).toEqual(expect.arrayContaining([TOOLS_SCOPE, ADMIN_SCOPE]));

    expect(posts(servers.mcp.requests.slice(before))).toEqual([
      { rpc: `tools/call ${ADMIN_TOOL}`, token: tokens.first, active: true, status: 403 },
      { rpc: `tools/call ${ADMIN_TOOL}`, token: expect.any(String), active: true, status: 200 },
    ]);
    const steppedUp = bearer(servers.mcp.requests.at(-1)!)!;
    expect(steppedUp).not.toBe(tokens.first);
    const { log } = servers.authorizationServer.provider;
    expect(log.registrations).toHaveLength(1);
    expect(log.authorizations).toHaveLength(2);
    expect(sorted(log.authorizations[1]!.scopes)).toEqual([ADMIN_SCOPE, TOOLS_SCOPE, 'offline_access']);
    expect(grants(servers)).toEqual(['authorization_code', 'authorization_code']);
    // The first grant's refresh token is revoked once the step-up replaced it.
    expect(log.revocations).toEqual(['refresh_token']);

    // The same challenge again, now that its scopes are held: the session refuses to ask again.
    const again = await authProvider.handleInsufficientScope(error as InsufficientScopeError).then(
      () => undefined,
      (rejection: unknown) => rejection,
    );
    expect(isOAuthClientError(again, 'insufficient_scope')).toBe(true);
    expect(log.authorizations).toHaveLength(2);
    tokens.steppedUp = steppedUp;
  });

  it('refreshes on the 401 for a token the server expired, without the user; the transport retries once', async () => {
    servers.authorizationServer.provider.expireAccessTokens();
    const before = servers.mcp.requests.length;
    const result = await client.callTool({ name: 'echo', arguments: { text: 'after expiry' } });
    expect(textOf(result)).toBe('after expiry');

    const calls = servers.mcp.requests.slice(before);
    expect(posts(calls)).toEqual([
      { rpc: 'tools/call echo', token: tokens.steppedUp, active: false, status: 401 },
      { rpc: 'tools/call echo', token: expect.any(String), active: true, status: 200 },
    ]);
    expect(calls[0]?.wwwAuthenticate).toContain('error="invalid_token"');
    tokens.refreshed = bearer(calls[1]!)!;
    expect([tokens.first, tokens.steppedUp]).not.toContain(tokens.refreshed);
    expect(grants(servers)).toEqual(['authorization_code', 'authorization_code', 'refresh_token']);
    // The refresh keeps the stepped-up grant.
    expect(sorted(servers.authorizationServer.provider.log.tokenRequests[2]!.scopes)).toEqual(
      sorted([ADMIN_SCOPE, TOOLS_SCOPE, 'offline_access']),
    );
    expect(authorizationUrls).toHaveLength(2);
  });

  it(`${PARALLEL} parallel calls rejected with 401 share one refresh, and each is retried once`, async () => {
    servers.authorizationServer.provider.expireAccessTokens();
    // The refresh is held until every call's 401 has been shown to the session and it decided to
    // refresh: all of them meet the refresh in flight.
    const release = servers.authorizationServer.provider.holdRefreshes();
    let refreshDecisions = 0;
    onRefreshDecision = () => {
      if (++refreshDecisions === PARALLEL) release();
    };
    const before = servers.mcp.requests.length;
    const texts = await Promise.all(
      Array.from({ length: PARALLEL }, (_, index) =>
        client.callTool({ name: 'echo', arguments: { text: `parallel ${index}` } }).then(textOf),
      ),
    );
    onRefreshDecision = () => {};
    expect(texts).toEqual(Array.from({ length: PARALLEL }, (_, index) => `parallel ${index}`));
    expect(refreshDecisions).toBe(PARALLEL);

    expect(grants(servers)).toEqual([
      'authorization_code',
      'authorization_code',
      'refresh_token',
      'refresh_token',
    ]);
    const calls = posts(servers.mcp.requests.slice(before));
    const rejected = calls.filter((call) => call.status === 401);
    const accepted = calls.filter((call) => call.status === 200);
    expect(rejected).toHaveLength(PARALLEL);
    expect(accepted).toHaveLength(PARALLEL);
    for (const call of rejected) expect(call).toMatchObject({ token: tokens.refreshed, active: false });
    const renewed = new Set(accepted.map((call) => call.token));
    expect(renewed.size).toBe(1);
    expect(renewed.has(tokens.refreshed)).toBe(false);
  });

  it(`a token the session knows to be expiring is refreshed before use: ${PARALLEL} parallel calls, one refresh, no 401`, async () => {
    // Two hours on: the session sees its token expire; so does the server.
    clockAheadMs = 2 * HOUR_MS;
    servers.authorizationServer.provider.expireAccessTokens();
    const before = servers.mcp.requests.length;
    const texts = await Promise.all(
      Array.from({ length: PARALLEL }, (_, index) =>
        client.callTool({ name: 'echo', arguments: { text: `ahead ${index}` } }).then(textOf),
      ),
    );
    expect(texts).toEqual(Array.from({ length: PARALLEL }, (_, index) => `ahead ${index}`));
    expect(grants(servers)).toEqual([
      'authorization_code',
      'authorization_code',
      'refresh_token',
      'refresh_token',
      'refresh_token',
    ]);
    const calls = posts(servers.mcp.requests.slice(before));
    expect(calls).toHaveLength(PARALLEL);
    expect(new Set(calls.map((call) => `${call.status} ${call.active}`))).toEqual(new Set(['200 true']));
    expect(new Set(calls.map((call) => call.token)).size).toBe(1);
    expect(authorizationUrls).toHaveLength(2);
  });
});

describe("the README's MCP SDK v2 example", () => {
  let servers: Servers;

  beforeAll(async () => {
    servers = await startServers();
  });

  afterAll(async () => {
    await servers?.mcp.close();
    await servers?.authorizationServer.close();
  });

  it('runs: connects, lists tools, and steps up for admin_echo', async () => {
    useSession(
      new OAuthSession({
        serverUrl: servers.mcp.mcpUrl,
        httpClient: createFetchHttpClient(),
        client: { clientName: 'README example', redirectUris: [REDIRECT_URI] },
        authorizationHandler: async ({ authorizationUrl }) => approve(authorizationUrl),
      }),
    );
    const example = await import('./readme.sdk-v2.example.js');
    try {
      expect(sorted(example.tools.map((tool) => tool.name))).toEqual([ADMIN_TOOL, 'echo']);
      expect(textOf(example.result)).toMatch(/^hi \[.*mcp:admin.*\]$/);
      expect(servers.authorizationServer.provider.log.authorizations).toHaveLength(2);
      expect(posts(servers.mcp.requests).map((call) => call.status)).toContain(403);
    } finally {
      await example.client.close();
    }
  });
});
