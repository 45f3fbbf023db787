/**
 * Malformed data from every server the client reads: invalid JSON, JSON that is not an object,
 * mistyped and missing fields, bad token types and lifetimes, absurd headers, oversized, endless and
 * truncated bodies, wrong content types. Hostile bodies carry `SECRET` so that a body echoed into an
 * error or a log line is caught.
 */
import type { OAuthClientErrorCode } from '@mcp-oauth/core';
import { describe, expect, it } from 'vitest';
import { codeChain, expectNoSecrets, expectOAuthError, rejection } from './canary.js';
import { json, type Reply } from './hostile-server.js';
import { AS_METADATA_PATH, PRM_PATH, useScenarios } from './scenario.js';

const start = useScenarios();

const ONE_MIB = 1024 * 1024;
const GOOD_TOKEN = { access_token: 'access-SECRET-x', token_type: 'Bearer', expires_in: 3600 };

function raw(body: string, contentType = 'application/json', status = 200): Reply {
  return { status, headers: { 'content-type': contentType }, body };
}

/** Token responses and the code each must produce. */
const TOKEN_RESPONSES: ReadonlyArray<{ name: string; code: OAuthClientErrorCode; reply: Reply }> = [
  { name: 'invalid JSON', code: 'token_response_invalid', reply: raw('{"access_token":"access-SECRET-x",') },
  { name: 'a JSON array', code: 'token_response_invalid', reply: raw('["access-SECRET-x"]') },
  { name: 'a JSON string', code: 'token_response_invalid', reply: raw('"access-SECRET-x"') },
  { name: 'JSON null', code: 'token_response_invalid', reply: raw('null') },
  { name: 'an empty body', code: 'token_response_invalid', reply: raw('') },
  {
    name: 'a numeric access_token',
    code: 'token_response_invalid',
    reply: json(200, { ...GOOD_TOKEN, access_token: 42 }),
  },
  {
    name: 'no access_token',
    code: 'token_response_invalid',
    reply: json(200, { token_type: 'Bearer', refresh_token: 'refresh-SECRET-x' }),
  },
  {
    name: 'an empty access_token',
    code: 'token_response_invalid',
    reply: json(200, { ...GOOD_TOKEN, access_token: '' }),
  },
  {
    name: 'token_type "mac"',
    code: 'token_response_invalid',
    reply: json(200, { ...GOOD_TOKEN, token_type: 'mac' }),
  },
  {
    name: 'no token_type',
    code: 'token_response_invalid',
    reply: json(200, { access_token: 'access-SECRET-x' }),
  },
  {
    name: 'a numeric token_type',
    code: 'token_response_invalid',
    reply: json(200, { ...GOOD_TOKEN, token_type: 1 }),
  },
  {
    name: 'token_type DPoP without DPoP',
    code: 'token_response_invalid',
    reply: json(200, { ...GOOD_TOKEN, token_type: 'DPoP' }),
  },
  {
    name: 'a negative expires_in',
    code: 'token_response_invalid',
    reply: json(200, { ...GOOD_TOKEN, expires_in: -1 }),
  },
  {
    name: 'a textual expires_in',
    code: 'token_response_invalid',
    reply: json(200, { ...GOOD_TOKEN, expires_in: 'soon' }),
  },
  {
    name: 'an infinite expires_in',
    code: 'token_response_invalid',
    reply: raw('{"access_token":"access-SECRET-x","token_type":"Bearer","expires_in":1e999}'),
  },
  {
    name: 'a numeric refresh_token',
    code: 'token_response_invalid',
    reply: json(200, { ...GOOD_TOKEN, refresh_token: 7 }),
  },
  {
    name: 'a scope list instead of a string',
    code: 'token_response_invalid',
    reply: json(200, { ...GOOD_TOKEN, scope: ['mcp'] }),
  },
  {
    name: 'an HTML content type',
    code: 'token_response_invalid',
    reply: raw(JSON.stringify(GOOD_TOKEN), 'text/html'),
  },
  {
    name: 'an HTML error page with 200',
    code: 'token_response_invalid',
    reply: raw('<html>access-SECRET-x</html>', 'text/html'),
  },
  {
    name: 'a 400 whose description holds a secret',
    code: 'token_request_failed',
    reply: json(400, {
      error: 'invalid_grant',
      error_description: 'code-SECRET-dGhpcyBpcyBhIHJlZmxlY3RlZCBjb2Rl is bad',
      error_uri: 'https://x.example/?SECRET',
    }),
  },
  {
    name: 'a 500 with an HTML body',
    code: 'token_request_failed',
    reply: raw('<h1>SECRET</h1>', 'text/html', 500),
  },
];

