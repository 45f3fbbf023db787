import { describe, expect, it } from 'vitest';
import { AUTH, AUTH_OAUTH, AUTH_OPENID, asMetadata, caught, setup, thrown } from '../test-utils/discovery.js';
import type { AuthorizationServerMetadata } from '../types.js';
import {
  assertPkceSupport,
  discoverAuthorizationServerMetadata,
  validateAuthorizationServerMetadata,
} from './authorization-server.js';

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
    // Once, with what was learned (it was logged a second time with the URL only).
    expect(events.filter((entry) => entry.event === 'discovery.as.found')).toEqual([
      {
        level: 'debug',
        event: 'discovery.as.found',
        data: { url: AUTH_OPENID, issuer: AUTH, source: 'openid' },
      },
    ]);
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
