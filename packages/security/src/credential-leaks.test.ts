/**
 * Credential leaks: redirects, foreign origins and unsafe URLs that would carry a code, a verifier,
 * a client secret or a token somewhere it does not belong. Every URL the client asks for goes
 * through a fetch that records it and refuses anything but 127.0.0.1, so "never contacted" is
 * checked before any connection could be made.
 */
import { describe, expect, it } from 'vitest';
import { CANARY, codeChain, expectNoSecrets, expectOAuthError, rejection } from './canary.js';
import { json, type RecordedRequest, redirect } from './hostile-server.js';
import { AS_METADATA_PATH, PRM_PATH, type Scenario, useScenarios } from './scenario.js';

const start = useScenarios();

const REDIRECT_STATUSES = [301, 302, 303, 307, 308];

/** Asserts that a request carries no credential at all. */
function expectNoCredential(request: RecordedRequest | undefined): void {
  expect(request).toBeDefined();
  expect(request?.headers.authorization).toBeUndefined();
  expect(request?.headers.dpop).toBeUndefined();
  expect(`${request?.url} ${JSON.stringify(request?.headers)} ${request?.body}`).not.toContain(CANARY);
}

/** Only loopback URLs were ever asked for, and none was refused. */
function expectLoopbackOnly(s: Scenario): void {
  expect(s.guard.refused).toEqual([]);
  for (const url of s.guard.attempted) expect(new URL(url).hostname).toBe('127.0.0.1');
}

describe('the token endpoint redirects', () => {
  it.each(REDIRECT_STATUSES)(
    'a %i to another origin on the code exchange → redirect_not_allowed; code and verifier stay put',
    async (status) => {
      const s = await start();
      s.authorizationServer.route('POST', '/token', redirect(s.other.url('/token'), status));
      const error = await rejection(s.fetchFor(s.session())(s.mcpUrl));
      expectOAuthError(error, 'redirect_not_allowed', s.logger, s.wireSecrets());
      expect(s.tokenRequests()).toHaveLength(1);
      expect(s.tokenRequests()[0]?.form.get('code')).toMatch(/^code-SECRET-/);
      expect(s.other.connections).toBe(0);
      expectLoopbackOnly(s);
    },
  );

  it('a 307 to another origin during refresh → refresh_failed (redirect_not_allowed); the refresh token stays put', async () => {
    const s = await start();
    const session = s.session();
    await s.authorize(session);
    s.validAccessTokens.clear();
    s.authorizationServer.route('POST', '/token', redirect(s.other.url('/token')));
    const error = await rejection(s.fetchFor(session)(s.mcpUrl));
    expectOAuthError(error, 'refresh_failed', s.logger, s.wireSecrets());
    expect(codeChain(error)).toEqual(['refresh_failed', 'redirect_not_allowed']);
    expect(s.tokenRequests('refresh_token')).toHaveLength(1);
    expect(s.other.connections).toBe(0);
  });
});

describe('the MCP server redirects an authorized request', () => {
  it.each(REDIRECT_STATUSES)('a %i to another origin: followed without the bearer token', async (status) => {
    const s = await start();
    const session = s.session();
    await s.authorize(session);
    s.resource.route('*', '/mcp', (request) =>
      request.headers.authorization === undefined
        ? json(401, {}, { 'www-authenticate': 'Bearer' })
        : redirect(s.other.url('/collect'), status),
    );
    s.other.route('*', '/collect', json(200, { collected: true }));
    const response = await s.fetchFor(session)(s.mcpUrl, { method: 'POST', body: '{"jsonrpc":"2.0"}' });
    expect(response.status).toBe(200);
    expect(s.other.summary()).toEqual([`${status === 307 || status === 308 ? 'POST' : 'GET'} /collect`]);
    expectNoCredential(s.other.requests[0]);
    expectNoSecrets(undefined, s.logger);
  });

  it('a redirect to a path outside the resource on the same origin: followed without the bearer token', async () => {
    const s = await start();
    const session = s.session();
    await s.authorize(session);
    s.resource.route('GET', '/mcp', (request) =>
      request.headers.authorization === undefined ? json(401, {}) : redirect(s.resource.url('/public/page')),
    );
    s.resource.route('GET', '/public/page', json(200, {}));
    const response = await s.fetchFor(session)(s.mcpUrl);
    expect(response.status).toBe(200);
    expectNoCredential(s.resource.requestsTo('/public/page')[0]);
    expectNoSecrets(undefined, s.logger);
  });

  it('a 401 from the other origin after the redirect starts no authorization there', async () => {
    const s = await start();
    const session = s.session();
    await s.authorize(session);
    const before = s.authorizationServer.requests.length;
    s.resource.route('GET', '/mcp', (request) =>
      request.headers.authorization === undefined ? json(401, {}) : redirect(s.other.url('/collect')),
    );
    s.other.route(
      'GET',
      '/collect',
      json(401, {}, { 'www-authenticate': `Bearer resource_metadata="${s.other.url(PRM_PATH)}"` }),
    );
    const response = await s.fetchFor(session)(s.mcpUrl);
    expect(response.status).toBe(401);
    expect(s.other.summary()).toEqual(['GET /collect']);
    expect(s.authorizationServer.requests.length).toBe(before);
    expectNoCredential(s.other.requests[0]);
    expectNoSecrets(undefined, s.logger);
  });
});