describe('token responses', () => {
  it.each(TOKEN_RESPONSES.map(({ name, code, reply }) => [name, code, reply] as const))(
    '%s → %s',
    async (_, code, reply) => {
      const s = await start();
      s.authorizationServer.route('POST', '/token', reply);
      const error = await rejection(s.fetchFor(s.session())(s.mcpUrl));
      expectOAuthError(error, code, s.logger, s.wireSecrets());
      expect(s.tokenRequests()).toHaveLength(1);
      // The request that needed the token was not sent again.
      expect(s.resource.requestsTo('/mcp')).toHaveLength(1);
    },
  );

  it('a huge expires_in is capped at ten years, not trusted as forever', async () => {
    const s = await start();
    s.authorizationServer.route('POST', '/token', (request) => {
      const token = `access-SECRET-${request.form.get('code')}`;
      s.validAccessTokens.add(token);
      return json(200, { access_token: token, token_type: 'Bearer', expires_in: 1e300 });
    });
    const before = Date.now();
    const session = s.session();
    await s.authorize(session);
    const expiresAt = session.getTokenInfo()?.expiresAt ?? Number.POSITIVE_INFINITY;
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 10 * 365 * 24 * 3600 * 1000);
    expect(expiresAt).toBeGreaterThan(before);
    expectNoSecrets(undefined, s.logger, s.wireSecrets());
  });

  it('a body over the 1 MiB cap → response_too_large', async () => {
    const s = await start();
    s.authorizationServer.route('POST', '/token', raw(`${JSON.stringify(GOOD_TOKEN)}${' '.repeat(ONE_MIB)}`));
    const error = await rejection(s.fetchFor(s.session())(s.mcpUrl));
    expectOAuthError(error, 'response_too_large', s.logger, s.wireSecrets());
  });

  it('an endless body → response_too_large, and the client hangs up', async () => {
    const s = await start();
    s.authorizationServer.route('POST', '/token', {
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: '{"access_token":"access-SECRET-x","padding":"',
      endless: true,
    });
    const error = await rejection(s.fetchFor(s.session())(s.mcpUrl));
    expectOAuthError(error, 'response_too_large', s.logger, s.wireSecrets());
    await expect.poll(() => s.tokenRequests()[0]?.outcome).toBe('abandoned');
  });

  it('a truncated body (content-length larger than sent, then reset) → network_error', async () => {
    const s = await start();
    s.authorizationServer.route('POST', '/token', {
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: '{"access_token":"access-SECRET-x","tok',
      declaredLength: 4096,
    });
    const error = await rejection(s.fetchFor(s.session())(s.mcpUrl));
    expectOAuthError(error, 'network_error', s.logger, s.wireSecrets());
  });

  it('a 64 KiB header on the token response → network_error', async () => {
    const s = await start();
    s.authorizationServer.route('POST', '/token', {
      ...json(200, GOOD_TOKEN),
      headers: { 'content-type': 'application/json', 'x-padding': `SECRET${'a'.repeat(64 * 1024)}` },
    });
    const error = await rejection(s.fetchFor(s.session())(s.mcpUrl));
    expectOAuthError(error, 'network_error', s.logger, s.wireSecrets());
  });
});

/** Table rows as named cases; `chain` is the error code followed by its causes' codes. */
function asCases<T>(rows: ReadonlyArray<readonly [string, T, readonly string[]]>) {
  return rows.map(([name, reply, codes]) => [name, codes.join(' ← '), reply, codes] as const);
}

/** Protected resource metadata documents and the code (with its cause) each must produce. */
const PRM_DOCUMENTS: ReadonlyArray<readonly [string, (resource: string) => Reply, readonly string[]]> = [
  ['invalid JSON', () => raw('{"resource":'), ['discovery_failed', 'metadata_invalid']],
  ['a JSON array', (resource) => raw(JSON.stringify([resource])), ['discovery_failed', 'metadata_invalid']],
  [
    'no resource',
    () => json(200, { authorization_servers: ['https://as.example'] }),
    ['discovery_failed', 'metadata_invalid'],
  ],
  ['a numeric resource', () => json(200, { resource: 1 }), ['discovery_failed', 'metadata_invalid']],
  [
    'authorization_servers as a string',
    (resource) => json(200, { resource, authorization_servers: 'x' }),
    ['discovery_failed', 'metadata_invalid'],
  ],
  [
    'authorization_servers holding a number',
    (resource) => json(200, { resource, authorization_servers: [1] }),
    ['discovery_failed', 'metadata_invalid'],
  ],
  [
    'scopes_supported as an object',
    (resource) => json(200, { resource, scopes_supported: { a: 1 } }),
    ['discovery_failed', 'metadata_invalid'],
  ],
  [
    'no authorization server',
    (resource) => json(200, { resource, authorization_servers: [] }),
    ['discovery_failed'],
  ],
  [
    'an HTML content type',
    (resource) => raw(JSON.stringify({ resource }), 'text/html'),
    ['discovery_failed', 'metadata_invalid'],
  ],
  ['a 500', () => raw('SECRET', 'text/plain', 500), ['discovery_failed', 'http_error']],
  [
    'a truncated body',
    (resource) => ({ ...raw(`{"resource":"${resource}"`), declaredLength: 4096 }),
    ['discovery_failed', 'network_error', 'network_error'],
  ],
  [
    'an endless body',
    () => ({ ...raw('{"resource":"'), endless: true }),
    ['discovery_failed', 'response_too_large'],
  ],
];

