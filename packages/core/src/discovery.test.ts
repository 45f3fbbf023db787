import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  type AuthorizationServerPolicy,
  assertPkceSupport,
  discover,
  discoverAuthorizationServerMetadata,
  discoverProtectedResource,
  validateAuthorizationServerMetadata,
  validateProtectedResourceMetadata,
} from './discovery.js';
import { isOAuthClientError, type OAuthClientError } from './errors.js';
import { createHttpContext } from './http.js';
import type { OAuthLogger } from './logger.js';
import { FakeHttpClient } from './test-utils/fake-http.js';
import type { AuthorizationServerMetadata } from './types.js';

const SERVER = new URL('https://mcp.example.com/mcp');
const PRM_INSERTED = 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp';
const PRM_ROOT = 'https://mcp.example.com/.well-known/oauth-protected-resource';
const CHALLENGE = 'https://mcp.example.com/metadata/prm.json';
const AUTH = 'https://auth.example.com';
const AUTH_OAUTH = 'https://auth.example.com/.well-known/oauth-authorization-server';
const AUTH_OPENID = 'https://auth.example.com/.well-known/openid-configuration';

interface LogEntry {
  level: 'debug' | 'warn';
  event: string;
  data: Record<string, unknown> | undefined;
}

function setup() {
  const fake = new FakeHttpClient();
  const events: LogEntry[] = [];
  const logger: OAuthLogger = {
    debug: (event, data) => events.push({ level: 'debug', event, data }),
    warn: (event, data) => events.push({ level: 'warn', event, data }),
  };
  const context = createHttpContext(fake, { logger });
  return { fake, events, logger, context };
}

function prm(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { resource: 'https://mcp.example.com/mcp', authorization_servers: [AUTH], ...overrides };
}

