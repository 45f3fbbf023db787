/**
 * Private networks reached on a server's word. The MCP server and its authorization server go by
 * public names (`https://mcp.example.com`, `https://as.example.com`; the guarded fetch carries
 * their requests to 127.0.0.1), and their documents point the client at loopback and private
 * addresses in every form: RFC 1918, CGNAT, unspecified, `localhost`, IPv4-mapped loopback in hex,
 * ULA, and the NAT64 and IPv4-compatible forms of the cloud metadata address. A public server may
 * not send the client to a more private network than its own; a loopback server may use loopback;
 * the application may allow it for one authorization server.
 */
import { describe, expect, it } from 'vitest';
import { expectOAuthError, rejection } from './canary.js';
import { json } from './hostile-server.js';
import { AS_METADATA_PATH, PRM_PATH, type Scenario, useScenarios } from './scenario.js';

const start = useScenarios();

/** Origins more private than a public server. `other` is a real server on this machine. */
const MORE_PRIVATE: ReadonlyArray<readonly [string, (s: Scenario) => string]> = [
  ['10.0.0.8', () => 'https://10.0.0.8'],
  ['192.168.1.1', () => 'https://192.168.1.1'],
  ['100.64.0.1 (CGNAT)', () => 'https://100.64.0.1'],
  ['0.0.0.0', () => 'https://0.0.0.0'],
  ['localhost', () => 'https://localhost'],
  ['[::ffff:7f00:1] (IPv4-mapped loopback in hex)', () => 'https://[::ffff:7f00:1]'],
  ['[fd00::1] (ULA)', () => 'https://[fd00::1]'],
  ['[64:ff9b::a9fe:a9fe] (NAT64 of 169.254.169.254)', () => 'https://[64:ff9b::a9fe:a9fe]'],
  ['[::a9fe:a9fe] (IPv4-compatible 169.254.169.254)', () => 'https://[::a9fe:a9fe]'],
  ['127.0.0.1, where a real server listens', (s) => s.other.loopbackOrigin.replace('http:', 'https:')],
];

/** Nothing reached `other`, and nothing but the public servers was asked for. */
function expectStayedPublic(s: Scenario): void {
  expect(s.other.connections).toBe(0);
  for (const url of s.guard.attempted) {
    expect([s.resource.origin, s.authorizationServer.origin]).toContain(new URL(url).origin);
  }
}

describe('a public MCP server', () => {
  it.each(MORE_PRIVATE)(
    'a resource_metadata URL on %s → unsafe_url before any request',
    async (_, origin) => {
      const s = await start({ publicNames: true });
      const target = `${origin(s)}${PRM_PATH}`;
      s.resource.route(
        '*',
        '/mcp',
        json(401, {}, { 'www-authenticate': `Bearer resource_metadata="${target}"` }),
      );
      const error = await rejection(s.fetchFor(s.session())(s.mcpUrl));
      expectOAuthError(error, 'unsafe_url', s.logger);
      expect((error as Error).message).toContain('resource_metadata');
      expect(s.guard.attempted).toEqual([s.mcpUrl]);
      expectStayedPublic(s);
      expect(s.authorizationServer.connections).toBe(0);
    },
  );

  it.each(MORE_PRIVATE)(
    'PRM "authorization_servers" naming %s → unsafe_url; the authorization server is never contacted',
    async (_, origin) => {
      const s = await start({ publicNames: true });
      s.resource.route(
        'GET',
        PRM_PATH,
        json(200, { ...s.protectedResourceMetadata(), authorization_servers: [origin(s)] }),
      );
      const error = await rejection(s.fetchFor(s.session())(s.mcpUrl));
      expectOAuthError(error, 'unsafe_url', s.logger);
      // Link-local forms are refused as such, whoever names them.
      expect((error as Error).message).toMatch(/more private network|link-local/);
      expect(s.guard.attempted).toEqual([s.mcpUrl, s.resourceMetadataUrl]);
      expectStayedPublic(s);
    },
  );

  it('a public server is still used when the private one is only the first of its list', async () => {
    const s = await start({ publicNames: true });
    s.resource.route(
      'GET',
      PRM_PATH,
      json(200, { ...s.protectedResourceMetadata(), authorization_servers: ['https://10.0.0.8', s.issuer] }),
    );
    const response = await s.fetchFor(s.session())(s.mcpUrl);
    expect(response.status).toBe(200);
    expect(s.guard.refused).toEqual([]);
    expectStayedPublic(s);
  });
});