describe('one wrapped fetch used for other hosts', () => {
  it.each([
    ['another origin', (s: Scenario) => s.other.url('/api')],
    ['a sibling path on the same origin', (s: Scenario) => s.resource.url('/mcp2')],
    ['the origin root', (s: Scenario) => s.resource.url('/')],
    ['the same host on another port', (s: Scenario) => s.authorizationServer.url('/mcp')],
  ])('sends no token to %s', async (_, target) => {
    const s = await start();
    const session = s.session();
    await s.authorize(session);
    const url = target(s);
    await s.fetchFor(session)(url, { method: 'POST', body: 'x' });
    const all = [...s.resource.requests, ...s.authorizationServer.requests, ...s.other.requests];
    const sent = all.filter((request) => request.url === new URL(url).href);
    expect(sent).toHaveLength(1);
    expectNoCredential(sent[0]);
    expectNoSecrets(undefined, s.logger, s.wireSecrets());
  });
});

const UNSAFE_URLS = [
  ['cloud metadata over http', 'http://169.254.169.254/latest/meta-data/'],
  ['link-local over https', 'https://169.254.169.254/.well-known/oauth-protected-resource'],
  ['link-local as a decimal host over https', 'https://2852039166/x'],
  ['link-local as an IPv4-mapped IPv6 host over https', 'https://[::ffff:169.254.169.254]/x'],
  ['IPv6 link-local', 'http://[fe80::1]/x'],
  ['IPv6 link-local over https', 'https://[fe80::1]/x'],
  ['plain http on a public host', 'http://mcp.example.com/.well-known/oauth-protected-resource'],
  ['a file URL', 'file:///etc/passwd'],
  ['userinfo', 'https://user:pass@mcp.example.com/x'],
] as const;

describe('unsafe URLs are refused before any connection', () => {
  it.each(UNSAFE_URLS)('a resource_metadata URL (%s) → unsafe_url', async (_, unsafe) => {
    const s = await start();
    s.resource.route(
      '*',
      '/mcp',
      json(401, {}, { 'www-authenticate': `Bearer resource_metadata="${unsafe}"` }),
    );
    const error = await rejection(s.fetchFor(s.session())(s.mcpUrl));
    expectOAuthError(error, 'unsafe_url', s.logger);
    expect(s.guard.attempted).toEqual([s.mcpUrl]);
    expect(s.authorizationServer.connections).toBe(0);
  });

  const DOCUMENT_FIELDS = [
    ['PRM', 'authorization_servers', (url: string) => [url]],
    ['PRM', 'jwks_uri', (url: string) => url],
    ['AS', 'token_endpoint', (url: string) => url],
    ['AS', 'authorization_endpoint', (url: string) => url],
    ['AS', 'registration_endpoint', (url: string) => url],
    ['AS', 'revocation_endpoint', (url: string) => url],
  ] as const;
  const cases = DOCUMENT_FIELDS.flatMap(([document, field, value]) =>
    // https link-local (refused for being link-local, not only for being http) and plain http.
    [UNSAFE_URLS[1], UNSAFE_URLS[5], UNSAFE_URLS[6]].map(
      ([kind, url]) => [`${document} "${field}"`, kind, value(url.replace(/\/[^/]*$/, '/x'))] as const,
    ),
  );

  it.each(cases)(
    '%s pointing at %s → unsafe_url, with no registration or token request',
    async (where, _, value) => {
      const s = await start();
      const field = where.slice(where.indexOf('"') + 1, -1);
      if (where.startsWith('PRM')) {
        s.resource.route('GET', PRM_PATH, json(200, { ...s.protectedResourceMetadata(), [field]: value }));
      } else {
        s.authorizationServer.route(
          'GET',
          AS_METADATA_PATH,
          json(200, { ...s.authorizationServerMetadata(), [field]: value }),
        );
      }
      const error = await rejection(s.fetchFor(s.session())(s.mcpUrl));
      expectOAuthError(error, 'unsafe_url', s.logger);
      expect(s.authorizationServer.requestsTo('/register')).toHaveLength(0);
      expect(s.authorizationServer.requestsTo('/authorize')).toHaveLength(0);
      expect(s.tokenRequests()).toHaveLength(0);
      expectLoopbackOnly(s);
    },
  );
});

describe('the registration endpoint redirects', () => {
  it.each(REDIRECT_STATUSES)(
    'a %i to another origin → redirect_not_allowed; the registration never reaches it',
    async (status) => {
      const s = await start();
      s.authorizationServer.route('POST', '/register', redirect(s.other.url('/register'), status));
      const error = await rejection(s.fetchFor(s.session())(s.mcpUrl));
      expectOAuthError(error, 'redirect_not_allowed', s.logger);
      expect(s.other.connections).toBe(0);
      expect(s.tokenRequests()).toHaveLength(0);
    },
  );
});