function asMetadata(issuer = AUTH, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/token`,
    registration_endpoint: `${issuer}/register`,
    response_types_supported: ['code'],
    code_challenge_methods_supported: ['S256'],
    ...overrides,
  };
}

async function caught(promise: Promise<unknown>): Promise<OAuthClientError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!isOAuthClientError(error)) throw new Error(`expected an OAuthClientError, got ${String(error)}`);
  return error;
}

function thrown(run: () => unknown): OAuthClientError {
  try {
    run();
  } catch (error) {
    if (isOAuthClientError(error)) return error;
    throw error;
  }
  throw new Error('expected an OAuthClientError');
}

describe('discoverProtectedResource', () => {
  it('uses the challenge URL first and sends only an Accept header', async () => {
    const { fake, context, events } = setup();
    fake.json('GET', CHALLENGE, prm());
    const found = await discoverProtectedResource(context, {
      serverUrl: SERVER,
      resourceMetadataUrl: CHALLENGE,
    });
    expect(found?.url).toBe(CHALLENGE);
    expect(found?.metadata.resource).toBe('https://mcp.example.com/mcp');
    expect(found?.metadata.authorization_servers).toEqual([AUTH]);
    expect(fake.log).toEqual([`GET ${CHALLENGE}`]);
    expect(fake.requests[0]?.headers).toEqual({ accept: 'application/json' });
    expect(events.map((entry) => entry.event)).toEqual([
      'discovery.prm.candidate',
      'http.request',
      'discovery.prm.found',
    ]);
  });

  it('falls back from a 404 challenge URL to the path-inserted then the root well-known URL', async () => {
    const { fake, context } = setup();
    fake.json('GET', PRM_ROOT, prm());
    const found = await discoverProtectedResource(context, {
      serverUrl: SERVER,
      resourceMetadataUrl: CHALLENGE,
    });
    expect(found?.url).toBe(PRM_ROOT);
    expect(fake.log).toEqual([`GET ${CHALLENGE}`, `GET ${PRM_INSERTED}`, `GET ${PRM_ROOT}`]);
  });

  it('stops at the path-inserted URL when it serves the document', async () => {
    const { fake, context } = setup();
    fake.json('GET', PRM_INSERTED, prm());
    fake.json('GET', PRM_ROOT, prm());
    const found = await discoverProtectedResource(context, { serverUrl: SERVER });
    expect(found?.url).toBe(PRM_INSERTED);
    expect(fake.log).toEqual([`GET ${PRM_INSERTED}`]);
  });

  it('falls back when the challenge URL fails with a 5xx or serves invalid JSON', async () => {
    for (const reply of [
      { status: 503, body: 'unavailable' },
      { status: 200, headers: { 'content-type': 'application/json' }, body: '{not json' },
    ]) {
      const { fake, context } = setup();
      fake.on('GET', CHALLENGE, reply);
      fake.json('GET', PRM_INSERTED, prm());
      const found = await discoverProtectedResource(context, {
        serverUrl: SERVER,
        resourceMetadataUrl: CHALLENGE,
      });
      expect(found?.url).toBe(PRM_INSERTED);
      expect(fake.log).toEqual([`GET ${CHALLENGE}`, `GET ${PRM_INSERTED}`]);
    }
  });

  it('requests only the root well-known URL for a server at the root', async () => {
    const { fake, context } = setup();
    const found = await discoverProtectedResource(context, { serverUrl: new URL('https://mcp.example.com') });
    expect(found).toBeUndefined();
    expect(fake.log).toEqual([`GET ${PRM_ROOT}`]);
  });

  it('does not request a well-known URL twice when the challenge names it', async () => {
    const { fake, context } = setup();
    const found = await discoverProtectedResource(context, {
      serverUrl: SERVER,
      resourceMetadataUrl: PRM_ROOT,
    });
    expect(found).toBeUndefined();
    expect(fake.log).toEqual([`GET ${PRM_ROOT}`, `GET ${PRM_INSERTED}`]);
  });

  it('returns undefined when every candidate answers "not there" (4xx other than 408/429)', async () => {
    for (const status of [404, 410, 405, 401, 403]) {
      const { fake, context } = setup();
      fake.on('GET', PRM_INSERTED, { status });
      fake.on('GET', PRM_ROOT, { status });
      expect(await discoverProtectedResource(context, { serverUrl: SERVER })).toBeUndefined();
      expect(fake.log).toEqual([`GET ${PRM_INSERTED}`, `GET ${PRM_ROOT}`]);
    }
  });

  it('fails with discovery_failed when every candidate answers 5xx', async () => {
    const { fake, context } = setup();
    fake.on('GET', CHALLENGE, { status: 500 });
    fake.on('GET', PRM_INSERTED, { status: 502 });
    fake.on('GET', PRM_ROOT, { status: 503 });
    const error = await caught(
      discoverProtectedResource(context, { serverUrl: SERVER, resourceMetadataUrl: CHALLENGE }),
    );
    expect(error.code).toBe('discovery_failed');
    expect(error.cause?.code).toBe('http_error');
    expect(error.cause?.status).toBe(503);
    expect(fake.log).toEqual([`GET ${CHALLENGE}`, `GET ${PRM_INSERTED}`, `GET ${PRM_ROOT}`]);
  });

  it('fails with discovery_failed when one candidate failed and the others were absent', async () => {
    for (const status of [500, 408, 429]) {
      const { fake, context } = setup();
      fake.on('GET', PRM_INSERTED, { status });
      const error = await caught(discoverProtectedResource(context, { serverUrl: SERVER }));
      expect(error.code).toBe('discovery_failed');
      expect(error.cause?.status).toBe(status);
      expect(fake.log).toEqual([`GET ${PRM_INSERTED}`, `GET ${PRM_ROOT}`]);
    }
  });

  it('refuses an http challenge URL for an https server without sending anything', async () => {
    const { fake, context } = setup();
    const error = await caught(
      discoverProtectedResource(context, {
        serverUrl: SERVER,
        resourceMetadataUrl: 'http://mcp.example.com/.well-known/oauth-protected-resource/mcp',
      }),
    );
    expect(error.code).toBe('unsafe_url');
    expect(fake.log).toEqual([]);
  });

  it('refuses link-local and credential-bearing challenge URLs without sending anything', async () => {
    for (const url of [
      'https://169.254.169.254/latest/meta-data',
      'https://[fe80::1]/prm',
      'https://user:pass@mcp.example.com/prm',
      'not a url',
    ]) {
      const { fake, context } = setup();
      const error = await caught(
        discoverProtectedResource(context, { serverUrl: SERVER, resourceMetadataUrl: url }),
      );
      expect(error.code).toBe('unsafe_url');
      expect(fake.log).toEqual([]);
    }
  });

  it('allows an http loopback challenge URL when the server itself is on loopback', async () => {
    const { fake, context } = setup();
    const serverUrl = new URL('http://127.0.0.1:3000/mcp');
    const challenge = 'http://127.0.0.1:3000/.well-known/oauth-protected-resource/mcp';
    fake.json('GET', challenge, prm({ resource: 'http://127.0.0.1:3000/mcp' }));
    const found = await discoverProtectedResource(context, { serverUrl, resourceMetadataUrl: challenge });
    expect(found?.url).toBe(challenge);
    expect(fake.log).toEqual([`GET ${challenge}`]);
  });

  it('stops with resource_mismatch as soon as a document names another resource', async () => {
    const { fake, context } = setup();
    fake.json('GET', PRM_INSERTED, prm({ resource: 'https://other.example.com/mcp' }));
    fake.json('GET', PRM_ROOT, prm());
    const error = await caught(discoverProtectedResource(context, { serverUrl: SERVER }));
    expect(error.code).toBe('resource_mismatch');
    expect(error.message).toBe('protected resource metadata "resource" does not identify this server');
    expect(fake.log).toEqual([`GET ${PRM_INSERTED}`]);
  });

  it('tries the next candidate after an invalid document and reports it if nothing else works', async () => {
    const { fake, context, events } = setup();
    fake.json('GET', PRM_INSERTED, prm({ scopes_supported: 'read write' }));
    const error = await caught(discoverProtectedResource(context, { serverUrl: SERVER }));
    expect(error.code).toBe('discovery_failed');
    expect(error.cause?.code).toBe('metadata_invalid');
    expect(fake.log).toEqual([`GET ${PRM_INSERTED}`, `GET ${PRM_ROOT}`]);
    expect(events).toContainEqual({
      level: 'debug',
      event: 'discovery.prm.failed',
      data: { url: PRM_INSERTED, code: 'metadata_invalid' },
    });
  });

  it('follows a same-origin redirect', async () => {
    const { fake, context } = setup();
    fake.on('GET', PRM_INSERTED, { status: 301, headers: { location: '/metadata/moved.json' } });
    fake.json('GET', 'https://mcp.example.com/metadata/moved.json', prm());
    const found = await discoverProtectedResource(context, { serverUrl: SERVER });
    expect(found?.url).toBe(PRM_INSERTED);
    expect(fake.log).toEqual([`GET ${PRM_INSERTED}`, 'GET https://mcp.example.com/metadata/moved.json']);
  });

  it('refuses a cross-origin redirect and reports it when nothing else works', async () => {
    const { fake, context } = setup();
    fake.on('GET', PRM_INSERTED, { status: 302, headers: { location: 'https://evil.example/prm' } });
    fake.json('GET', 'https://evil.example/prm', prm());
    const error = await caught(discoverProtectedResource(context, { serverUrl: SERVER }));
    expect(error.code).toBe('discovery_failed');
    expect(error.cause?.code).toBe('redirect_not_allowed');
    expect(fake.log).toEqual([`GET ${PRM_INSERTED}`, `GET ${PRM_ROOT}`]);
  });

  it('rethrows an abort instead of trying the next candidate', async () => {
    const { fake, context } = setup();
    const controller = new AbortController();
    fake.on('GET', PRM_INSERTED, () => {
      controller.abort();
      return new Promise(() => {});
    });
    const error = await caught(
      discoverProtectedResource(context, { serverUrl: SERVER, signal: controller.signal }),
    );
    expect(error.code).toBe('aborted');
    expect(fake.log).toEqual([`GET ${PRM_INSERTED}`]);
  });
});

describe('validateProtectedResourceMetadata', () => {
  const accepted: Array<[string, string, string]> = [
    ['the exact server URL', 'https://mcp.example.com/mcp', 'https://mcp.example.com/mcp'],
    ['a trailing slash on the resource', 'https://mcp.example.com/mcp', 'https://mcp.example.com/mcp/'],
    ['a trailing slash on the server', 'https://mcp.example.com/mcp/', 'https://mcp.example.com/mcp'],
    ['a parent path', 'https://mcp.example.com/api/mcp', 'https://mcp.example.com/api'],
    ['the origin', 'https://mcp.example.com/api/mcp', 'https://mcp.example.com'],
    ['the origin with a slash', 'https://mcp.example.com/api/mcp', 'https://mcp.example.com/'],
    ['upper-case scheme and host', 'https://mcp.example.com/mcp', 'HTTPS://MCP.Example.com/mcp'],
    ['an explicit default port', 'https://mcp.example.com/mcp', 'https://mcp.example.com:443/mcp'],
  ];
  for (const [name, server, resource] of accepted) {
    it(`accepts ${name}`, () => {
      const metadata = validateProtectedResourceMetadata(prm({ resource }), new URL(server));
      expect(metadata.resource).toBe(resource);
    });
  }

  const rejected: Array<[string, string, string]> = [
    ['another origin', 'https://mcp.example.com/mcp', 'https://other.example.com/mcp'],
    ['another scheme', 'https://mcp.example.com/mcp', 'http://mcp.example.com/mcp'],
    ['another port', 'https://mcp.example.com/mcp', 'https://mcp.example.com:8443/mcp'],
    ['another path', 'https://mcp.example.com/mcp', 'https://mcp.example.com/other'],
    ['a sibling path sharing a prefix', 'https://mcp.example.com/mcp', 'https://mcp.example.com/mcp2'],
    ['the server as a prefix of the resource', 'https://mcp.example.com/mcp2', 'https://mcp.example.com/mcp'],
    ['a deeper path', 'https://mcp.example.com/mcp', 'https://mcp.example.com/mcp/tenant'],
    ['a non-URL', 'https://mcp.example.com/mcp', 'mcp'],
    ['a fragment', 'https://mcp.example.com/mcp', 'https://mcp.example.com/mcp#x'],
  ];
  for (const [name, server, resource] of rejected) {
    it(`rejects ${name} with resource_mismatch`, () => {
      expect(thrown(() => validateProtectedResourceMetadata(prm({ resource }), new URL(server))).code).toBe(
        'resource_mismatch',
      );
    });
  }

  const invalid: Array<[string, Record<string, unknown>]> = [
    ['no resource', { resource: undefined }],
    ['a numeric resource', { resource: 42 }],
    ['a string authorization_servers', { authorization_servers: AUTH }],
    ['a non-string authorization_servers entry', { authorization_servers: [AUTH, 7] }],
    ['an object scopes_supported', { scopes_supported: { read: true } }],
    ['a non-string scope', { scopes_supported: ['read', null] }],
    ['a string bearer_methods_supported', { bearer_methods_supported: 'header' }],
    ['a numeric resource_name', { resource_name: 1 }],
    ['a string dpop_bound_access_tokens_required', { dpop_bound_access_tokens_required: 'true' }],
  ];
  for (const [name, overrides] of invalid) {
    it(`rejects ${name} with metadata_invalid`, () => {
      const error = thrown(() => validateProtectedResourceMetadata(prm(overrides), SERVER));
      expect(error.code).toBe('metadata_invalid');
      expect(error.message).toMatch(/^protected resource metadata "\w+" must be/);
    });
  }

  it('rejects an unsafe jwks_uri', () => {
    expect(
      thrown(() =>
        validateProtectedResourceMetadata(prm({ jwks_uri: 'http://mcp.example.com/jwks' }), SERVER),
      ).code,
    ).toBe('unsafe_url');
  });
});

describe('validateAuthorizationServerMetadata', () => {
  const options = { expectedIssuer: AUTH, allowLoopbackHttp: false };

  it('returns the document with its fields', () => {
    const metadata = validateAuthorizationServerMetadata(asMetadata(AUTH, { custom: 'kept' }), options);
    expect(metadata.issuer).toBe(AUTH);
    expect(metadata.token_endpoint).toBe(`${AUTH}/token`);
    expect(metadata.custom).toBe('kept');
  });

  it('rejects the attacker document claiming the honest issuer (MCP 2026-07-28 example)', () => {
    const error = thrown(() =>
      validateAuthorizationServerMetadata(asMetadata('https://honest.example'), {
        expectedIssuer: 'https://attacker.example',
        allowLoopbackHttp: false,
      }),
    );
    expect(error.code).toBe('issuer_mismatch');
  });

  it('treats a trailing-slash difference as a mismatch', () => {
    expect(thrown(() => validateAuthorizationServerMetadata(asMetadata(`${AUTH}/`), options)).code).toBe(
      'issuer_mismatch',
    );
    expect(
      thrown(() =>
        validateAuthorizationServerMetadata(asMetadata(AUTH), { ...options, expectedIssuer: `${AUTH}/` }),
      ).code,
    ).toBe('issuer_mismatch');
  });

  it('treats a case difference as a mismatch', () => {
    expect(
      thrown(() => validateAuthorizationServerMetadata(asMetadata('https://AUTH.example.com'), options)).code,
    ).toBe('issuer_mismatch');
  });

  const unsafe = [
    'authorization_endpoint',
    'token_endpoint',
    'registration_endpoint',
    'revocation_endpoint',
    'introspection_endpoint',
    'jwks_uri',
  ];
  for (const field of unsafe) {
    it(`rejects an http ${field} with unsafe_url`, () => {
      const error = thrown(() =>
        validateAuthorizationServerMetadata(
          asMetadata(AUTH, { [field]: 'http://auth.example.com/x' }),
          options,
        ),
      );
      expect(error.code).toBe('unsafe_url');
      expect(error.message).toContain(`"${field}"`);
    });
  }

  it('allows http loopback endpoints only when allowed', () => {
    const document = asMetadata('http://127.0.0.1:9000');
    expect(
      validateAuthorizationServerMetadata(document, {
        expectedIssuer: 'http://127.0.0.1:9000',
        allowLoopbackHttp: true,
      }).token_endpoint,
    ).toBe('http://127.0.0.1:9000/token');
    expect(
      thrown(() =>
        validateAuthorizationServerMetadata(document, {
          expectedIssuer: 'http://127.0.0.1:9000',
          allowLoopbackHttp: false,
        }),
      ).code,
    ).toBe('unsafe_url');
  });

  const invalid: Array<[string, Record<string, unknown>]> = [
    ['no issuer', { issuer: undefined }],
    ['a numeric issuer', { issuer: 1 }],
    ['a numeric token_endpoint', { token_endpoint: 5 }],
    ['a string grant_types_supported', { grant_types_supported: 'authorization_code' }],
    [
      'a non-string code_challenge_methods_supported entry',
      { code_challenge_methods_supported: ['S256', 1] },
    ],
    ['a string scopes_supported', { scopes_supported: 'openid' }],
    [
      'a string authorization_response_iss_parameter_supported',
      { authorization_response_iss_parameter_supported: 'yes' },
    ],
    ['a numeric client_id_metadata_document_supported', { client_id_metadata_document_supported: 1 }],
  ];
  for (const [name, overrides] of invalid) {
    it(`rejects ${name} with metadata_invalid`, () => {
      const document = { ...asMetadata(), ...overrides };
      if ('issuer' in overrides && overrides.issuer === undefined) delete document.issuer;
      expect(thrown(() => validateAuthorizationServerMetadata(document, options)).code).toBe(
        'metadata_invalid',
      );
    });
  }

  it('warns when response_types_supported lacks code', () => {
    const { logger, events } = setup();
    validateAuthorizationServerMetadata(asMetadata(AUTH, { response_types_supported: ['token'] }), {
      ...options,
      logger,
    });
    expect(events).toEqual([
      { level: 'warn', event: 'discovery.response_type_code_missing', data: { issuer: AUTH } },
    ]);
  });
});

describe('discoverAuthorizationServerMetadata', () => {
  it('tries the three URLs for an issuer with a path, in the 2026-07-28 order', async () => {
    const { fake, context } = setup();
    const found = await discoverAuthorizationServerMetadata(context, {
      issuer: 'https://auth.example.com/tenant1',
      allowLoopbackHttp: false,
    });
    expect(found).toBeUndefined();
    expect(fake.log).toEqual([
      'GET https://auth.example.com/.well-known/oauth-authorization-server/tenant1',
      'GET https://auth.example.com/.well-known/openid-configuration/tenant1',
      'GET https://auth.example.com/tenant1/.well-known/openid-configuration',
    ]);
    expect(fake.requests.every((request) => request.headers.accept === 'application/json')).toBe(true);
  });

  it('finds an issuer with a path at the appended OpenID URL', async () => {
    const { fake, context } = setup();
    const issuer = 'https://auth.example.com/tenant1';
    fake.json('GET', 'https://auth.example.com/tenant1/.well-known/openid-configuration', asMetadata(issuer));
    const found = await discoverAuthorizationServerMetadata(context, { issuer, allowLoopbackHttp: false });
    expect(found?.source).toBe('openid');
    expect(found?.issuer).toBe(issuer);
    expect(fake.log).toHaveLength(3);
  });

  it('tries the two URLs for an issuer without a path: oauth 404, then openid works', async () => {
    const { fake, context, events } = setup();
    fake.json('GET', AUTH_OPENID, asMetadata());
    const found = await discoverAuthorizationServerMetadata(context, {
      issuer: AUTH,
      allowLoopbackHttp: false,
    });
    expect(found).toEqual({ issuer: AUTH, metadata: asMetadata(), source: 'openid' });
    expect(fake.log).toEqual([`GET ${AUTH_OAUTH}`, `GET ${AUTH_OPENID}`]);
    expect(events).toContainEqual({
      level: 'debug',
      event: 'discovery.as.found',
      data: { url: AUTH_OPENID, issuer: AUTH, source: 'openid' },
    });
  });

  it('records source oauth and stops at the first URL that works', async () => {
    const { fake, context } = setup();
    fake.json('GET', AUTH_OAUTH, asMetadata());
    fake.json('GET', AUTH_OPENID, asMetadata());
    const found = await discoverAuthorizationServerMetadata(context, {
      issuer: AUTH,
      allowLoopbackHttp: false,
    });
    expect(found?.source).toBe('oauth');
    expect(fake.log).toEqual([`GET ${AUTH_OAUTH}`]);
  });

  it('stops at a document whose issuer differs and does not try the next URL', async () => {
    const { fake, context } = setup();
    fake.json(
      'GET',
      'https://attacker.example/.well-known/oauth-authorization-server',
      asMetadata('https://honest.example'),
    );
    fake.json(
      'GET',
      'https://attacker.example/.well-known/openid-configuration',
      asMetadata('https://attacker.example'),
    );
    const error = await caught(
      discoverAuthorizationServerMetadata(context, {
        issuer: 'https://attacker.example',
        allowLoopbackHttp: false,
      }),
    );
    expect(error.code).toBe('issuer_mismatch');
    expect(fake.log).toEqual(['GET https://attacker.example/.well-known/oauth-authorization-server']);
  });

  it('with allowIssuerMismatch, warns and keeps the expected issuer as the binding issuer', async () => {
    const { fake, context, events } = setup();
    fake.json('GET', AUTH_OAUTH, asMetadata(`${AUTH}/`));
    const found = await discoverAuthorizationServerMetadata(context, {
      issuer: AUTH,
      allowLoopbackHttp: false,
      allowIssuerMismatch: true,
    });
    expect(found?.issuer).toBe(AUTH);
    expect(found?.metadata.issuer).toBe(`${AUTH}/`);
    expect(events).toContainEqual({
      level: 'warn',
      event: 'discovery.issuer_mismatch_allowed',
      data: { expected: AUTH, actual: `${AUTH}/` },
    });
  });

  it('tries the next URL after an invalid document', async () => {
    const { fake, context } = setup();
    fake.json('GET', AUTH_OAUTH, asMetadata(AUTH, { grant_types_supported: 'authorization_code' }));
    fake.json('GET', AUTH_OPENID, asMetadata());
    const found = await discoverAuthorizationServerMetadata(context, {
      issuer: AUTH,
      allowLoopbackHttp: false,
    });
    expect(found?.source).toBe('openid');
    expect(fake.log).toEqual([`GET ${AUTH_OAUTH}`, `GET ${AUTH_OPENID}`]);
  });

  it('stops at an unsafe endpoint in a document', async () => {
    const { fake, context } = setup();
    fake.json('GET', AUTH_OAUTH, asMetadata(AUTH, { token_endpoint: 'http://auth.example.com/token' }));
    fake.json('GET', AUTH_OPENID, asMetadata());
    const error = await caught(
      discoverAuthorizationServerMetadata(context, { issuer: AUTH, allowLoopbackHttp: false }),
    );
    expect(error.code).toBe('unsafe_url');
    expect(fake.log).toEqual([`GET ${AUTH_OAUTH}`]);
  });

  it('fails with discovery_failed when a URL failed and the rest were absent', async () => {
    const { fake, context } = setup();
    fake.on('GET', AUTH_OAUTH, { status: 500 });
    const error = await caught(
      discoverAuthorizationServerMetadata(context, { issuer: AUTH, allowLoopbackHttp: false }),
    );
    expect(error.code).toBe('discovery_failed');
    expect(error.cause?.code).toBe('http_error');
    expect(fake.log).toEqual([`GET ${AUTH_OAUTH}`, `GET ${AUTH_OPENID}`]);
  });

  it('follows a same-origin redirect for metadata', async () => {
    const { fake, context } = setup();
    fake.on('GET', AUTH_OAUTH, { status: 307, headers: { location: '/meta/as.json' } });
    fake.json('GET', 'https://auth.example.com/meta/as.json', asMetadata());
    const found = await discoverAuthorizationServerMetadata(context, {
      issuer: AUTH,
      allowLoopbackHttp: false,
    });
    expect(found?.source).toBe('oauth');
    expect(fake.log).toEqual([`GET ${AUTH_OAUTH}`, 'GET https://auth.example.com/meta/as.json']);
  });

  it('refuses a cross-origin redirect for metadata', async () => {
    const { fake, context } = setup();
    fake.on('GET', AUTH_OAUTH, { status: 302, headers: { location: 'https://evil.example/as.json' } });
    fake.json('GET', 'https://evil.example/as.json', asMetadata());
    const error = await caught(
      discoverAuthorizationServerMetadata(context, { issuer: AUTH, allowLoopbackHttp: false }),
    );
    expect(error.code).toBe('discovery_failed');
    expect(error.cause?.code).toBe('redirect_not_allowed');
    expect(fake.log).toEqual([`GET ${AUTH_OAUTH}`, `GET ${AUTH_OPENID}`]);
  });

  it('refuses an unsafe issuer without sending anything', async () => {
    for (const [issuer, code] of [
      ['http://auth.example.com', 'unsafe_url'],
      ['https://169.254.169.254', 'unsafe_url'],
      ['https://auth.example.com?x=1', 'metadata_invalid'],
    ] as const) {
      const { fake, context } = setup();
      const error = await caught(
        discoverAuthorizationServerMetadata(context, { issuer, allowLoopbackHttp: false }),
      );
      expect(error.code).toBe(code);
      expect(fake.log).toEqual([]);
    }
  });
});

describe('assertPkceSupport', () => {
  const base: AuthorizationServerMetadata = { issuer: AUTH };

  it('accepts S256 among other methods', () => {
    const { logger, events } = setup();
    assertPkceSupport(
      { ...base, code_challenge_methods_supported: ['plain', 'S256'] },
      { allowMissing: false, logger },
    );
    expect(events).toEqual([]);
  });

  it('refuses absent metadata unless allowed', () => {
    const { logger, events } = setup();
    expect(thrown(() => assertPkceSupport(base, { allowMissing: false, logger })).code).toBe(
      'pkce_unsupported',
    );
    assertPkceSupport(base, { allowMissing: true, logger });
    expect(events).toEqual([
      { level: 'warn', event: 'discovery.pkce_metadata_missing', data: { issuer: AUTH } },
    ]);
  });

  it('refuses a list without S256 even when missing metadata is allowed', () => {
    const { logger } = setup();
    for (const methods of [['plain'], []]) {
      for (const allowMissing of [false, true]) {
        expect(
          thrown(() =>
            assertPkceSupport(
              { ...base, code_challenge_methods_supported: methods },
              { allowMissing, logger },
            ),
          ).code,
        ).toBe('pkce_unsupported');
      }
    }
  });
});

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
