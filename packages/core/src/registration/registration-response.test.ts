import { describe, expect, it } from 'vitest';
import {
  AUTH_CODE_GRANTS,
  caughtSync,
  expectNoSecret,
  ISSUER,
  LOOPBACK_REDIRECT,
  NOW,
  NOW_SECONDS,
} from '../test-utils/registration.js';
import { parseRegistrationResponse } from './dynamic-registration.js';

describe('parseRegistrationResponse', () => {
  const requested = {
    client_name: 'MCP client',
    redirect_uris: [LOOPBACK_REDIRECT],
    grant_types: AUTH_CODE_GRANTS,
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    application_type: 'native',
  };
  const parse = (
    body: unknown,
    status = 201,
    headers: Record<string, string> = { 'content-type': 'application/json' },
    sent: Record<string, unknown> = requested,
  ) =>
    parseRegistrationResponse(
      { status, headers, body: typeof body === 'string' ? body : JSON.stringify(body) },
      { issuer: ISSUER, requested: sent, now: NOW },
    );

  it('accepts 200 as well as 201', () => {
    expect(parse({ client_id: 'a' }, 200).clientId).toBe('a');
    expect(parse({ client_id: 'a' }, 201).clientId).toBe('a');
  });

  it('warns its logger about a secret without client_secret_expires_at, only when the response is accepted', () => {
    const warnings: Array<[string, unknown]> = [];
    const logger = { debug() {}, warn: (event: string, data: unknown) => warnings.push([event, data]) };
    const read = (body: Record<string, unknown>) =>
      parseRegistrationResponse(
        { status: 201, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
        { issuer: ISSUER, requested, now: NOW, logger },
      );
    expect(read({ client_id: 'a', client_secret: 'SECRET' }).clientSecretExpiresAt).toBe(0);
    expect(warnings).toEqual([['registration.secret_expiry_missing', { issuer: ISSUER }]]);
    expect(() =>
      read({ client_id: 'b', client_secret: 'SECRET', redirect_uris: ['https://other.example/cb'] }),
    ).toThrow();
    read({ client_id: 'c', client_secret: 'SECRET', client_secret_expires_at: 0 });
    expect(warnings).toHaveLength(1);
  });

  it('reads null optional members as absent', () => {
    expect(
      parse({ client_id: 'a', client_secret: null, registration_access_token: null, redirect_uris: null }),
    ).toEqual({
      issuer: ISSUER,
      clientId: 'a',
      tokenEndpointAuthMethod: 'none',
      redirectUris: [LOOPBACK_REDIRECT],
      grantTypes: ['authorization_code', 'refresh_token'],
      source: 'dynamic',
    });
  });

  it('uses the method the server chose when it is one this client can use', () => {
    const info = parse({
      client_id: 'a',
      client_secret: 'SECRET',
      client_secret_expires_at: NOW_SECONDS + 60,
      token_endpoint_auth_method: 'client_secret_post',
    });
    expect(info).toMatchObject({
      tokenEndpointAuthMethod: 'client_secret_post',
      clientSecret: 'SECRET',
      clientSecretExpiresAt: NOW_SECONDS + 60,
    });
  });

  it.each<[string, unknown, number, Record<string, string>]>([
    [
      'no client_id',
      { client_secret: 'SECRET', client_secret_expires_at: 0 },
      201,
      { 'content-type': 'application/json' },
    ],
    ['an empty client_id', { client_id: '' }, 201, { 'content-type': 'application/json' }],
    ['a numeric client_id', { client_id: 42 }, 201, { 'content-type': 'application/json' }],
    [
      'a numeric client_secret',
      { client_id: 'a', client_secret: 42 },
      201,
      { 'content-type': 'application/json' },
    ],
    [
      'a string client_secret_expires_at',
      { client_id: 'a', client_secret: 'SECRET', client_secret_expires_at: '0' },
      201,
      { 'content-type': 'application/json' },
    ],
    [
      'a negative client_secret_expires_at',
      { client_id: 'a', client_secret: 'SECRET', client_secret_expires_at: -1 },
      201,
      { 'content-type': 'application/json' },
    ],
    [
      'a secret that has already expired',
      { client_id: 'a', client_secret: 'SECRET', client_secret_expires_at: NOW_SECONDS - 1 },
      201,
      { 'content-type': 'application/json' },
    ],
    [
      'a string client_id_issued_at',
      { client_id: 'a', client_id_issued_at: 'now' },
      201,
      { 'content-type': 'application/json' },
    ],
    [
      'redirect_uris that are not a list',
      { client_id: 'a', redirect_uris: LOOPBACK_REDIRECT },
      201,
      { 'content-type': 'application/json' },
    ],
    [
      'redirect_uris without ours',
      { client_id: 'a', redirect_uris: ['http://127.0.0.1:1/other'] },
      201,
      { 'content-type': 'application/json' },
    ],
    [
      'an unknown token_endpoint_auth_method',
      { client_id: 'a', token_endpoint_auth_method: 'tls_client_auth' },
      201,
      { 'content-type': 'application/json' },
    ],
    [
      'client_secret_basic without a secret',
      { client_id: 'a', token_endpoint_auth_method: 'client_secret_basic' },
      201,
      { 'content-type': 'application/json' },
    ],
    [
      'private_key_jwt when no key was sent',
      { client_id: 'a', token_endpoint_auth_method: 'private_key_jwt' },
      201,
      { 'content-type': 'application/json' },
    ],
    [
      'an http registration_client_uri',
      { client_id: 'a', registration_client_uri: 'http://auth.example/r' },
      201,
      { 'content-type': 'application/json' },
    ],
    ['a body that is not JSON', 'client_id=SECRET', 201, { 'content-type': 'application/json' }],
    ['a body that is a JSON array', '["SECRET"]', 201, { 'content-type': 'application/json' }],
    ['an HTML body', '<p>SECRET</p>', 201, { 'content-type': 'text/html' }],
    ['status 204', '', 204, {}],
  ])('fails with registration_failed for %s, without leaking the body', (_label, body, status, headers) => {
    const error = caughtSync(() => parse(body, status, headers));
    expect(error.code).toBe('registration_failed');
    expect(error.status).toBe(status);
    expectNoSecret(error);
  });

  it.each([
    'https://10.0.0.8/register/a',
    'https://[::ffff:7f00:1]/register/a',
    'https://[fd00::1]/register/a',
    'https://localhost/register/a',
  ])('refuses a registration_client_uri (%s) more private than the public issuer', (uri) => {
    const error = caughtSync(() => parse({ client_id: 'a', registration_client_uri: uri }));
    expect(error.code).toBe('registration_failed');
    // The rule broken, and the option that lifts it; never the URL.
    expect(error.message).toMatch(
      /^registration response "registration_client_uri" points to .*, a more private network than the server that named it .*"allowPrivateNetworks"/,
    );
    expect(error.message).not.toContain(uri.slice(8, 14));
    const allowed = parseRegistrationResponse(
      {
        status: 201,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ client_id: 'a', registration_client_uri: uri }),
      },
      { issuer: ISSUER, requested, now: NOW, allowPrivateNetworks: true },
    );
    expect(allowed.registrationClientUri).toBe(uri);
  });

  it('names the field in the message', () => {
    expect(caughtSync(() => parse({ client_secret: 'x' })).message).toBe(
      'registration response "client_id" must be a non-empty string',
    );
  });

  it.each<[string, number, unknown, string | undefined, string]>([
    [
      'invalid_redirect_uri',
      400,
      { error: 'invalid_redirect_uri', error_description: 'see https://as.example/help?code=SECRET' },
      'invalid_redirect_uri',
      'redirect URIs',
    ],
    [
      'invalid_client_metadata',
      400,
      { error: 'invalid_client_metadata', error_description: 'bad\u0000SECRET' },
      'invalid_client_metadata',
      'client metadata',
    ],
    [
      'another error',
      400,
      { error: 'access_denied', error_description: `${'x'.repeat(300)}SECRET` },
      'access_denied',
      'HTTP status 400',
    ],
    ['a non-JSON 500', 500, 'Internal SECRET error', undefined, 'HTTP status 500'],
    [
      'an error value with illegal characters',
      400,
      { error: 'bad "SECRET"\n' },
      undefined,
      'HTTP status 400',
    ],
  ])(
    'reports %s with oauthError and status, and only a sanitized description',
    (_label, status, body, oauthError, hint) => {
      const error = caughtSync(() => parse(body, status));
      expect(error.code).toBe('registration_failed');
      expect(error.status).toBe(status);
      expect(error.oauthError).toBe(oauthError);
      expect(error.message).toContain(hint);
      expectNoSecret(error);
    },
  );

  it("shows the server's error_description, marked as its words", () => {
    const error = caughtSync(() =>
      parse(
        { error: 'invalid_client_metadata', error_description: 'grant_types not allowed for this tenant' },
        400,
      ),
    );
    expect(error.message).toContain('(the server said: "grant_types not allowed for this tenant")');
  });
});
