import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  AUTH,
  AUTH_OAUTH,
  AUTH_OPENID,
  asMetadata,
  CHALLENGE,
  caught,
  PRM_INSERTED,
  PRM_ROOT,
  prm,
  SERVER,
  setup,
} from '../test-utils/discovery.js';
import { type AuthorizationServerPolicy, discover } from './discover.js';

describe('discover', () => {
  it('runs PRM then AS discovery and returns the PRM resource', async () => {
    const { fake, context } = setup();
    fake.json('GET', CHALLENGE, prm({ resource: 'https://mcp.example.com/mcp' }));
    fake.json('GET', AUTH_OAUTH, asMetadata());
    const result = await discover(context, { serverUrl: SERVER, resourceMetadataUrl: CHALLENGE });
    expect(result).toEqual({
      resource: 'https://mcp.example.com/mcp',
      resourceMetadataUrl: CHALLENGE,
      resourceMetadata: prm({ resource: 'https://mcp.example.com/mcp' }),
      authorizationServer: { issuer: AUTH, metadata: asMetadata(), source: 'oauth' },
    });
    expect(fake.log).toEqual([`GET ${CHALLENGE}`, `GET ${AUTH_OAUTH}`]);
  });

  it('holds a document from a resource_metadata URL to RFC 9728 §3.3: an origin-wide resource is resource_mismatch', async () => {
    const { fake, context } = setup();
    fake.json('GET', CHALLENGE, prm({ resource: 'https://mcp.example.com' }));
    const error = await caught(discover(context, { serverUrl: SERVER, resourceMetadataUrl: CHALLENGE }));
    expect(error.code).toBe('resource_mismatch');
    expect(fake.log).toEqual([`GET ${CHALLENGE}`]);
  });

  it.each([PRM_ROOT, PRM_INSERTED])(
    'lets a well-known document (%s) name the origin as the resource, even when a challenge pointed there',
    async (url) => {
      const { fake, context } = setup();
      fake.json('GET', url, prm({ resource: 'https://mcp.example.com' }));
      if (url === PRM_ROOT) fake.on('GET', PRM_INSERTED, { status: 404, headers: {}, body: '' });
      fake.json('GET', AUTH_OAUTH, asMetadata());
      const result = await discover(context, { serverUrl: SERVER, resourceMetadataUrl: url });
      expect(result.resource).toBe('https://mcp.example.com');
    },
  );

  it('accepts a trailing-slash difference from a resource_metadata URL', async () => {
    const { fake, context } = setup();
    fake.json('GET', CHALLENGE, prm({ resource: 'https://mcp.example.com/mcp/' }));
    fake.json('GET', AUTH_OAUTH, asMetadata());
    const result = await discover(context, { serverUrl: SERVER, resourceMetadataUrl: CHALLENGE });
    expect(result.resource).toBe('https://mcp.example.com/mcp/');
  });

  for (const [name, resource] of [
    ['another origin', 'https://other.example.com/mcp'],
    ['another path', 'https://mcp.example.com/other'],
    ['a sibling path', 'https://mcp.example.com/mcp2'],
  ] as const) {
    it(`stops with resource_mismatch for ${name} and never contacts an authorization server`, async () => {
      const { fake, context } = setup();
      fake.json('GET', CHALLENGE, prm({ resource }));
      fake.json('GET', AUTH_OAUTH, asMetadata());
      const error = await caught(discover(context, { serverUrl: SERVER, resourceMetadataUrl: CHALLENGE }));
      expect(error.code).toBe('resource_mismatch');
      expect(fake.log).toEqual([`GET ${CHALLENGE}`]);
    });
  }

  it('refuses an unsafe authorization server from the PRM without contacting it', async () => {
    for (const server of ['http://auth.example.com', 'https://169.254.169.254', 'javascript:alert(1)']) {
      const { fake, context } = setup();
      fake.json('GET', PRM_INSERTED, prm({ authorization_servers: [server] }));
      const error = await caught(discover(context, { serverUrl: SERVER }));
      expect(error.code).toBe('unsafe_url');
      expect(fake.log).toEqual([`GET ${PRM_INSERTED}`]);
    }
  });

  it('requires at least one authorization server in the PRM', async () => {
    for (const overrides of [{ authorization_servers: undefined }, { authorization_servers: [] }]) {
      const { fake, context } = setup();
      fake.json('GET', PRM_INSERTED, prm(overrides));
      const error = await caught(discover(context, { serverUrl: SERVER }));
      expect(error.code).toBe('discovery_failed');
      expect(error.message).toContain('"authorization_servers"');
      expect(fake.log).toEqual([`GET ${PRM_INSERTED}`]);
    }
  });

  it('surfaces issuer_mismatch of the only authorization server with its own code', async () => {
    const { fake, context } = setup();
    fake.json('GET', PRM_INSERTED, prm({ authorization_servers: ['https://attacker.example'] }));
    fake.json(
      'GET',
      'https://attacker.example/.well-known/oauth-authorization-server',
      asMetadata('https://honest.example'),
    );
    const error = await caught(discover(context, { serverUrl: SERVER }));
    expect(error.code).toBe('issuer_mismatch');
  });

  it('surfaces a missing authorization server as discovery_failed', async () => {
    const { fake, context } = setup();
    fake.json('GET', PRM_INSERTED, prm());
    const error = await caught(discover(context, { serverUrl: SERVER }));
    expect(error.code).toBe('discovery_failed');
    expect(fake.log).toEqual([`GET ${PRM_INSERTED}`, `GET ${AUTH_OAUTH}`, `GET ${AUTH_OPENID}`]);
  });

  it('applies allowIssuerMismatch from the policy of that issuer only', async () => {
    const { fake, context, events } = setup();
    fake.json('GET', PRM_INSERTED, prm());
    fake.json('GET', AUTH_OAUTH, asMetadata(`${AUTH}/`));
    const policies: Record<string, AuthorizationServerPolicy> = { [AUTH]: { allowIssuerMismatch: true } };
    const result = await discover(context, { serverUrl: SERVER, policyFor: (issuer) => policies[issuer] });
    expect(result.authorizationServer.issuer).toBe(AUTH);
    expect(result.authorizationServer.metadata.issuer).toBe(`${AUTH}/`);
    expect(events.some((entry) => entry.event === 'discovery.issuer_mismatch_allowed')).toBe(true);

    const other = setup();
    other.fake.json('GET', PRM_INSERTED, prm());
    other.fake.json('GET', AUTH_OAUTH, asMetadata(`${AUTH}/`));
    const error = await caught(
      discover(other.context, { serverUrl: SERVER, policyFor: () => ({ allowIssuerMismatch: false }) }),
    );
    expect(error.code).toBe('issuer_mismatch');
  });

  it('refuses an authorization server without PKCE metadata', async () => {
    const { fake, context } = setup();
    fake.json('GET', PRM_INSERTED, prm());
    fake.json('GET', AUTH_OAUTH, asMetadata(AUTH, { code_challenge_methods_supported: undefined }));
    const error = await caught(discover(context, { serverUrl: SERVER }));
    expect(error.code).toBe('pkce_unsupported');
  });

  it('proceeds with S256 when the policy allows missing PKCE metadata, and warns', async () => {
    const { fake, context, events } = setup();
    fake.json('GET', PRM_INSERTED, prm());
    fake.json('GET', AUTH_OAUTH, asMetadata(AUTH, { code_challenge_methods_supported: undefined }));
    const result = await discover(context, {
      serverUrl: SERVER,
      policyFor: () => ({ allowMissingPkceMetadata: true }),
    });
    expect(result.authorizationServer.metadata.code_challenge_methods_supported).toEqual(['S256']);
    expect(events.filter((entry) => entry.level === 'warn')).toEqual([
      { level: 'warn', event: 'discovery.pkce_metadata_missing', data: { issuer: AUTH } },
    ]);
  });

  it('refuses plain-only PKCE even when missing metadata is allowed', async () => {
    const { fake, context } = setup();
    fake.json('GET', PRM_INSERTED, prm());
    fake.json('GET', AUTH_OAUTH, asMetadata(AUTH, { code_challenge_methods_supported: ['plain'] }));
    const error = await caught(
      discover(context, { serverUrl: SERVER, policyFor: () => ({ allowMissingPkceMetadata: true }) }),
    );
    expect(error.code).toBe('pkce_unsupported');
  });

  it('uses the second authorization server when the first is broken', async () => {
    const { fake, context, events } = setup();
    const second = 'https://login.example.net';
    fake.json('GET', PRM_INSERTED, prm({ authorization_servers: [AUTH, second] }));
    fake.on('GET', AUTH_OAUTH, { status: 500 });
    fake.on('GET', AUTH_OPENID, { status: 500 });
    fake.json('GET', `${second}/.well-known/oauth-authorization-server`, asMetadata(second));
    const result = await discover(context, { serverUrl: SERVER });
    expect(result.authorizationServer.issuer).toBe(second);
    expect(fake.log).toEqual([
      `GET ${PRM_INSERTED}`,
      `GET ${AUTH_OAUTH}`,
      `GET ${AUTH_OPENID}`,
      `GET ${second}/.well-known/oauth-authorization-server`,
    ]);
    expect(events).toContainEqual({
      level: 'debug',
      event: 'discovery.as.rejected',
      data: { issuer: AUTH, code: 'discovery_failed' },
    });
  });

  it('moves past a first authorization server with a security error when another works', async () => {
    const { fake, context } = setup();
    const second = 'https://login.example.net';
    fake.json('GET', PRM_INSERTED, prm({ authorization_servers: ['http://insecure.example', AUTH, second] }));
    fake.json('GET', AUTH_OAUTH, asMetadata('https://honest.example'));
    fake.json('GET', `${second}/.well-known/oauth-authorization-server`, asMetadata(second));
    const result = await discover(context, { serverUrl: SERVER });
    expect(result.authorizationServer.issuer).toBe(second);
    expect(fake.log).toEqual([
      `GET ${PRM_INSERTED}`,
      `GET ${AUTH_OAUTH}`,
      `GET ${second}/.well-known/oauth-authorization-server`,
    ]);
  });

  it('wraps the last error in discovery_failed when several authorization servers all fail', async () => {
    const { fake, context } = setup();
    const second = 'https://login.example.net';
    fake.json('GET', PRM_INSERTED, prm({ authorization_servers: [AUTH, second] }));
    fake.json('GET', AUTH_OAUTH, asMetadata(AUTH, { code_challenge_methods_supported: undefined }));
    fake.json(
      'GET',
      `${second}/.well-known/oauth-authorization-server`,
      asMetadata('https://honest.example'),
    );
    const error = await caught(discover(context, { serverUrl: SERVER }));
    expect(error.code).toBe('discovery_failed');
    expect(error.cause?.code).toBe('issuer_mismatch');
  });

  it('uses the selector choice only', async () => {
    const { fake, context } = setup();
    const second = 'https://login.example.net';
    fake.json(
      'GET',
      PRM_INSERTED,
      prm({ authorization_servers: [AUTH, second], scopes_supported: ['read'] }),
    );
    fake.json('GET', AUTH_OAUTH, asMetadata());
    fake.json('GET', `${second}/.well-known/oauth-authorization-server`, asMetadata(second));
    const seen: unknown[] = [];
    const result = await discover(context, {
      serverUrl: SERVER,
      selectAuthorizationServer: async (candidates, metadata) => {
        seen.push(candidates, metadata.scopes_supported);
        return second;
      },
    });
    expect(seen).toEqual([[AUTH, second], ['read']]);
    expect(result.authorizationServer.issuer).toBe(second);
    expect(fake.log).toEqual([`GET ${PRM_INSERTED}`, `GET ${second}/.well-known/oauth-authorization-server`]);
  });

  it('surfaces the selected authorization server error with its own code', async () => {
    const { fake, context } = setup();
    const second = 'https://login.example.net';
    fake.json('GET', PRM_INSERTED, prm({ authorization_servers: [AUTH, second] }));
    fake.json('GET', AUTH_OAUTH, asMetadata());
    fake.json(
      'GET',
      `${second}/.well-known/oauth-authorization-server`,
      asMetadata('https://honest.example'),
    );
    const error = await caught(
      discover(context, { serverUrl: SERVER, selectAuthorizationServer: () => second }),
    );
    expect(error.code).toBe('issuer_mismatch');
    expect(fake.log).toEqual([`GET ${PRM_INSERTED}`, `GET ${second}/.well-known/oauth-authorization-server`]);
  });

  it('tries in order when the selector has no preference', async () => {
    const { fake, context } = setup();
    fake.json('GET', PRM_INSERTED, prm({ authorization_servers: [AUTH, 'https://login.example.net'] }));
    fake.json('GET', AUTH_OAUTH, asMetadata());
    const result = await discover(context, { serverUrl: SERVER, selectAuthorizationServer: () => undefined });
    expect(result.authorizationServer.issuer).toBe(AUTH);
  });

  it('refuses a selector choice that is not listed, before contacting it', async () => {
    const { fake, context } = setup();
    fake.json('GET', PRM_INSERTED, prm());
    const error = await caught(
      discover(context, { serverUrl: SERVER, selectAuthorizationServer: () => 'https://elsewhere.example' }),
    );
    expect(error.code).toBe('invalid_options');
    expect(fake.log).toEqual([`GET ${PRM_INSERTED}`]);
  });

  it('legacy: without PRM, discovers authorization server metadata at the server origin', async () => {
    const { fake, context, events } = setup();
    const serverUrl = new URL('https://api.example.com/v1/mcp');
    fake.json(
      'GET',
      'https://api.example.com/.well-known/oauth-authorization-server',
      asMetadata('https://api.example.com'),
    );
    const result = await discover(context, { serverUrl });
    expect(result).toEqual({
      resource: 'https://api.example.com/v1/mcp',
      authorizationServer: {
        issuer: 'https://api.example.com',
        metadata: asMetadata('https://api.example.com'),
        source: 'oauth',
      },
    });
    expect(fake.log).toEqual([
      'GET https://api.example.com/.well-known/oauth-protected-resource/v1/mcp',
      'GET https://api.example.com/.well-known/oauth-protected-resource',
      'GET https://api.example.com/.well-known/oauth-authorization-server',
    ]);
    expect(events).toContainEqual({
      level: 'debug',
      event: 'discovery.legacy_fallback',
      data: { serverUrl: 'https://api.example.com/v1/mcp' },
    });
  });

  it('legacy: without any metadata, uses the default endpoints at the origin', async () => {
    const { fake, context } = setup();
    const serverUrl = new URL('https://api.example.com/v1/mcp');
    const result = await discover(context, { serverUrl });
    expect(result).toEqual({
      resource: 'https://api.example.com/v1/mcp',
      authorizationServer: {
        issuer: 'https://api.example.com',
        source: 'fallback',
        metadata: {
          issuer: 'https://api.example.com',
          authorization_endpoint: 'https://api.example.com/authorize',
          token_endpoint: 'https://api.example.com/token',
          registration_endpoint: 'https://api.example.com/register',
          code_challenge_methods_supported: ['S256'],
        },
      },
    });
    expect(fake.log).toEqual([
      'GET https://api.example.com/.well-known/oauth-protected-resource/v1/mcp',
      'GET https://api.example.com/.well-known/oauth-protected-resource',
      'GET https://api.example.com/.well-known/oauth-authorization-server',
      'GET https://api.example.com/.well-known/openid-configuration',
    ]);
  });

  it('legacy: a loopback http server gets loopback http default endpoints', async () => {
    const { context } = setup();
    const result = await discover(context, { serverUrl: new URL('http://localhost:8080/mcp') });
    expect(result.resource).toBe('http://localhost:8080/mcp');
    expect(result.authorizationServer.metadata.token_endpoint).toBe('http://localhost:8080/token');
  });

  it('legacy: origin metadata without PKCE support is refused', async () => {
    const { fake, context } = setup();
    fake.json(
      'GET',
      'https://api.example.com/.well-known/oauth-authorization-server',
      asMetadata('https://api.example.com', { code_challenge_methods_supported: ['plain'] }),
    );
    const error = await caught(discover(context, { serverUrl: new URL('https://api.example.com/mcp') }));
    expect(error.code).toBe('pkce_unsupported');
  });

  it('legacy: accepts origin metadata whose issuer has a path on the same origin, and binds to that issuer', async () => {
    // MCP conformance auth/2025-03-26-oauth-metadata-backcompat: the server's origin serves
    // /.well-known/oauth-authorization-server with "issuer": "<origin>/oauth".
    const { fake, context, events } = setup();
    const serverUrl = new URL('http://localhost:8080/mcp');
    const metadata = asMetadata('http://localhost:8080/oauth');
    fake.json('GET', 'http://localhost:8080/.well-known/oauth-authorization-server', metadata);
    const result = await discover(context, { serverUrl });
    expect(result.authorizationServer).toEqual({
      issuer: 'http://localhost:8080/oauth',
      metadata,
      source: 'oauth',
    });
    expect(events).toContainEqual({
      level: 'debug',
      event: 'discovery.legacy_issuer_accepted',
      data: { issuer: 'http://localhost:8080/oauth' },
    });
  });

  it('legacy: still refuses origin metadata that names an issuer on another origin', async () => {
    const { fake, context } = setup();
    fake.json(
      'GET',
      'https://api.example.com/.well-known/oauth-authorization-server',
      asMetadata('https://auth.example.com'),
    );
    const error = await caught(discover(context, { serverUrl: new URL('https://api.example.com/mcp') }));
    expect(error.code).toBe('issuer_mismatch');
  });

  it('a same-origin issuer with a path is still a mismatch for an issuer a resource named', async () => {
    const { fake, context } = setup();
    fake.json('GET', PRM_INSERTED, prm());
    fake.json('GET', AUTH_OAUTH, asMetadata(`${AUTH}/tenant`));
    const error = await caught(discover(context, { serverUrl: SERVER }));
    expect(error.code).toBe('issuer_mismatch');
  });

  it('does not fall back to legacy discovery when the PRM candidates fail', async () => {
    const { fake, context } = setup();
    fake.on('GET', PRM_INSERTED, { status: 500 });
    fake.on('GET', PRM_ROOT, { status: 503 });
    const error = await caught(discover(context, { serverUrl: SERVER }));
    expect(error.code).toBe('discovery_failed');
    expect(fake.log).toEqual([`GET ${PRM_INSERTED}`, `GET ${PRM_ROOT}`]);
  });

  it('never puts a query, a body or a secret in errors or logs', async () => {
    const { fake, context, events } = setup();
    const challenge = 'https://mcp.example.com/prm?token=SECRET-query';
    fake.on('GET', challenge, { status: 500, body: 'SECRET-body-500' });
    fake.on('GET', PRM_INSERTED, {
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: '{"resource": "SECRET-body-json"',
    });
    fake.json('GET', PRM_ROOT, { resource: 'https://mcp.example.com/mcp', scopes_supported: 'SECRET-scope' });
    const error = await caught(discover(context, { serverUrl: SERVER, resourceMetadataUrl: challenge }));
    expect(error.code).toBe('discovery_failed');
    expect(fake.log[0]).toBe(`GET ${challenge}`);
    for (const text of [
      error.message,
      error.cause?.message,
      JSON.stringify(error),
      inspect(error, { depth: 5 }),
      JSON.stringify(events),
    ]) {
      expect(text).not.toContain('SECRET');
    }
    expect(events).toContainEqual({
      level: 'debug',
      event: 'discovery.prm.failed',
      data: { url: 'https://mcp.example.com/prm', code: 'http_error', status: 500 },
    });
  });
});
