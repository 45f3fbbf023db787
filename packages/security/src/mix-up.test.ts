/**
 * Mix-up and forgery: documents and authorization responses that claim to come from someone else.
 * Each case asserts the typed error, which requests were sent and which were not, and that no
 * canary secret reached an error or a log line.
 */
import { describe, expect, it } from 'vitest';
import { expectNoSecrets, expectOAuthError, rejection } from './canary.js';
import { json, redirect } from './hostile-server.js';
import {
  AS_METADATA_PATH,
  authorizationServerMetadataFor,
  basicAuthorization,
  CLIENT_ID,
  CLIENT_SECRET,
  PRM_PATH,
  useScenarios,
} from './scenario.js';

const start = useScenarios();

describe('mix-up: authorization server metadata', () => {
  it.each([
    ['another origin', (_issuer: string, other: string) => other],
    ['a trailing slash', (issuer: string) => `${issuer}/`],
    ['upper-case scheme', (issuer: string) => issuer.replace('http:', 'HTTP:')],
    ['a path', (issuer: string) => `${issuer}/tenant`],
  ])(
    'refuses metadata whose "issuer" is not the URL it was fetched for (%s) → issuer_mismatch',
    async (_, claimed) => {
      const s = await start();
      s.authorizationServer.route(
        'GET',
        AS_METADATA_PATH,
        json(200, { ...s.authorizationServerMetadata(), issuer: claimed(s.issuer, s.other.origin) }),
      );
      const error = await rejection(s.fetchFor(s.session())(s.mcpUrl));
      expectOAuthError(error, 'issuer_mismatch', s.logger);
      // Discovery stopped at the document: no registration, no authorization, no token request.
      expect(s.authorizationServer.summary()).toEqual([`GET ${AS_METADATA_PATH}`]);
      expect(s.resource.summary()).toEqual(['GET /mcp', `GET ${PRM_PATH}`]);
      expect(s.other.connections).toBe(0);
    },
  );

  it('refuses an authorization server on another origin whose metadata claims to be the listed one → issuer_mismatch', async () => {
    const s = await start();
    s.resource.route(
      'GET',
      PRM_PATH,
      json(200, { ...s.protectedResourceMetadata(), authorization_servers: [s.other.origin] }),
    );
    // The attacker's origin publishes the real server's identity (and endpoints).
    s.other.route('GET', AS_METADATA_PATH, json(200, authorizationServerMetadataFor(s.issuer)));
    const error = await rejection(s.fetchFor(s.session())(s.mcpUrl));
    expectOAuthError(error, 'issuer_mismatch', s.logger);
    expect(s.other.summary()).toEqual([`GET ${AS_METADATA_PATH}`]);
    expect(s.authorizationServer.connections).toBe(0);
  });

  it('refuses the token request redirect of an authorization server on another origin → redirect_not_allowed', async () => {
    const s = await start();
    s.resource.route(
      'GET',
      PRM_PATH,
      json(200, { ...s.protectedResourceMetadata(), authorization_servers: [s.other.origin] }),
    );
    s.playAuthorizationServer(s.other, 'o');
    s.other.route('POST', '/token', redirect(s.authorizationServer.url('/token')));
    const error = await rejection(s.fetchFor(s.session())(s.mcpUrl));
    expectOAuthError(error, 'redirect_not_allowed', s.logger, s.wireSecrets());
    expect(s.other.requestsTo('/token')).toHaveLength(1);
    // The code and the verifier went to the listed server only, never where it pointed.
    expect(s.authorizationServer.connections).toBe(0);
  });
});