describe('protected resource metadata', () => {
  it.each(asCases(PRM_DOCUMENTS))('%s → %s', async (_, _chain, reply, codes) => {
    const s = await start();
    s.resource.route('GET', PRM_PATH, reply(s.mcpUrl));
    const error = await rejection(s.fetchFor(s.session())(s.mcpUrl));
    expectOAuthError(error, codes[0] as OAuthClientErrorCode, s.logger);
    expect(codeChain(error)).toEqual(codes);
    expect(s.authorizationServer.connections).toBe(0);
  });
});

/** Authorization server metadata documents and the code (with its cause) each must produce. */
const AS_DOCUMENTS: ReadonlyArray<
  readonly [string, (metadata: Record<string, unknown>) => Reply, readonly string[]]
> = [
  ['invalid JSON', () => raw('{"issuer":'), ['discovery_failed', 'metadata_invalid']],
  ['JSON null', () => raw('null'), ['discovery_failed', 'metadata_invalid']],
  ['no issuer', ({ issuer: _, ...rest }) => json(200, rest), ['discovery_failed', 'metadata_invalid']],
  [
    'a numeric token_endpoint',
    (metadata) => json(200, { ...metadata, token_endpoint: 5 }),
    ['discovery_failed', 'metadata_invalid'],
  ],
  [
    'grant_types_supported as a string',
    (metadata) => json(200, { ...metadata, grant_types_supported: 'authorization_code' }),
    ['discovery_failed', 'metadata_invalid'],
  ],
  [
    'a string for a boolean',
    (metadata) => json(200, { ...metadata, authorization_response_iss_parameter_supported: 'yes' }),
    ['discovery_failed', 'metadata_invalid'],
  ],
  [
    'no PKCE methods',
    ({ code_challenge_methods_supported: _, ...rest }) => json(200, rest),
    ['pkce_unsupported'],
  ],
  [
    'only the plain PKCE method',
    (metadata) => json(200, { ...metadata, code_challenge_methods_supported: ['plain'] }),
    ['pkce_unsupported'],
  ],
  [
    'an HTML content type',
    (metadata) => raw(JSON.stringify(metadata), 'text/html'),
    ['discovery_failed', 'metadata_invalid'],
  ],
  [
    'a body over the cap',
    (metadata) => raw(`${JSON.stringify(metadata)}${' '.repeat(ONE_MIB)}`),
    ['discovery_failed', 'response_too_large'],
  ],
  [
    'a 64 KiB header',
    (metadata) => ({ ...json(200, metadata), headers: { 'x-padding': 'a'.repeat(64 * 1024) } }),
    ['discovery_failed', 'network_error', 'network_error'],
  ],
];

describe('authorization server metadata', () => {
  it.each(asCases(AS_DOCUMENTS))('%s → %s', async (_, _chain, reply, codes) => {
    const s = await start();
    s.authorizationServer.route('GET', AS_METADATA_PATH, reply(s.authorizationServerMetadata()));
    const error = await rejection(s.fetchFor(s.session())(s.mcpUrl));
    expectOAuthError(error, codes[0] as OAuthClientErrorCode, s.logger);
    expect(codeChain(error)).toEqual(codes);
    expect(s.authorizationServer.requestsTo('/register')).toHaveLength(0);
    expect(s.tokenRequests()).toHaveLength(0);
  });
});

