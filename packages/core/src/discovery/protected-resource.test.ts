import { describe, expect, it } from 'vitest';
import {
  AUTH,
  CHALLENGE,
  caught,
  PRM_INSERTED,
  PRM_ROOT,
  prm,
  SERVER,
  setup,
  thrown,
} from '../test-utils/discovery.js';
import { discoverProtectedResource, validateProtectedResourceMetadata } from './protected-resource.js';

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
