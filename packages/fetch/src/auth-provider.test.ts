// `createMcpAuthProvider` called the way the SDK's transports call it, in orders a test can fix,
// against the testkit's authorization server and protected resource on 127.0.0.1; and the v2
// client where what the provider cannot do is the point (DPoP, the SDK's own redirects).
import { inspect } from 'node:util';
import {
  isOAuthClientError,
  type OAuthLogger,
  OAuthSession,
  type OAuthSessionOptions,
} from '@mcp-oauth/core';
import { dpop } from '@mcp-oauth/core/dpop';
import { startTestServer, type TestServer, type TestServerOptions } from '@mcp-oauth/testkit';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterEach, describe, expect, it } from 'vitest';
import { createFetchHttpClient, createMcpAuthProvider, withOAuth } from './index.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function setup(
  serverOptions: TestServerOptions = {},
  sessionOptions: Partial<OAuthSessionOptions> = {},
) {
  const server = await startTestServer(serverOptions);
  cleanups.push(() => server.close());
  const warnings: string[] = [];
  const logger: OAuthLogger = {
    debug() {},
    warn(event) {
      warnings.push(event);
    },
  };
  const session = new OAuthSession({
    serverUrl: server.mcpUrl,
    httpClient: createFetchHttpClient(),
    client: { redirectUris: ['http://127.0.0.1/callback'] },
    authorizationHandler: server.authorizationHandler(),
    logger,
    ...sessionOptions,
  });
  return { server, session, warnings, authProvider: createMcpAuthProvider(session) };
}

/** What the transport hands `onUnauthorized` for a rejected token. */
const rejection = (serverUrl: string) => ({
  response: new Response('unauthorized', {
    status: 401,
    headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
  }),
  serverUrl: new URL(serverUrl),
});

const grants = (server: TestServer) => server.issuedTokens.map((token) => token.grantType);

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe('createMcpAuthProvider: token()', () => {
  it('hands out nothing before the first authorization, then the session token for its server', async () => {
    const { server, session, authProvider } = await setup();
    expect(await authProvider.token()).toBeUndefined();
    expect(server.issuedTokens).toHaveLength(0);
    await session.authorize();
    expect(await authProvider.token()).toBe(server.issuedTokens[0]!.accessToken);
  });

  it('builds its own session from options, with the global fetch for OAuth requests', async () => {
    const server = await startTestServer();
    cleanups.push(() => server.close());
    const authProvider = createMcpAuthProvider({
      serverUrl: server.mcpUrl,
      client: { redirectUris: ['http://127.0.0.1/callback'] },
      authorizationHandler: server.authorizationHandler(),
    });
    await authProvider.onUnauthorized({
      response: new Response(null, {
        status: 401,
        headers: { 'www-authenticate': `Bearer resource_metadata="${server.resourceMetadataUrl}"` },
      }),
      serverUrl: new URL(server.mcpUrl),
    });
    expect(await authProvider.token()).toBe(server.issuedTokens[0]!.accessToken);
    expect(authProvider.oauthSession.getTokenInfo()?.clientId).toBe(server.issuedTokens[0]!.clientId);
  });
});

describe('createMcpAuthProvider: which token a 401 rejected', () => {
  it('a 401 for a token handed out refreshes; one that comes before the new token went out does not', async () => {
    const { server, session, authProvider } = await setup();
    await session.authorize();
    const first = server.issuedTokens[0]!.accessToken;
    // Two requests go out with the first token, and the server stops accepting it.
    expect([await authProvider.token(), await authProvider.token()]).toEqual([first, first]);
    server.revokeAllAccessTokens();

    await authProvider.onUnauthorized(rejection(server.mcpUrl));
    expect(grants(server)).toEqual(['authorization_code', 'refresh_token']);
    const renewed = server.issuedTokens[1]!.accessToken;

    // The second request's 401: the renewed token has not gone out yet, so this 401 rejected the
    // first one; the transport's retry gets the renewed token without another refresh.
    await authProvider.onUnauthorized(rejection(server.mcpUrl));
    expect(grants(server)).toEqual(['authorization_code', 'refresh_token']);
    expect(await authProvider.token()).toBe(renewed);

    // Once the renewed token has gone out, a 401 is taken as its rejection (the README's limit:
    // the SDK does not say which token a rejected request carried).
    await authProvider.onUnauthorized(rejection(server.mcpUrl));
    expect(grants(server)).toEqual(['authorization_code', 'refresh_token', 'refresh_token']);
  });

  it('a 401 from a URL outside the session server fails with authorization_failed and the outside_scope log', async () => {
    const { server, session, authProvider, warnings } = await setup();
    await session.authorize();
    await authProvider.token();
    const error = await rejectionOf(authProvider.onUnauthorized(rejection(server.url('/other/mcp'))));
    expect(isOAuthClientError(error, 'authorization_failed')).toBe(true);
    expect((error as Error).message).toContain('session.outside_scope');
    expect(warnings).toEqual(['session.outside_scope']);
    expect(grants(server)).toEqual(['authorization_code']);
  });

  it('a refused refresh without a user to ask rejects with the session error, for the transport to throw', async () => {
    const server = await startTestServer();
    cleanups.push(() => server.close());
    // No authorizationHandler: a headless process, which cannot bring the user in.
    const session = new OAuthSession({
      serverUrl: server.mcpUrl,
      httpClient: createFetchHttpClient(),
      client: { redirectUris: ['http://127.0.0.1/callback'] },
    });
    const authProvider = createMcpAuthProvider(session);
    const url = (await session.beginAuthorization()).authorizationUrl;
    await session.completeAuthorization(await server.approve(url));
    await authProvider.token();
    server.revokeAllAccessTokens();
    server.failTokenRequests({ status: 400, error: 'invalid_grant' });
    const error = await rejectionOf(authProvider.onUnauthorized(rejection(server.mcpUrl)));
    expect(isOAuthClientError(error, 'authorization_required')).toBe(true);
  });
});