/** Registration responses and the code each must produce. */
const REGISTRATION_RESPONSES: ReadonlyArray<readonly [string, Reply]> = [
  ['invalid JSON', raw('{"client_id":', 'application/json', 201)],
  ['a JSON array', raw('[]', 'application/json', 201)],
  [
    'no client_id',
    json(201, { client_secret: 'client-secret-SECRET', token_endpoint_auth_method: 'client_secret_basic' }),
  ],
  ['a numeric client_id', json(201, { client_id: 5 })],
  [
    'no client_secret for client_secret_basic',
    json(201, { client_id: 'c', token_endpoint_auth_method: 'client_secret_basic' }),
  ],
  [
    'an unknown auth method',
    json(201, { client_id: 'c', client_secret: 'SECRET', token_endpoint_auth_method: 'tls_client_auth' }),
  ],
  [
    'a secret that already expired',
    json(201, { client_id: 'c', client_secret: 'SECRET', client_secret_expires_at: 1 }),
  ],
  [
    'redirect_uris missing the one sent',
    json(201, { client_id: 'c', client_secret: 'SECRET', redirect_uris: ['https://evil.example/cb'] }),
  ],
  ['an HTML content type', raw('{"client_id":"c","client_secret":"SECRET"}', 'text/html', 201)],
  [
    'a 400 whose description holds a secret',
    json(400, {
      error: 'invalid_client_metadata',
      error_description: 'client SECRET-dGhpcyBpcyBhIHJlZmxlY3RlZCBzZWNyZXQ',
    }),
  ],
  ['a 202', json(202, { client_id: 'c', client_secret: 'SECRET' })],
];

describe('registration responses', () => {
  it.each(REGISTRATION_RESPONSES)('%s → registration_failed', async (_, reply) => {
    const s = await start();
    s.authorizationServer.route('POST', '/register', reply);
    const error = await rejection(s.fetchFor(s.session())(s.mcpUrl));
    expectOAuthError(error, 'registration_failed', s.logger);
    expect(s.authorizationServer.requestsTo('/authorize')).toHaveLength(0);
    expect(s.tokenRequests()).toHaveLength(0);
  });
});

describe('WWW-Authenticate', () => {
  const GARBAGE = [
    'Bearer realm="unterminated, resource_metadata="http://169.254.169.254/x"',
    'Bearer resource_metadata=http://169.254.169.254/x resource_metadata',
    '"""""""",,,,,,====',
    `Bearer ${'a='.repeat(2000)}`,
    `${'Basic x, '.repeat(500)}Bearer resource_metadata="http://169.254.169.254/x"`,
    'Bearer scope="\\"\\\\\\"", error="SECRET',
    'Bearer ,,,,, , realm=, =x, x=',
  ];

  it.each(GARBAGE.map((header) => [header.slice(0, 60), header]))(
    'garbage (%s…) falls back to well-known discovery and never reaches link-local',
    async (_, header) => {
      const s = await start();
      s.resource.route('*', '/mcp', (request) =>
        s.validAccessTokens.has((request.headers.authorization ?? '').slice('Bearer '.length))
          ? json(200, {})
          : json(401, {}, { 'www-authenticate': header }),
      );
      const response = await s.fetchFor(s.session())(s.mcpUrl);
      expect(response.status).toBe(200);
      expect(s.guard.refused).toEqual([]);
      expect(s.resource.requestsTo(PRM_PATH)).toHaveLength(1);
      expectNoSecrets(undefined, s.logger);
    },
  );

  it('a 64 KiB header on the MCP response is refused by the HTTP stack; no OAuth request is sent', async () => {
    const s = await start();
    s.resource.route(
      '*',
      '/mcp',
      json(401, {}, { 'www-authenticate': `Bearer realm="${'x'.repeat(64 * 1024)}"` }),
    );
    const error = await rejection(s.fetchFor(s.session())(s.mcpUrl));
    // fetch's own transport error (undici refuses headers over 16 KiB), not an engine error.
    expect(error).toBeInstanceOf(TypeError);
    expect(s.guard.attempted).toEqual([s.mcpUrl]);
    expect(s.authorizationServer.connections).toBe(0);
  });

  it('a 15 KiB header of challenges ending in a link-local resource_metadata is ignored past the parser caps', async () => {
    const s = await start();
    const header = `${'Basic realm="x", '.repeat(900)}Bearer resource_metadata="http://169.254.169.254/x"`;
    expect(header.length).toBeLessThan(16 * 1024);
    s.resource.route('*', '/mcp', (request) =>
      s.validAccessTokens.has((request.headers.authorization ?? '').slice('Bearer '.length))
        ? json(200, {})
        : json(401, {}, { 'www-authenticate': header }),
    );
    const response = await s.fetchFor(s.session())(s.mcpUrl);
    expect(response.status).toBe(200);
    expect(s.guard.refused).toEqual([]);
  });
});
