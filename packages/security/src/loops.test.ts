/**
 * Loops: a resource that never accepts what the client brings. The client must stop after a bounded
 * number of requests — one retry per request, a bounded number of step-ups — and say why.
 */
import { describe, expect, it } from 'vitest';
import { expectNoSecrets, expectOAuthError, rejection } from './canary.js';
import { json } from './hostile-server.js';
import { useScenarios } from './scenario.js';

const start = useScenarios();

describe('a resource that always answers 401', () => {
  it('with no token yet: one authorization, one retry, then the 401 is handed back', async () => {
    const s = await start();
    s.resource.route('*', '/mcp', json(401, {}, { 'www-authenticate': 'Bearer error="invalid_token"' }));
    const response = await s.fetchFor(s.session())(s.mcpUrl, { method: 'POST', body: '{}' });
    expect(response.status).toBe(401);
    expect(s.resource.requestsTo('/mcp')).toHaveLength(2);
    expect(s.authorizationServer.requestsTo('/authorize')).toHaveLength(1);
    expect(s.tokenRequests()).toHaveLength(1);
    expectNoSecrets(undefined, s.logger, s.wireSecrets());
  });

  it('with a refreshable token: one refresh and one retry per request, never more', async () => {
    const s = await start();
    const session = s.session();
    await s.authorize(session);
    const before = s.resource.requestsTo('/mcp').length;
    s.resource.route('*', '/mcp', json(401, {}, { 'www-authenticate': 'Bearer error="invalid_token"' }));
    const fetchWithOAuth = s.fetchFor(session);
    for (let index = 0; index < 3; index++) {
      expect((await fetchWithOAuth(s.mcpUrl)).status).toBe(401);
    }
    expect(s.resource.requestsTo('/mcp').length - before).toBe(3 * 2);
    expect(s.tokenRequests('refresh_token')).toHaveLength(3);
    expect(s.authorizationServer.requestsTo('/authorize')).toHaveLength(1);
    expectNoSecrets(undefined, s.logger, s.wireSecrets());
  });

  it('whose refresh is rejected: one new authorization, then the 401 is handed back', async () => {
    const s = await start();
    const session = s.session();
    await s.authorize(session);
    s.validRefreshTokens.clear();
    s.resource.route('*', '/mcp', json(401, {}, { 'www-authenticate': 'Bearer error="invalid_token"' }));
    expect((await s.fetchFor(session)(s.mcpUrl)).status).toBe(401);
    expect(s.tokenRequests('refresh_token')).toHaveLength(1);
    expect(s.authorizationServer.requestsTo('/authorize')).toHaveLength(2);
    expect(s.resource.requestsTo('/mcp')).toHaveLength(2 + 2);
    expectNoSecrets(undefined, s.logger, s.wireSecrets());
  });
});

describe('a resource that always answers 403 insufficient_scope', () => {
  it('with the scopes already held → insufficient_scope at once, with no new authorization', async () => {
    const s = await start();
    const session = s.session();
    await s.authorize(session);
    s.resource.route(
      '*',
      '/mcp',
      json(403, {}, { 'www-authenticate': 'Bearer error="insufficient_scope", scope="mcp"' }),
    );
    const before = s.resource.requestsTo('/mcp').length;
    const error = await rejection(s.fetchFor(session)(s.mcpUrl));
    expectOAuthError(error, 'insufficient_scope', s.logger, s.wireSecrets());
    expect(s.resource.requestsTo('/mcp').length - before).toBe(1);
    expect(s.authorizationServer.requestsTo('/authorize')).toHaveLength(1);
  });

  it('with ever-growing scopes → at most 3 step-ups, then insufficient_scope', async () => {
    const s = await start();
    const session = s.session();
    await s.authorize(session);
    let grown = 0;
    s.resource.route('*', '/mcp', () => {
      grown++;
      const scopes = Array.from({ length: grown }, (_, index) => `scope${index}`).join(' ');
      return json(
        403,
        {},
        { 'www-authenticate': `Bearer error="insufficient_scope", scope="mcp ${scopes}"` },
      );
    });
    const fetchWithOAuth = s.fetchFor(session);
    const before = s.resource.requestsTo('/mcp').length;
    let error: unknown;
    let calls = 0;
    for (; calls < 10 && error === undefined; calls++) {
      try {
        expect((await fetchWithOAuth(s.mcpUrl)).status).toBe(403);
      } catch (caught) {
        error = caught;
      }
    }
    expectOAuthError(error, 'insufficient_scope', s.logger, s.wireSecrets());
    expect(calls).toBe(4);
    // Three step-up authorizations after the first one, each with one retry.
    expect(s.authorizationServer.requestsTo('/authorize')).toHaveLength(1 + 3);
    expect(s.resource.requestsTo('/mcp').length - before).toBe(3 * 2 + 1);
  });
});