describe('a public authorization server', () => {
  const FIELDS = ['token_endpoint', 'authorization_endpoint', 'registration_endpoint', 'revocation_endpoint'];
  const cases = FIELDS.flatMap((field) =>
    MORE_PRIVATE.map(([where, origin]) => [field, where, origin] as const),
  );

  it.each(cases)(
    '"%s" on %s → unsafe_url, with no registration or token request',
    async (field, _, origin) => {
      const s = await start({ publicNames: true });
      s.authorizationServer.route(
        'GET',
        AS_METADATA_PATH,
        json(200, { ...s.authorizationServerMetadata(), [field]: `${origin(s)}/${field}` }),
      );
      const error = await rejection(s.fetchFor(s.session())(s.mcpUrl));
      expectOAuthError(error, 'unsafe_url', s.logger);
      expect((error as Error).message).toContain(field);
      expect(s.authorizationServer.summary()).toEqual([`GET ${AS_METADATA_PATH}`]);
      expectStayedPublic(s);
    },
  );

  it.each(MORE_PRIVATE)(
    'a registration response whose registration_client_uri is on %s → registration_failed',
    async (_, origin) => {
      const s = await start({ publicNames: true });
      s.authorizationServer.route('POST', '/register', (request) =>
        json(201, {
          client_id: 'client-1',
          client_secret: 'client-secret-SECRET',
          client_secret_expires_at: 0,
          token_endpoint_auth_method: 'client_secret_basic',
          redirect_uris: (JSON.parse(request.body) as { redirect_uris: string[] }).redirect_uris,
          registration_client_uri: `${origin(s)}/register/client-1`,
          registration_access_token: 'registration-SECRET',
        }),
      );
      const error = await rejection(s.fetchFor(s.session())(s.mcpUrl));
      expectOAuthError(error, 'registration_failed', s.logger);
      // Link-local forms are refused as such, whoever names them.
      expect((error as Error).message).toMatch(/more private network|link-local/);
      expect(s.authorizationServer.requestsTo('/authorize')).toHaveLength(0);
      expect(s.tokenRequests()).toHaveLength(0);
      expectStayedPublic(s);
    },
  );
});

describe('servers on loopback, and the explicit option', () => {
  it('a loopback MCP server may name an authorization server on another loopback port', async () => {
    const s = await start();
    s.playAuthorizationServer(s.other, 'other-');
    s.resource.route(
      'GET',
      PRM_PATH,
      json(200, { ...s.protectedResourceMetadata(), authorization_servers: [s.other.origin] }),
    );
    const response = await s.fetchFor(s.session())(s.mcpUrl);
    expect(response.status).toBe(200);
    expect(s.other.requestsTo('/token', 'POST')).toHaveLength(1);
  });

  it('a public MCP server naming an authorization server on 127.0.0.1 → unsafe_url by default', async () => {
    const s = await start({ publicNames: true });
    s.playAuthorizationServer(s.other, 'other-');
    s.resource.route(
      'GET',
      PRM_PATH,
      json(200, { ...s.protectedResourceMetadata(), authorization_servers: [s.other.origin] }),
    );
    const error = await rejection(s.fetchFor(s.session())(s.mcpUrl));
    expectOAuthError(error, 'unsafe_url', s.logger);
    expect(s.other.connections).toBe(0);
  });

  it('…and works when the application allows private networks for that authorization server', async () => {
    const s = await start({ publicNames: true });
    s.playAuthorizationServer(s.other, 'other-');
    s.resource.route(
      'GET',
      PRM_PATH,
      json(200, { ...s.protectedResourceMetadata(), authorization_servers: [s.other.origin] }),
    );
    const session = s.session({
      authorizationServerPolicies: { [s.other.origin]: { allowPrivateNetworks: true } },
    });
    const response = await s.fetchFor(session)(s.mcpUrl);
    expect(response.status).toBe(200);
    expect(s.other.summary()).toEqual([
      `GET ${AS_METADATA_PATH}`,
      'POST /register',
      'GET /authorize',
      'POST /token',
    ]);
    expect(s.authorizationServer.connections).toBe(0);
  });

  it('allowing one authorization server does not allow another', async () => {
    const s = await start({ publicNames: true });
    s.resource.route(
      'GET',
      PRM_PATH,
      json(200, { ...s.protectedResourceMetadata(), authorization_servers: [s.other.origin] }),
    );
    const session = s.session({
      authorizationServerPolicies: { [s.issuer]: { allowPrivateNetworks: true } },
    });
    expectOAuthError(await rejection(s.fetchFor(session)(s.mcpUrl)), 'unsafe_url', s.logger);
    expect(s.other.connections).toBe(0);
  });
});
