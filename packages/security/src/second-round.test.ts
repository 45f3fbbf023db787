/**
 * Issue 11, second round: state read back from stores is validated like fresh discovery; a
 * callback meant for another session is refused before its code goes anywhere; bad options are
 * typed errors; a tenant's metadata cannot widen where the token goes.
 */
import { createMemoryStores, type DiscoveryRecord, OAuthSession } from '@mcp-oauth/core';
import { createFetchHttpClient } from '@mcp-oauth/fetch';
import { describe, expect, it } from 'vitest';
import { CANARY, expectOAuthError, rejection } from './canary.js';
import { json } from './hostile-server.js';
import { useScenarios } from './scenario.js';

const scenario = useScenarios();

describe('stored state is validated like fresh discovery', () => {
  for (const [field, value] of [
    ['token_endpoint', 'http://attacker.example/steal'],
    ['revocation_endpoint', 'http://169.254.169.254/latest/meta-data'],
    ['token_endpoint', 'http://[::ffff:a9fe:a9fe]/steal'],
  ] as const) {
    it(`a discovery record whose ${field} was edited to ${new URL(value).host} is store_failed, and nothing is sent there`, async () => {
      const s = await scenario({ expiresIn: 1 });
      const stores = createMemoryStores();
      const first = s.session({ stores });
      await s.authorize(first);
      const record = (await stores.discovery.get(new URL(s.mcpUrl).href)) as DiscoveryRecord;
      await stores.discovery.set(record.serverUrl, {
        ...record,
        authorizationServerMetadata: { ...record.authorizationServerMetadata, [field]: value },
      });
      const restarted = s.session({ stores });
      const failure = await rejection(
        field === 'token_endpoint' ? restarted.getAccessToken() : restarted.signOut(),
      );
      expectOAuthError(failure, 'store_failed', s.logger);
      expect(s.guard.attempted.filter((url) => url.startsWith(value.slice(0, 12)))).toEqual([]);
      expect(s.guard.refused).toEqual([]);
    });
  }

  it('a client record filed under another issuer is store_failed', async () => {
    const s = await scenario();
    const stores = createMemoryStores();
    await s.authorize(s.session({ stores }));
    const client = (await stores.clients.get(s.issuer))!;
    await stores.clients.set(s.issuer, { ...client, issuer: 'https://attacker.example' });
    expectOAuthError(await rejection(s.session({ stores }).getAccessToken()), 'store_failed', s.logger);
  });
});

describe('a callback meant for another session', () => {
  it('is refused by a session for another MCP server sharing the stores, before any token request', async () => {
    const honest = await scenario();
    const evil = await scenario();
    const stores = createMemoryStores();
    const victim = honest.session({ stores }, { browser: false });
    const { authorizationUrl } = await victim.beginAuthorization();
    const callback = await honest.approve(authorizationUrl);
    // The evil session (another server and authorization server) is handed the victim's callback.
    const attacker = evil.session({ stores, authorizationHandler: async () => callback });
    const failure = await rejection(attacker.authorize());
    expectOAuthError(failure, 'state_mismatch', evil.logger);
    expect(evil.tokenRequests('authorization_code')).toEqual([]);
    expect(honest.tokenRequests('authorization_code')).toEqual([]);
  });
});

describe('options are validated at construction', () => {
  const base = { serverUrl: 'https://mcp.example.com/mcp', httpClient: createFetchHttpClient() };
  it.each([
    ['a non-array client.preRegistered', { client: { preRegistered: { issuer: 'x' } } }],
    ['stores.tokens: null', { stores: { tokens: null } }],
    ['a string scopes', { scopes: 'mcp:read' }],
    ['a negative refreshSkewMs', { refreshSkewMs: -1 }],
    ['an unknown grant', { grant: { type: 'password' } }],
    ['a logger without warn', { logger: { debug() {} } }],
    ['a dpop option that is not dpop()', { dpop: true }],
  ])('%s is invalid_options', (_name, overrides) => {
    let thrown: unknown;
    try {
      new OAuthSession({ ...base, ...(overrides as object) });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ code: 'invalid_options' });
  });

  it('a throwing logger cannot break the flow or leak through it', async () => {
    const s = await scenario();
    const session = s.session({
      logger: {
        debug: () => {
          throw new Error(`logger ${CANARY}`);
        },
        warn: () => {
          throw new Error(`logger ${CANARY}`);
        },
      },
    });
    await s.authorize(session);
    expect(session.getTokenInfo()).toBeDefined();
  });
});

describe('audience widening by one tenant', () => {
  it('a PRM that claims the whole origin does not make the token go to other paths', async () => {
    const s = await scenario();
    s.resource.route('GET', '/.well-known/oauth-protected-resource/mcp', () =>
      json(200, { ...s.protectedResourceMetadata(), resource: s.resource.origin }),
    );
    const session = s.session();
    const authorizedFetch = s.fetchFor(session);
    await authorizedFetch(s.mcpUrl, { method: 'POST', body: '{}' }).catch(() => undefined);
    for (const path of ['/tenant-b/mcp', '/admin']) {
      s.resource.route('GET', path, () => json(200, {}));
      await authorizedFetch(s.resource.url(path));
      const seen = s.resource.requestsTo(path, 'GET');
      expect(seen.at(-1)?.headers.authorization).toBeUndefined();
    }
  });
});

describe('a tenant of a shared origin cannot widen the audience', () => {
  it('a resource_metadata document of its own naming the whole origin is resource_mismatch, before any token request', async () => {
    const s = await scenario();
    s.resource.route('GET', '/tenant-a/prm.json', () =>
      json(200, { ...s.protectedResourceMetadata(), resource: s.resource.origin }),
    );
    s.resource.route('*', '/mcp', () =>
      json(
        401,
        {},
        { 'www-authenticate': `Bearer resource_metadata="${s.resource.url('/tenant-a/prm.json')}"` },
      ),
    );
    const failure = await rejection(s.fetchFor(s.session())(s.mcpUrl, { method: 'POST', body: '{}' }));
    expectOAuthError(failure, 'resource_mismatch', s.logger);
    expect(s.tokenRequests()).toEqual([]);
    expect(s.authorizationServer.requestsTo('/authorize')).toEqual([]);
  });
});