describe('forgery: the authorization response', () => {
  it.each([
    ['a wrong "iss"', (parameters: URLSearchParams, other: string) => parameters.set('iss', other)],
    ['no "iss" although the server advertises it', (parameters: URLSearchParams) => parameters.delete('iss')],
    [
      'an error response with a wrong "iss"',
      (parameters: URLSearchParams, other: string) => {
        parameters.delete('code');
        parameters.set('error', 'access_denied');
        parameters.set('iss', other);
      },
    ],
  ])('rejects %s → issuer_mismatch, and the code is never redeemed', async (_, change) => {
    const s = await start();
    s.tamperCallback((parameters) => change(parameters, s.other.origin));
    const error = await rejection(s.fetchFor(s.session())(s.mcpUrl));
    expectOAuthError(error, 'issuer_mismatch', s.logger);
    expect(s.authorizationServer.requestsTo('/authorize')).toHaveLength(1);
    expect(s.tokenRequests()).toHaveLength(0);
    expect(s.other.connections).toBe(0);
  });

  it('rejects a wrong "iss" even when the server does not advertise RFC 9207 → issuer_mismatch', async () => {
    const s = await start();
    const { authorization_response_iss_parameter_supported: _, ...metadata } =
      s.authorizationServerMetadata();
    s.authorizationServer.route('GET', AS_METADATA_PATH, json(200, metadata));
    s.tamperCallback((parameters) => parameters.set('iss', s.other.origin));
    const error = await rejection(s.fetchFor(s.session())(s.mcpUrl));
    expectOAuthError(error, 'issuer_mismatch', s.logger);
    expect(s.tokenRequests()).toHaveLength(0);
  });

  it.each([
    ['a forged "state"', (parameters: URLSearchParams) => parameters.set('state', 'forged-state')],
    ['no "state"', (parameters: URLSearchParams) => parameters.delete('state')],
    ['an empty "state"', (parameters: URLSearchParams) => parameters.set('state', '')],
  ])('rejects %s → state_mismatch, and the code is never redeemed', async (_, change) => {
    const s = await start();
    s.tamperCallback(change);
    const error = await rejection(s.fetchFor(s.session())(s.mcpUrl));
    expectOAuthError(error, 'state_mismatch', s.logger);
    expect(s.tokenRequests()).toHaveLength(0);
  });

  it('rejects a replayed authorization response → state_mismatch, with one token request in all', async () => {
    const s = await start();
    const session = s.session({}, { browser: false });
    const { authorizationUrl } = await session.beginAuthorization();
    const callback = await s.approve(authorizationUrl);
    await session.completeAuthorization(callback);
    const error = await rejection(session.completeAuthorization(callback));
    expectOAuthError(error, 'state_mismatch', s.logger);
    expect(s.tokenRequests('authorization_code')).toHaveLength(1);
  });

  it('rejects an authorization response that arrives after the pending authorization expired → state_mismatch', async () => {
    const s = await start();
    let now = Date.now();
    const session = s.session({ clock: () => now, pendingAuthorizationTtlMs: 60_000 }, { browser: false });
    const { authorizationUrl } = await session.beginAuthorization();
    const callback = await s.approve(authorizationUrl);
    now += 60_001;
    const error = await rejection(session.completeAuthorization(callback));
    expectOAuthError(error, 'state_mismatch', s.logger);
    expect(s.tokenRequests()).toHaveLength(0);
  });
});

describe('mix-up: protected resource metadata', () => {
  it('does not follow a PRM redirect to another origin → discovery_failed (redirect_not_allowed)', async () => {
    const s = await start();
    s.resource.route('GET', PRM_PATH, redirect(s.other.url(PRM_PATH)));
    const error = await rejection(s.fetchFor(s.session())(s.mcpUrl));
    expectOAuthError(error, 'discovery_failed', s.logger);
    expect((error as { cause?: { code?: string } }).cause?.code).toBe('redirect_not_allowed');
    expect(s.other.connections).toBe(0);
    expect(s.authorizationServer.connections).toBe(0);
  });

  it.each([
    ['another origin', (s: { other: { url(path: string): string } }) => s.other.url('/mcp')],
    ['a sibling path', (s: { resource: { url(path: string): string } }) => s.resource.url('/mcp2')],
    ['another path', (s: { resource: { url(path: string): string } }) => s.resource.url('/other/mcp')],
    ['another host', () => 'https://mcp.example.com/mcp'],
  ])('refuses a document whose "resource" names %s → resource_mismatch', async (_, resource) => {
    const s = await start();
    s.resource.route('GET', PRM_PATH, json(200, { ...s.protectedResourceMetadata(), resource: resource(s) }));
    const error = await rejection(s.fetchFor(s.session())(s.mcpUrl));
    expectOAuthError(error, 'resource_mismatch', s.logger);
    expect(s.resource.summary()).toEqual(['GET /mcp', `GET ${PRM_PATH}`]);
    expect(s.authorizationServer.connections).toBe(0);
    expect(s.other.connections).toBe(0);
    expect(s.guard.refused).toEqual([]);
  });
});

