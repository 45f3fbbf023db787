/**
 * Faults: servers that refuse connections, reset them, answer too slowly, fail during a refresh, or
 * are down while the client still holds a usable token. Each ends in a typed error within a bound,
 * or in the named safe behaviour.
 */
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { codeChain, expectNoSecrets, expectOAuthError, rejection } from './canary.js';
import { json } from './hostile-server.js';
import { AS_METADATA_PATH, PRM_PATH, useScenarios } from './scenario.js';

const start = useScenarios();

/** A loopback port nothing listens on: bound once, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('connection refused', () => {
  it('by the listed authorization server → discovery_failed (network_error)', async () => {
    const s = await start();
    const down = `http://127.0.0.1:${await closedPort()}`;
    s.resource.route(
      'GET',
      PRM_PATH,
      json(200, { ...s.protectedResourceMetadata(), authorization_servers: [down] }),
    );
    const error = await rejection(s.fetchFor(s.session())(s.mcpUrl));
    expectOAuthError(error, 'discovery_failed', s.logger);
    // The transport failure's sanitized summary (its name and system code) ends the chain.
    expect(codeChain(error)).toEqual(['discovery_failed', 'network_error', 'network_error']);
    expect(s.authorizationServer.connections).toBe(0);
  });

  it('by the token endpoint → network_error, and the request is not sent again', async () => {
    const s = await start();
    const tokenEndpoint = `http://127.0.0.1:${await closedPort()}/token`;
    s.authorizationServer.route(
      'GET',
      AS_METADATA_PATH,
      json(200, { ...s.authorizationServerMetadata(), token_endpoint: tokenEndpoint }),
    );
    const error = await rejection(s.fetchFor(s.session())(s.mcpUrl));
    expectOAuthError(error, 'network_error', s.logger);
    expect(s.guard.attempted.filter((url) => url === tokenEndpoint)).toHaveLength(1);
    expect(s.resource.requestsTo('/mcp')).toHaveLength(1);
  });
});

describe('resets', () => {
  it('a reset before the token response headers → network_error', async () => {
    const s = await start();
    s.authorizationServer.route('POST', '/token', 'reset');
    const error = await rejection(s.fetchFor(s.session())(s.mcpUrl));
    expectOAuthError(error, 'network_error', s.logger, s.wireSecrets());
  });

  it('a reset in the middle of the token response body → network_error', async () => {
    const s = await start();
    s.authorizationServer.route('POST', '/token', {
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: '{"access_token":"access-SECRET-1","token_type":"Bea',
      declaredLength: 200,
    });
    const error = await rejection(s.fetchFor(s.session())(s.mcpUrl));
    expectOAuthError(error, 'network_error', s.logger, s.wireSecrets());
  });

  it('a reset of the registration response → network_error, no authorization started', async () => {
    const s = await start();
    s.authorizationServer.route('POST', '/register', 'reset');
    const error = await rejection(s.fetchFor(s.session())(s.mcpUrl));
    expectOAuthError(error, 'network_error', s.logger);
    expect(s.authorizationServer.requestsTo('/authorize')).toHaveLength(0);
  });
});

describe('slow responses past the timeout', () => {
  it('a token endpoint slower than timeoutMs → timeout, and the client hangs up', async () => {
    const s = await start();
    s.authorizationServer.route('POST', '/token', { ...json(200, {}), delayMs: 10_000 });
    const started = Date.now();
    const error = await rejection(s.fetchFor(s.session({ timeoutMs: 1_000 }))(s.mcpUrl));
    expectOAuthError(error, 'timeout', s.logger, s.wireSecrets());
    expect(Date.now() - started).toBeLessThan(5_000);
    await expect.poll(() => s.tokenRequests()[0]?.outcome).toBe('abandoned');
  });

  it('authorization server metadata that never comes → discovery_failed (timeout) within the bound', async () => {
    const s = await start();
    s.authorizationServer.route('GET', AS_METADATA_PATH, 'hang');
    s.authorizationServer.route('GET', '/.well-known/openid-configuration', 'hang');
    const started = Date.now();
    const error = await rejection(s.fetchFor(s.session({ timeoutMs: 1_000 }))(s.mcpUrl));
    expectOAuthError(error, 'discovery_failed', s.logger);
    expect(codeChain(error)).toEqual(['discovery_failed', 'timeout']);
    // Two candidate URLs, one timeout each.
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(s.authorizationServer.summary()).toEqual([
      `GET ${AS_METADATA_PATH}`,
      'GET /.well-known/openid-configuration',
    ]);
  });

  it('a registration endpoint that never answers → timeout', async () => {
    const s = await start();
    s.authorizationServer.route('POST', '/register', 'hang');
    const error = await rejection(s.fetchFor(s.session({ timeoutMs: 1_000 }))(s.mcpUrl));
    expectOAuthError(error, 'timeout', s.logger);
  });
});

describe('5xx from the token endpoint during refresh', () => {
  it.each([500, 502, 503])(
    'a %i on the refresh after a 401 → refresh_failed with the status',
    async (status) => {
      const s = await start();
      const session = s.session();
      await s.authorize(session);
      s.validAccessTokens.clear();
      s.authorizationServer.route(
        'POST',
        '/token',
        json(status, { error: 'server_error', error_description: 'SECRET' }),
      );
      const error = await rejection(s.fetchFor(session)(s.mcpUrl));
      expectOAuthError(error, 'refresh_failed', s.logger, s.wireSecrets());
      expect((error as { status?: number }).status).toBe(status);
      expect(s.tokenRequests('refresh_token')).toHaveLength(1);
      // No fallback to a new authorization on a server error: the user is not prompted again.
      expect(s.authorizationServer.requestsTo('/authorize')).toHaveLength(1);
    },
  );

  it('a 503 on the proactive refresh of an expired token → refresh_failed', async () => {
    const s = await start();
    let now = Date.now();
    const session = s.session({ clock: () => now });
    await s.authorize(session);
    now += 3_601_000;
    s.authorizationServer.route('POST', '/token', json(503, { error: 'temporarily_unavailable' }));
    const error = await rejection(s.fetchFor(session)(s.mcpUrl));
    expectOAuthError(error, 'refresh_failed', s.logger, s.wireSecrets());
    expect(s.tokenRequests('refresh_token')).toHaveLength(1);
    expect(s.authorizationServer.requestsTo('/authorize')).toHaveLength(1);
  });
});

describe('the authorization server is down while the access token is still valid', () => {
  it('requests keep working until the token expires; then refresh_failed', async () => {
    const s = await start();
    let now = Date.now();
    const session = s.session({ clock: () => now });
    await s.authorize(session);
    const expiresAt = session.getTokenInfo()?.expiresAt ?? 0;
    await s.authorizationServer.close();
    const fetchWithOAuth = s.fetchFor(session);
    const tokenUrl = `${s.issuer}/token`;

    // Inside the refresh window: each request tries to renew, fails, and goes on with the token.
    now = expiresAt - 10_000;
    for (let index = 0; index < 3; index++) {
      const response = await fetchWithOAuth(s.mcpUrl, { method: 'POST', body: '{}' });
      expect(response.status).toBe(200);
    }
    expect(s.guard.attempted.filter((url) => url === tokenUrl)).toHaveLength(1 + 3);
    expect(
      s.logger.lines.filter((line) => line.includes('session.renewal_failed_token_still_valid')),
    ).toHaveLength(3);

    // Past expiry: no usable token is left, and the failure is typed.
    now = expiresAt + 1;
    const error = await rejection(fetchWithOAuth(s.mcpUrl, { method: 'POST', body: '{}' }));
    expectOAuthError(error, 'refresh_failed', s.logger, s.wireSecrets());
    expect(codeChain(error)).toEqual(['refresh_failed', 'network_error', 'network_error']);
    const authorized = s.resource
      .requestsTo('/mcp')
      .filter((request) => request.headers.authorization !== undefined);
    expect(authorized).toHaveLength(1 + 3);
    expectNoSecrets(undefined, s.logger);
  });
});