describe('createMcpAuthProvider: handleInsufficientScope', () => {
  it('steps up for the scopes the challenge requires, and refuses a challenge it cannot write back', async () => {
    const { server, session, authProvider } = await setup({ resourceScopes: ['mcp:read'] });
    await session.authorize({ scopes: ['mcp:read'] });
    await authProvider.token();
    await authProvider.handleInsufficientScope({
      requiredScope: 'mcp:read mcp:write',
      resourceMetadataUrl: new URL(server.resourceMetadataUrl),
    });
    expect(grants(server)).toEqual(['authorization_code', 'authorization_code']);
    expect(server.issuedTokens[1]!.scopes).toEqual(expect.arrayContaining(['mcp:read', 'mcp:write']));
    expect(await authProvider.token()).toBe(server.issuedTokens[1]!.accessToken);

    // A scope with a quote cannot have come from a valid challenge: it is left out, and a 403
    // naming no new scope is one asking again would not help.
    const error = await rejectionOf(authProvider.handleInsufficientScope({ requiredScope: 'mcp:"admin' }));
    expect(isOAuthClientError(error, 'insufficient_scope')).toBe(true);
    expect(grants(server)).toHaveLength(2);
  });
});

describe('createMcpAuthProvider with the v2 client: what the seam cannot carry', () => {
  it('a DPoP session fails with dpop_failed once its token is DPoP-bound, and never sends it as Bearer', async () => {
    const { server, authProvider } = await setup({ dpop: true }, { dpop: dpop() });
    const client = new Client({ name: 'dpop', version: '1.0.0' });
    const error = await rejectionOf(
      client.connect(new StreamableHTTPClientTransport(new URL(server.mcpUrl), { authProvider })),
    );
    await client.close();
    expect(isOAuthClientError(error, 'dpop_failed')).toBe(true);
    expect((error as Error).message).toContain('withOAuth(fetch, session)');
    // The authorization happened (the tokens are DPoP-bound) and the token stayed home.
    expect(server.issuedTokens.map((token) => token.tokenType)).toEqual(['DPoP']);
    const token = server.issuedTokens[0]!.accessToken;
    expect(server.requestsTo('/mcp').map((request) => request.headers.authorization)).toEqual([undefined]);
    expect(inspect(error, { depth: 5 })).not.toContain(token);
    expect(JSON.stringify(error)).not.toContain(token);
    await expect(authProvider.token()).rejects.toMatchObject({ code: 'dpop_failed' });
  });

  it("the SDK follows a same-origin 307 with the bearer token; withOAuth's fetch does not", async () => {
    const { server, session, authProvider } = await setup();
    await session.authorize();
    const token = server.issuedTokens[0]!.accessToken;
    server.redirectTo('/mcp', server.url('/outside/x'), 307);

    const viaProvider = new Client({ name: 'redirect', version: '1.0.0' });
    await rejectionOf(
      viaProvider.connect(new StreamableHTTPClientTransport(new URL(server.mcpUrl), { authProvider })),
    );
    await viaProvider.close();
    expect(server.requestsTo('/outside/x').map((request) => request.headers.authorization)).toEqual([
      `Bearer ${token}`,
    ]);

    const viaFetch = new Client({ name: 'redirect', version: '1.0.0' });
    await rejectionOf(
      viaFetch.connect(
        new StreamableHTTPClientTransport(new URL(server.mcpUrl), { fetch: withOAuth(fetch, session) }),
      ),
    );
    await viaFetch.close();
    expect(server.requestsTo('/outside/x').map((request) => request.headers.authorization)).toEqual([
      `Bearer ${token}`,
      undefined,
    ]);
  });
});
