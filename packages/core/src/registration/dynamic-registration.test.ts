import { describe, expect, it } from 'vitest';
import {
  AUTH_CODE_GRANTS,
  caught,
  caughtSync,
  expectNoSecret,
  HTTPS_REDIRECT,
  ISSUER,
  input,
  jsonBody,
  LOOPBACK_REDIRECT,
  NOW_SECONDS,
  REGISTRATION_ENDPOINT,
  serverMetadata,
  setup,
} from '../test-utils/registration.js';
import type { TokenEndpointAuthMethod } from '../types.js';
import type { ClientOptions } from './client-options.js';
import { buildRegistrationRequest } from './dynamic-registration.js';
import { resolveClient } from './resolve-client.js';

describe('resolveClient: 4. Dynamic Client Registration', () => {
  it('POSTs the exact JSON request for a native (loopback) client and stores the result', async () => {
    const { http, context, store, logs } = setup();
    http.json(
      'POST',
      REGISTRATION_ENDPOINT,
      {
        client_id: 'dyn-1',
        client_id_issued_at: NOW_SECONDS,
        redirect_uris: [LOOPBACK_REDIRECT],
        token_endpoint_auth_method: 'none',
        registration_access_token: 'rat-SECRET',
        registration_client_uri: 'https://auth.example/register/dyn-1',
      },
      201,
    );
    const info = await resolveClient(
      context,
      input(store, {
        metadata: serverMetadata({ token_endpoint_auth_methods_supported: ['none', 'client_secret_basic'] }),
      }),
    );
    expect(http.requests).toHaveLength(1);
    const request = http.requests[0]!;
    expect(request.method).toBe('POST');
    expect(request.url).toBe(REGISTRATION_ENDPOINT);
    expect(request.headers).toEqual({ 'content-type': 'application/json', accept: 'application/json' });
    expect(jsonBody(http)).toEqual({
      client_name: 'MCP client',
      redirect_uris: [LOOPBACK_REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      application_type: 'native',
    });
    expect(info).toEqual({
      issuer: ISSUER,
      clientId: 'dyn-1',
      tokenEndpointAuthMethod: 'none',
      redirectUris: [LOOPBACK_REDIRECT],
      grantTypes: ['authorization_code', 'refresh_token'],
      source: 'dynamic',
      registrationAccessToken: 'rat-SECRET',
      registrationClientUri: 'https://auth.example/register/dyn-1',
    });
    expect(await store.get(ISSUER)).toEqual(info);
    expect(logs).toContainEqual({
      level: 'debug',
      event: 'registration.dynamic',
      data: { issuer: ISSUER, client_id: 'dyn-1' },
    });
    expect(JSON.stringify(logs)).not.toContain('SECRET');
  });

  it('registers a web client for https redirect URIs, with every optional field', async () => {
    const { http, context, store } = setup();
    http.json('POST', REGISTRATION_ENDPOINT, { client_id: 'web-1' }, 201);
    await resolveClient(
      context,
      input(store, {
        client: {
          clientName: 'Acme Agent',
          redirectUris: [HTTPS_REDIRECT],
          clientUri: 'https://app.example',
          logoUri: 'https://app.example/logo.png',
          softwareId: 'acme-agent',
          softwareVersion: '1.2.3',
          extraMetadata: { contacts: ['ops@app.example'], scope: 'mcp' },
        },
      }),
    );
    expect(jsonBody(http)).toEqual({
      contacts: ['ops@app.example'],
      scope: 'mcp',
      client_name: 'Acme Agent',
      redirect_uris: [HTTPS_REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      application_type: 'web',
      client_uri: 'https://app.example',
      logo_uri: 'https://app.example/logo.png',
      software_id: 'acme-agent',
      software_version: '1.2.3',
    });
  });

  it('registers a client_credentials-only client without redirect URIs, and with no response type', async () => {
    const { http, context, store } = setup();
    http.json(
      'POST',
      REGISTRATION_ENDPOINT,
      { client_id: 'machine', client_secret: 'SECRET-value', client_secret_expires_at: 0 },
      201,
    );
    const info = await resolveClient(
      context,
      input(store, { client: { redirectUris: [LOOPBACK_REDIRECT] }, grantTypes: ['client_credentials'] }),
    );
    expect(jsonBody(http)).toEqual({
      client_name: 'MCP client',
      grant_types: ['client_credentials'],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_basic',
      application_type: 'web',
    });
    expect(info).toEqual({
      issuer: ISSUER,
      clientId: 'machine',
      clientSecret: 'SECRET-value',
      clientSecretExpiresAt: 0,
      tokenEndpointAuthMethod: 'client_secret_basic',
      redirectUris: [],
      grantTypes: ['client_credentials'],
      source: 'dynamic',
    });
    // A stored client_credentials client needs no redirect URIs to be reused.
    expect(
      (await resolveClient(context, input(store, { client: {}, grantTypes: ['client_credentials'] })))
        .clientId,
    ).toBe('machine');
    expect(http.requests).toHaveLength(1);
  });

  it('follows a same-origin 307 and refuses a cross-origin redirect', async () => {
    const same = setup();
    same.http.on('POST', REGISTRATION_ENDPOINT, { status: 307, headers: { location: '/v2/register' } });
    same.http.json('POST', 'https://auth.example/v2/register', { client_id: 'moved' }, 201);
    expect((await resolveClient(same.context, input(same.store))).clientId).toBe('moved');
    expect(
      same.http.requests.map((request) => [request.method, request.url, request.body !== undefined]),
    ).toEqual([
      ['POST', REGISTRATION_ENDPOINT, true],
      ['POST', 'https://auth.example/v2/register', true],
    ]);

    const cross = setup();
    cross.http.on('POST', REGISTRATION_ENDPOINT, {
      status: 307,
      headers: { location: 'https://evil.example/register' },
    });
    const error = await caught(resolveClient(cross.context, input(cross.store)));
    expect(error.code).toBe('redirect_not_allowed');
    expect(cross.http.log).toEqual([`POST ${REGISTRATION_ENDPOINT}`]);
    expect(await cross.store.get(ISSUER)).toBeUndefined();
  });

  it('refuses an unsafe registration_endpoint before sending anything', async () => {
    const { http, context, store } = setup();
    const error = await caught(
      resolveClient(
        context,
        input(store, { metadata: serverMetadata({ registration_endpoint: 'http://auth.example/register' }) }),
      ),
    );
    expect(error.code).toBe('unsafe_url');
    expect(http.requests).toHaveLength(0);
  });

  it('allows an http registration_endpoint on loopback when the issuer is loopback http', async () => {
    const { http, context, store } = setup();
    const issuer = 'http://127.0.0.1:9000';
    http.json('POST', 'http://127.0.0.1:9000/register', { client_id: 'local' }, 201);
    const info = await resolveClient(context, input(store, { issuer, metadata: serverMetadata({}, issuer) }));
    expect(info.clientId).toBe('local');

    const https = setup();
    const error = await caught(
      resolveClient(
        https.context,
        input(https.store, {
          metadata: serverMetadata({ registration_endpoint: 'http://127.0.0.1:9000/register' }),
        }),
      ),
    );
    expect(error.code).toBe('unsafe_url');
  });

  it('does not store anything when registration fails', async () => {
    const { http, context, store } = setup();
    http.json('POST', REGISTRATION_ENDPOINT, { error: 'invalid_client_metadata' }, 400);
    await caught(resolveClient(context, input(store)));
    expect(await store.get(ISSUER)).toBeUndefined();
  });

  it('warns (without the secret) when client_secret_expires_at is missing and treats it as 0', async () => {
    const { http, context, store, logs } = setup();
    http.json('POST', REGISTRATION_ENDPOINT, { client_id: 'c', client_secret: 'SECRET' }, 201);
    const info = await resolveClient(
      context,
      input(store, {
        client: { redirectUris: [LOOPBACK_REDIRECT], tokenEndpointAuthMethod: 'client_secret_basic' },
      }),
    );
    expect(info.clientSecretExpiresAt).toBe(0);
    expect(logs).toContainEqual({
      level: 'warn',
      event: 'registration.secret_expiry_missing',
      data: { issuer: ISSUER },
    });
    expect(JSON.stringify(logs)).not.toContain('SECRET');
  });

  it('stops when aborted', async () => {
    const { http, context, store } = setup();
    http.json('POST', REGISTRATION_ENDPOINT, { client_id: 'c' }, 201);
    const controller = new AbortController();
    controller.abort();
    const error = await caught(resolveClient(context, input(store, { signal: controller.signal })));
    expect(error.code).toBe('aborted');
    expect(await store.get(ISSUER)).toBeUndefined();
  });
});

describe('buildRegistrationRequest', () => {
  const build = (
    client: ClientOptions,
    grantTypes: readonly string[] = AUTH_CODE_GRANTS,
    metadata = serverMetadata(),
  ) => buildRegistrationRequest({ client, grantTypes, metadata });

  it.each<[string, string[], 'native' | 'web']>([
    ['loopback only', [LOOPBACK_REDIRECT, 'http://localhost:1/cb'], 'native'],
    ['https only', [HTTPS_REDIRECT], 'web'],
    ['https on localhost', ['https://localhost:8443/cb'], 'native'],
    ['mixed loopback and https', [LOOPBACK_REDIRECT, HTTPS_REDIRECT], 'web'],
  ])('defaults application_type for %s', (_label, redirectUris, expected) => {
    expect(build({ redirectUris }).application_type).toBe(expected);
  });

  it('lets applicationType override the default', () => {
    expect(build({ redirectUris: [LOOPBACK_REDIRECT], applicationType: 'web' }).application_type).toBe('web');
    expect(build({ redirectUris: [HTTPS_REDIRECT], applicationType: 'native' }).application_type).toBe(
      'native',
    );
  });

  it('sends the grant types as given', () => {
    expect(build({ redirectUris: [LOOPBACK_REDIRECT] }, ['authorization_code']).grant_types).toEqual([
      'authorization_code',
    ]);
  });

  it('registers jwks for private_key_jwt', () => {
    const key = { kty: 'EC', crv: 'P-256', x: 'x', y: 'y' };
    const body = build({ redirectUris: [LOOPBACK_REDIRECT], jwks: { keys: [key] } });
    expect(body.token_endpoint_auth_method).toBe('private_key_jwt');
    expect(body.jwks).toEqual({ keys: [key] });
    expect(body).not.toHaveProperty('jwks_uri');

    const byUri = build({ redirectUris: [LOOPBACK_REDIRECT], jwksUri: 'https://app.example/jwks.json' }, [
      'client_credentials',
    ]);
    expect(byUri).toMatchObject({
      token_endpoint_auth_method: 'private_key_jwt',
      jwks_uri: 'https://app.example/jwks.json',
    });
  });

  it.each<[string, ClientOptions]>([
    ['a private key in jwks', { jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', d: 'SECRET' }] } }],
    ['a symmetric key in jwks', { jwks: { keys: [{ kty: 'oct', k: 'SECRET' }] } }],
    ['both jwks and jwksUri', { jwks: { keys: [{ kty: 'EC' }] }, jwksUri: 'https://app.example/jwks.json' }],
    ['an http jwksUri', { jwksUri: 'http://app.example/jwks.json' }],
    ['an empty jwks', { jwks: { keys: [] } }],
    [
      'extraMetadata setting redirect_uris',
      { extraMetadata: { redirect_uris: ['https://evil.example/cb'] } },
    ],
    [
      'extraMetadata setting token_endpoint_auth_method',
      { extraMetadata: { token_endpoint_auth_method: 'none' } },
    ],
    ['extraMetadata setting application_type', { extraMetadata: { application_type: 'web' } }],
    ['an unknown auth method', { tokenEndpointAuthMethod: 'tls_client_auth' as TokenEndpointAuthMethod }],
    ['private_key_jwt without a key', { tokenEndpointAuthMethod: 'private_key_jwt' }],
    ['an empty client name', { clientName: '' }],
    ['a relative clientUri', { clientUri: '/about' }],
  ])('refuses %s', (_label, options) => {
    const error = caughtSync(() => build({ redirectUris: [LOOPBACK_REDIRECT], ...options }));
    expect(error.code).toBe('invalid_options');
    expectNoSecret(error);
  });

  it('keeps a "__proto__" key of extraMetadata as plain data', () => {
    const extraMetadata = JSON.parse(
      '{"__proto__": {"polluted": true}, "tos_uri": "https://app.example/tos"}',
    );
    const body = build({ redirectUris: [LOOPBACK_REDIRECT], extraMetadata });
    expect(Object.getPrototypeOf(body)).toBe(Object.prototype);
    expect((body as { polluted?: unknown }).polluted).toBeUndefined();
    expect(JSON.parse(JSON.stringify(body)).tos_uri).toBe('https://app.example/tos');
  });

  it('refuses extraMetadata that is not JSON-serialisable (before sending)', async () => {
    const { http, context, store } = setup();
    const error = await caught(
      resolveClient(
        context,
        input(store, { client: { redirectUris: [LOOPBACK_REDIRECT], extraMetadata: { n: 1n } } }),
      ),
    );
    expect(error.code).toBe('invalid_options');
    expect(http.requests).toHaveLength(0);
  });
});
