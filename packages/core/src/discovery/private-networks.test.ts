import { describe, expect, it } from 'vitest';
import {
  AUTH,
  AUTH_OAUTH,
  asMetadata,
  caught,
  PRM_INSERTED,
  prm,
  SERVER,
  setup,
  thrown,
} from '../test-utils/discovery.js';
import { validateAuthorizationServerMetadata } from './authorization-server.js';
import { type AuthorizationServerPolicy, discover } from './discover.js';
import { discoverProtectedResource, validateProtectedResourceMetadata } from './protected-resource.js';

describe('private networks: a URL a server names may not lead to a more private network', () => {
  /** Forms of loopback and private addresses a hostile document might use. */
  const MORE_PRIVATE = [
    ['10/8', 'https://10.0.0.8'],
    ['192.168/16', 'https://192.168.1.1'],
    ['0.0.0.0', 'https://0.0.0.0'],
    ['localhost', 'http://localhost:8080'],
    ['127.0.0.1 as a number', 'https://2130706433'],
    ['IPv4-mapped loopback in hex', 'https://[::ffff:7f00:1]'],
    ['ULA', 'https://[fd00::1]'],
    ['NAT64 of 10.0.0.8', 'https://[64:ff9b::a00:8]'],
    ['IPv4-compatible 10.0.0.8', 'https://[::10.0.0.8]'],
    ['6to4 of 192.168.1.1', 'https://[2002:c0a8:101::1]'],
  ] as const;

  it.each(MORE_PRIVATE)(
    'refuses a resource_metadata URL on %s from a public server before any request',
    async (_, origin) => {
      const { fake, context } = setup();
      const error = await caught(
        discoverProtectedResource(context, { serverUrl: SERVER, resourceMetadataUrl: `${origin}/prm` }),
      );
      expect(error.code).toBe('unsafe_url');
      expect(error.message).toContain('resource_metadata');
      expect(fake.log).toEqual([]);
    },
  );

  it.each(MORE_PRIVATE)(
    'refuses an authorization server on %s listed by a public server without contacting it',
    async (_, origin) => {
      const { fake, context } = setup();
      fake.json('GET', PRM_INSERTED, prm({ authorization_servers: [origin] }));
      const error = await caught(discover(context, { serverUrl: SERVER }));
      expect(error.code).toBe('unsafe_url');
      expect(error.message).toContain('authorization server issuer');
      expect(fake.log).toEqual([`GET ${PRM_INSERTED}`]);
    },
  );

  it.each([
    'authorization_endpoint',
    'token_endpoint',
    'registration_endpoint',
    'revocation_endpoint',
    'introspection_endpoint',
    'jwks_uri',
    'pushed_authorization_request_endpoint',
  ])('refuses a public issuer whose %s is on a private network', (field) => {
    for (const [, origin] of MORE_PRIVATE) {
      const error = thrown(() =>
        validateAuthorizationServerMetadata(asMetadata(AUTH, { [field]: `${origin}/x` }), {
          expectedIssuer: AUTH,
          allowLoopbackHttp: true,
        }),
      );
      expect(error.code).toBe('unsafe_url');
      expect(error.message).toContain(field);
    }
  });

  it('refuses a jwks_uri more private than the resource metadata URL', () => {
    const error = thrown(() =>
      validateProtectedResourceMetadata(prm({ jwks_uri: 'https://10.0.0.8/jwks' }), SERVER),
    );
    expect(error.code).toBe('unsafe_url');
    // Judged against the URL the document came from, not only the server.
    const loopbackServer = new URL('http://127.0.0.1:3000/mcp');
    const document = prm({ resource: 'http://127.0.0.1:3000/mcp', jwks_uri: 'https://10.0.0.8/jwks' });
    expect(validateProtectedResourceMetadata(document, loopbackServer).jwks_uri).toBe(
      'https://10.0.0.8/jwks',
    );
    expect(
      thrown(() =>
        validateProtectedResourceMetadata(document, loopbackServer, {
          documentUrl: new URL('https://prm.example.com/doc'),
        }),
      ).code,
    ).toBe('unsafe_url');
  });

  it('lets a loopback server use loopback and private authorization servers and endpoints', async () => {
    const { fake, context } = setup();
    const serverUrl = new URL('http://127.0.0.1:3000/mcp');
    const issuer = 'http://localhost:9000';
    fake.json(
      'GET',
      'http://127.0.0.1:3000/.well-known/oauth-protected-resource/mcp',
      prm({ resource: 'http://127.0.0.1:3000/mcp', authorization_servers: [issuer] }),
    );
    fake.json(
      'GET',
      `${issuer}/.well-known/oauth-authorization-server`,
      asMetadata(issuer, { revocation_endpoint: 'https://10.0.0.8/revoke' }),
    );
    const result = await discover(context, { serverUrl });
    expect(result.authorizationServer.issuer).toBe(issuer);
  });

  it('lets a private server use private addresses, but not loopback', async () => {
    const serverUrl = new URL('https://10.0.0.2/mcp');
    const prmUrl = 'https://10.0.0.2/.well-known/oauth-protected-resource/mcp';
    const listing = (issuer: string) =>
      prm({ resource: 'https://10.0.0.2/mcp', authorization_servers: [issuer] });
    const ok = setup();
    ok.fake.json('GET', prmUrl, listing('https://192.168.1.1'));
    ok.fake.json(
      'GET',
      'https://192.168.1.1/.well-known/oauth-authorization-server',
      asMetadata('https://192.168.1.1'),
    );
    expect((await discover(ok.context, { serverUrl })).authorizationServer.issuer).toBe(
      'https://192.168.1.1',
    );

    const refused = setup();
    refused.fake.json('GET', prmUrl, listing('https://127.0.0.1'));
    expect((await caught(discover(refused.context, { serverUrl }))).code).toBe('unsafe_url');
  });

  it('legacy: endpoints of the origin metadata are judged against the origin', async () => {
    const { fake, context } = setup();
    fake.json(
      'GET',
      'https://api.example.com/.well-known/oauth-authorization-server',
      asMetadata('https://api.example.com', { token_endpoint: 'https://[::ffff:7f00:1]/token' }),
    );
    const error = await caught(discover(context, { serverUrl: new URL('https://api.example.com/mcp') }));
    expect(error.code).toBe('unsafe_url');
    expect(error.message).toContain('token_endpoint');
  });

  it("allowPrivateNetworks in an authorization server's policy admits that server and its endpoints only", async () => {
    const loopbackIssuer = 'http://127.0.0.1:9000';
    const run = (policies: Record<string, AuthorizationServerPolicy>) => {
      const { fake, context } = setup();
      fake.json('GET', PRM_INSERTED, prm({ authorization_servers: [loopbackIssuer] }));
      fake.json(
        'GET',
        `${loopbackIssuer}/.well-known/oauth-authorization-server`,
        asMetadata(loopbackIssuer),
      );
      return discover(context, { serverUrl: SERVER, policyFor: (issuer) => policies[issuer] });
    };
    expect((await run({ [loopbackIssuer]: { allowPrivateNetworks: true } })).authorizationServer.issuer).toBe(
      loopbackIssuer,
    );
    expect((await caught(run({ [AUTH]: { allowPrivateNetworks: true } }))).code).toBe('unsafe_url');
    expect((await caught(run({}))).code).toBe('unsafe_url');
  });

  it('allowPrivateNetworks for the whole discovery admits a private resource_metadata URL and what it names', async () => {
    const { fake, context } = setup();
    const challenge = 'https://10.0.0.8/prm';
    fake.json('GET', challenge, prm({ authorization_servers: ['https://10.0.0.9'] }));
    fake.json(
      'GET',
      'https://10.0.0.9/.well-known/oauth-authorization-server',
      asMetadata('https://10.0.0.9', { token_endpoint: 'https://[fd00::1]/token' }),
    );
    const result = await discover(context, {
      serverUrl: SERVER,
      resourceMetadataUrl: challenge,
      allowPrivateNetworks: true,
    });
    expect(result.authorizationServer.metadata.token_endpoint).toBe('https://[fd00::1]/token');
    expect(fake.log).toEqual([
      `GET ${challenge}`,
      'GET https://10.0.0.9/.well-known/oauth-authorization-server',
    ]);
  });

  it('moves on to the next listed authorization server when one is on a more private network', async () => {
    const { fake, context } = setup();
    fake.json('GET', PRM_INSERTED, prm({ authorization_servers: ['https://10.0.0.8', AUTH] }));
    fake.json('GET', AUTH_OAUTH, asMetadata());
    const result = await discover(context, { serverUrl: SERVER });
    expect(result.authorizationServer.issuer).toBe(AUTH);
    expect(fake.log).toEqual([`GET ${PRM_INSERTED}`, `GET ${AUTH_OAUTH}`]);
  });
});