describe('mix-up: the authorization server changes between discovery and refresh', () => {
  it('starts over at the new server without sending it the old client, access or refresh token', async () => {
    const s = await start();
    const session = s.session();
    await s.authorize(session);
    const [oldAccess] = [...s.validAccessTokens];
    const [oldRefresh] = [...s.validRefreshTokens];
    // The resource now names the other origin and rejects the token the client holds.
    s.playAuthorizationServer(s.other, 'o');
    s.resource.route(
      'GET',
      PRM_PATH,
      json(200, { ...s.protectedResourceMetadata(), authorization_servers: [s.other.origin] }),
    );
    s.validAccessTokens.clear();

    const response = await s.fetchFor(session)(s.mcpUrl);
    expect(response.status).toBe(200);
    expect(s.tokenRequests('refresh_token')).toHaveLength(0);
    expect(s.other.summary()).toEqual([
      `GET ${AS_METADATA_PATH}`,
      'POST /register',
      'GET /authorize',
      'POST /token',
    ]);
    const oldBasic = basicAuthorization(CLIENT_ID, CLIENT_SECRET);
    for (const request of s.other.requests) {
      expect(request.headers.authorization).not.toBe(oldBasic);
      expect(request.headers.authorization).not.toBe(`Bearer ${oldAccess}`);
      expect([...request.form.values()]).not.toContain(oldRefresh);
      expect(new URL(request.url).searchParams.get('client_id')).not.toBe(CLIENT_ID);
    }
    expect(s.other.requestsTo('/token')[0]?.form.get('grant_type')).toBe('authorization_code');
    expect(s.logger.lines.some((line) => line.includes('session.authorization_server_changed'))).toBe(true);
    expectNoSecrets(undefined, s.logger, s.wireSecrets());
  });

  it('refuses a new server whose metadata claims the old issuer → issuer_mismatch, no token sent to it', async () => {
    const s = await start();
    const session = s.session();
    await s.authorize(session);
    s.resource.route(
      'GET',
      PRM_PATH,
      json(200, { ...s.protectedResourceMetadata(), authorization_servers: [s.other.origin] }),
    );
    s.other.route('GET', AS_METADATA_PATH, json(200, authorizationServerMetadataFor(s.issuer)));
    s.validAccessTokens.clear();

    const error = await rejection(s.fetchFor(session)(s.mcpUrl));
    expectOAuthError(error, 'issuer_mismatch', s.logger, s.wireSecrets());
    expect(s.other.summary()).toEqual([`GET ${AS_METADATA_PATH}`]);
    expect(s.tokenRequests('refresh_token')).toHaveLength(0);
  });
});

describe('mix-up without RFC 9207 (issue 11, second round)', () => {
  it("an attacker's metadata pointing at the honest authorization endpoint with protocol parameters → metadata_invalid, the user is never sent there", async () => {
    const s = await start();
    s.resource.route(
      'GET',
      PRM_PATH,
      json(200, { ...s.protectedResourceMetadata(), authorization_servers: [s.other.origin] }),
    );
    s.playAuthorizationServer(s.other, 'o');
    // The attacker's metadata: the honest authorization endpoint, steered with the honest client's id.
    s.other.route(
      'GET',
      AS_METADATA_PATH,
      json(200, {
        ...authorizationServerMetadataFor(s.other.origin),
        authorization_endpoint: `${s.authorizationServer.url('/authorize')}?client_id=honest-client&redirect_uri=x`,
      }),
    );
    const error = await rejection(s.fetchFor(s.session())(s.mcpUrl));
    expectOAuthError(error, 'metadata_invalid', s.logger, s.wireSecrets());
    expect(s.authorizationServer.connections).toBe(0);
    expect(s.other.requestsTo('/token')).toHaveLength(0);
  });

  it("a code the honest server sent to its own redirect URI is refused by the attacker's pending authorization → state_mismatch, no token request", async () => {
    const s = await start();
    s.resource.route(
      'GET',
      PRM_PATH,
      json(200, { ...s.protectedResourceMetadata(), authorization_servers: [s.other.origin] }),
    );
    s.playAuthorizationServer(s.other, 'o');
    // The user's browser ends at the honest server's per-issuer redirect URI, with no `iss`.
    const session = s.session({
      authorizationHandler: async ({ authorizationUrl, state }) => {
        const pending = new URL(authorizationUrl);
        const redirect = new URL(pending.searchParams.get('redirect_uri')!);
        // Another authorization server's URI on the same loopback server: `/callback/as-<other tag>`.
        redirect.pathname = '/callback/as-honest';
        redirect.searchParams.set('code', 'honest-code-SECRET');
        redirect.searchParams.set('state', state);
        return redirect.href;
      },
    });
    s.other.route(
      'GET',
      AS_METADATA_PATH,
      json(200, {
        ...authorizationServerMetadataFor(s.other.origin),
        authorization_response_iss_parameter_supported: false,
      }),
    );
    const error = await rejection(s.fetchFor(session)(s.mcpUrl));
    expectOAuthError(error, 'state_mismatch', s.logger, s.wireSecrets());
    expect(s.other.requestsTo('/token')).toHaveLength(0);
  });
});
