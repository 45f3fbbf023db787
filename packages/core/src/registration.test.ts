import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { isOAuthClientError, type OAuthClientError } from './errors.js';
import { createHttpContext, type HttpContext } from './http.js';
import type { OAuthLogger } from './logger.js';
import {
  buildRegistrationRequest,
  type ClientOptions,
  chooseTokenEndpointAuthMethod,
  forgetClient,
  parseRegistrationResponse,
  type ResolveClientInput,
  resolveClient,
} from './registration.js';
import { MemoryStore, type OAuthStore } from './stores.js';
import { FakeHttpClient } from './test-utils/fake-http.js';
import type { AuthorizationServerMetadata, ClientInformation, TokenEndpointAuthMethod } from './types.js';

const ISSUER = 'https://auth.example';
const OTHER_ISSUER = 'https://other-auth.example';
const REGISTRATION_ENDPOINT = 'https://auth.example/register';
const OTHER_REGISTRATION_ENDPOINT = 'https://other-auth.example/register';
const LOOPBACK_REDIRECT = 'http://127.0.0.1:33418/callback';
const HTTPS_REDIRECT = 'https://app.example/oauth/callback';
const METADATA_URL = 'https://app.example/oauth/client.json';
const NOW = 1_750_000_000_000;
const NOW_SECONDS = NOW / 1000;
const AUTH_CODE_GRANTS = ['authorization_code', 'refresh_token'];

function serverMetadata(
  extra: Partial<AuthorizationServerMetadata> = {},
  issuer = ISSUER,
): AuthorizationServerMetadata {
  return {
    issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/token`,
    registration_endpoint: `${issuer}/register`,
    code_challenge_methods_supported: ['S256'],
    ...extra,
  };
}

interface LogEntry {
  level: 'debug' | 'warn';
  event: string;
  data: Record<string, unknown> | undefined;
}

function setup() {
  const http = new FakeHttpClient();
  const logs: LogEntry[] = [];
  const logger: OAuthLogger = {
    debug: (event, data) => logs.push({ level: 'debug', event, data }),
    warn: (event, data) => logs.push({ level: 'warn', event, data }),
  };
  const context: HttpContext = createHttpContext(http, { logger });
  const store = new MemoryStore<ClientInformation>();
  return { http, logs, context, store };
}

function input(
  store: OAuthStore<ClientInformation>,
  overrides: Partial<ResolveClientInput> = {},
): ResolveClientInput {
  return {
    issuer: ISSUER,
    metadata: serverMetadata(),
    client: { redirectUris: [LOOPBACK_REDIRECT] },
    grantTypes: AUTH_CODE_GRANTS,
    store,
    now: NOW,
    ...overrides,
  };
}

function storedClient(overrides: Partial<ClientInformation> = {}): ClientInformation {
  return {
    issuer: ISSUER,
    clientId: 'stored-client',
    tokenEndpointAuthMethod: 'none',
    redirectUris: [LOOPBACK_REDIRECT],
    source: 'dynamic',
    ...overrides,
  };
}

async function caught(promise: Promise<unknown>): Promise<OAuthClientError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(isOAuthClientError(error)).toBe(true);
  return error as OAuthClientError;
}

function caughtSync(run: () => unknown): OAuthClientError {
  let error: unknown;
  try {
    run();
  } catch (reason) {
    error = reason;
  }
  expect(isOAuthClientError(error)).toBe(true);
  return error as OAuthClientError;
}

function expectNoSecret(error: OAuthClientError, secret = 'SECRET'): void {
  expect(error.message).not.toContain(secret);
  expect(JSON.stringify(error)).not.toContain(secret);
  expect(inspect(error, { showHidden: true, depth: 5 })).not.toContain(secret);
  expect(String(error.cause ?? '')).not.toContain(secret);
}

function jsonBody(http: FakeHttpClient, index = 0): unknown {
  const body = http.requests[index]?.body;
  expect(body).toBeDefined();
  return JSON.parse(body!);
}

// ---------------------------------------------------------------------------------------------

describe('resolveClient: 1. pre-registered credentials', () => {
  it('uses the credentials for this issuer with client_secret_basic and sends nothing', async () => {
    const { http, context, store, logs } = setup();
    const client: ClientOptions = {
      redirectUris: [LOOPBACK_REDIRECT],
      clientMetadataUrl: METADATA_URL,
      preRegistered: [
        { issuer: OTHER_ISSUER, clientId: 'other-id', clientSecret: 'other-SECRET' },
        { issuer: ISSUER, clientId: 'pre-id', clientSecret: 'pre-SECRET' },
      ],
    };
    const info = await resolveClient(
      context,
      input(store, { client, metadata: serverMetadata({ client_id_metadata_document_supported: true }) }),
    );
    expect(info).toEqual({
      issuer: ISSUER,
      clientId: 'pre-id',
      clientSecret: 'pre-SECRET',
      tokenEndpointAuthMethod: 'client_secret_basic',
      redirectUris: [LOOPBACK_REDIRECT],
      source: 'pre-registered',
    });
    expect(http.requests).toHaveLength(0);
    expect(await store.get(ISSUER)).toBeUndefined();
    expect(logs).toContainEqual({
      level: 'debug',
      event: 'registration.pre_registered',
      data: { issuer: ISSUER, client_id: 'pre-id' },
    });
    expect(JSON.stringify(logs)).not.toContain('SECRET');
  });

  it.each<[string, { clientSecret?: string; tokenEndpointAuthMethod?: TokenEndpointAuthMethod }, string]>([
    ['no secret → none', {}, 'none'],
    ['a secret → client_secret_basic', { clientSecret: 's' }, 'client_secret_basic'],
    [
      'an explicit method wins',
      { clientSecret: 's', tokenEndpointAuthMethod: 'client_secret_post' },
      'client_secret_post',
    ],
    ['private_key_jwt without a secret', { tokenEndpointAuthMethod: 'private_key_jwt' }, 'private_key_jwt'],
  ])('chooses the method: %s', async (_label, entry, expected) => {
    const { context, store } = setup();
    const info = await resolveClient(
      context,
      input(store, {
        client: {
          redirectUris: [LOOPBACK_REDIRECT],
          preRegistered: [{ issuer: ISSUER, clientId: 'id', ...entry }],
        },
      }),
    );
    expect(info.tokenEndpointAuthMethod).toBe(expected);
  });

  it('refuses client_secret_post without a secret', async () => {
    const { context, store } = setup();
    const error = await caught(
      resolveClient(
        context,
        input(store, {
          client: {
            redirectUris: [LOOPBACK_REDIRECT],
            preRegistered: [
              { issuer: ISSUER, clientId: 'id', tokenEndpointAuthMethod: 'client_secret_post' },
            ],
          },
        }),
      ),
    );
    expect(error.code).toBe('invalid_options');
  });

  it('throws client_configuration_required for credentials of another issuer and sends nothing', async () => {
    const { http, context, store } = setup();
    await store.set(ISSUER, storedClient());
    const error = await caught(
      resolveClient(
        context,
        input(store, {
          client: {
            redirectUris: [LOOPBACK_REDIRECT],
            clientMetadataUrl: METADATA_URL,
            preRegistered: [{ issuer: OTHER_ISSUER, clientId: 'other-id', clientSecret: 'SECRET' }],
          },
          metadata: serverMetadata({ client_id_metadata_document_supported: true }),
        }),
      ),
    );
    expect(error.code).toBe('client_configuration_required');
    expect(error.message).toContain('"client.preRegistered" has no client for https://auth.example');
    expectNoSecret(error);
    expect(http.requests).toHaveLength(0);
  });

  it('compares issuers exactly (a trailing slash is another issuer)', async () => {
    const { http, context, store } = setup();
    const error = await caught(
      resolveClient(
        context,
        input(store, {
          client: {
            redirectUris: [LOOPBACK_REDIRECT],
            preRegistered: [{ issuer: `${ISSUER}/`, clientId: 'id' }],
          },
        }),
      ),
    );
    expect(error.code).toBe('client_configuration_required');
    expect(http.requests).toHaveLength(0);
  });

  it('refuses two pre-registered clients for the same issuer', async () => {
    const { context, store } = setup();
    const error = await caught(
      resolveClient(
        context,
        input(store, {
          client: {
            redirectUris: [LOOPBACK_REDIRECT],
            preRegistered: [
              { issuer: ISSUER, clientId: 'a' },
              { issuer: ISSUER, clientId: 'b' },
            ],
          },
        }),
      ),
    );
    expect(error.code).toBe('invalid_options');
  });

  it('an empty preRegistered list does not block the other mechanisms', async () => {
    const { http, context, store } = setup();
    http.json('POST', REGISTRATION_ENDPOINT, { client_id: 'dyn' }, 201);
    const info = await resolveClient(
      context,
      input(store, { client: { redirectUris: [LOOPBACK_REDIRECT], preRegistered: [] } }),
    );
    expect(info.clientId).toBe('dyn');
  });
});

describe('resolveClient: 2. stored registrations', () => {
  it('reuses the stored registration for this issuer with zero requests', async () => {
    const { http, context, store, logs } = setup();
    const stored = storedClient({
      clientSecret: 'SECRET',
      clientSecretExpiresAt: 0,
      tokenEndpointAuthMethod: 'client_secret_basic',
    });
    await store.set(ISSUER, stored);
    http.json('POST', REGISTRATION_ENDPOINT, { client_id: 'fresh' }, 201);
    const info = await resolveClient(context, input(store));
    expect(info).toEqual(stored);
    expect(http.requests).toHaveLength(0);
    expect(logs).toContainEqual({
      level: 'debug',
      event: 'registration.reused',
      data: { issuer: ISSUER, client_id: 'stored-client' },
    });
    expect(JSON.stringify(logs)).not.toContain('SECRET');
  });

  it('is preferred to a metadata document (the client keeps its client_id)', async () => {
    const { http, context, store } = setup();
    await store.set(ISSUER, storedClient());
    const info = await resolveClient(
      context,
      input(store, {
        client: { redirectUris: [LOOPBACK_REDIRECT], clientMetadataUrl: METADATA_URL },
        metadata: serverMetadata({ client_id_metadata_document_supported: true }),
      }),
    );
    expect(info.clientId).toBe('stored-client');
    expect(http.requests).toHaveLength(0);
  });

  it('keeps registrations of two issuers apart', async () => {
    const { http, context, store } = setup();
    http.json('POST', REGISTRATION_ENDPOINT, { client_id: 'id-at-auth' }, 201);
    http.json('POST', OTHER_REGISTRATION_ENDPOINT, { client_id: 'id-at-other' }, 201);

    const first = await resolveClient(context, input(store));
    const second = await resolveClient(
      context,
      input(store, { issuer: OTHER_ISSUER, metadata: serverMetadata({}, OTHER_ISSUER) }),
    );
    expect(http.log).toEqual([`POST ${REGISTRATION_ENDPOINT}`, `POST ${OTHER_REGISTRATION_ENDPOINT}`]);
    expect(first).toMatchObject({ issuer: ISSUER, clientId: 'id-at-auth' });
    expect(second).toMatchObject({ issuer: OTHER_ISSUER, clientId: 'id-at-other' });
    expect(await store.get(ISSUER)).toMatchObject({ issuer: ISSUER, clientId: 'id-at-auth' });
    expect(await store.get(OTHER_ISSUER)).toMatchObject({ issuer: OTHER_ISSUER, clientId: 'id-at-other' });

    // Each issuer now reuses its own registration, never the other's.
    expect((await resolveClient(context, input(store))).clientId).toBe('id-at-auth');
    expect(
      (
        await resolveClient(
          context,
          input(store, { issuer: OTHER_ISSUER, metadata: serverMetadata({}, OTHER_ISSUER) }),
        )
      ).clientId,
    ).toBe('id-at-other');
    expect(http.requests).toHaveLength(2);
  });

  it('does not reuse a record of another issuer that sits under this key', async () => {
    const { http, context, store } = setup();
    await store.set(ISSUER, storedClient({ issuer: OTHER_ISSUER, clientId: 'foreign' }));
    http.json('POST', REGISTRATION_ENDPOINT, { client_id: 'fresh' }, 201);
    const info = await resolveClient(context, input(store));
    expect(info.clientId).toBe('fresh');
    expect(await store.get(ISSUER)).toMatchObject({ issuer: ISSUER, clientId: 'fresh' });
  });

  it.each([
    ['expired a while ago', NOW_SECONDS - 3600],
    ['expiring exactly now', NOW_SECONDS],
  ])('registers again when the secret has %s', async (_label, expiresAt) => {
    const { http, context, store } = setup();
    await store.set(
      ISSUER,
      storedClient({
        clientSecret: 'old',
        clientSecretExpiresAt: expiresAt,
        tokenEndpointAuthMethod: 'client_secret_basic',
      }),
    );
    http.json(
      'POST',
      REGISTRATION_ENDPOINT,
      { client_id: 'renewed', client_secret: 'new', client_secret_expires_at: NOW_SECONDS + 86400 },
      201,
    );
    const info = await resolveClient(context, input(store));
    expect(http.requests).toHaveLength(1);
    expect(info).toMatchObject({
      clientId: 'renewed',
      clientSecret: 'new',
      clientSecretExpiresAt: NOW_SECONDS + 86400,
    });
    expect(await store.get(ISSUER)).toEqual(info);
  });

  it.each([
    ['does not expire (0)', 0],
    ['expires in one second', NOW_SECONDS + 1],
  ])('reuses a secret that %s', async (_label, expiresAt) => {
    const { http, context, store } = setup();
    await store.set(ISSUER, storedClient({ clientSecret: 's', clientSecretExpiresAt: expiresAt }));
    const info = await resolveClient(context, input(store));
    expect(info.clientId).toBe('stored-client');
    expect(http.requests).toHaveLength(0);
  });

  it('registers again when the configured redirect URIs are no longer covered', async () => {
    const { http, context, store } = setup();
    await store.set(ISSUER, storedClient({ redirectUris: ['http://127.0.0.1:1/old'] }));
    http.json('POST', REGISTRATION_ENDPOINT, { client_id: 'fresh' }, 201);
    const info = await resolveClient(context, input(store));
    expect(info.clientId).toBe('fresh');
    expect(info.redirectUris).toEqual([LOOPBACK_REDIRECT]);
  });

  it('reuses a registration whose loopback redirect URI only differs by port (RFC 8252 §7.3)', async () => {
    const { http, context, store } = setup();
    await store.set(ISSUER, storedClient({ redirectUris: ['http://127.0.0.1:50123/callback'] }));
    const info = await resolveClient(context, input(store));
    expect(info.clientId).toBe('stored-client');
    expect(http.requests).toHaveLength(0);
  });

  it('registers again when an https redirect URI differs by port', async () => {
    const { http, context, store } = setup();
    await store.set(ISSUER, storedClient({ redirectUris: ['https://app.example:8443/oauth/callback'] }));
    http.json('POST', REGISTRATION_ENDPOINT, { client_id: 'fresh' }, 201);
    const info = await resolveClient(context, input(store, { client: { redirectUris: [HTTPS_REDIRECT] } }));
    expect(info.clientId).toBe('fresh');
  });

  it.each<[string, unknown]>([
    ['a pre-registered record', storedClient({ source: 'pre-registered' })],
    ['a record without client id', { ...storedClient(), clientId: '' }],
    ['a record with an unknown method', { ...storedClient(), tokenEndpointAuthMethod: 'tls_client_auth' }],
    ['a record without redirect URIs', { ...storedClient(), redirectUris: 'nope' }],
  ])('does not reuse %s', async (_label, record) => {
    const { http, context, store } = setup();
    await store.set(ISSUER, record as ClientInformation);
    http.json('POST', REGISTRATION_ENDPOINT, { client_id: 'fresh' }, 201);
    expect((await resolveClient(context, input(store))).clientId).toBe('fresh');
  });

  it('forgetClient drops the registration so the next call registers again', async () => {
    const { http, context, store } = setup();
    await store.set(ISSUER, storedClient());
    await store.set(OTHER_ISSUER, storedClient({ issuer: OTHER_ISSUER }));
    await forgetClient(store, ISSUER);
    expect(await store.get(ISSUER)).toBeUndefined();
    expect(await store.get(OTHER_ISSUER)).toBeDefined();
    http.json('POST', REGISTRATION_ENDPOINT, { client_id: 'fresh' }, 201);
    expect((await resolveClient(context, input(store))).clientId).toBe('fresh');
  });

  it('reports a failing store as store_failed without its message', async () => {
    const { context } = setup();
    const broken: OAuthStore<ClientInformation> = {
      get: async () => {
        throw new Error('connection string with SECRET');
      },
      set: async () => {},
      delete: async () => {
        throw new Error('SECRET');
      },
    };
    const error = await caught(resolveClient(context, input(broken)));
    expect(error.code).toBe('store_failed');
    expectNoSecret(error);
    expect((await caught(forgetClient(broken, ISSUER))).code).toBe('store_failed');
  });
});

describe('resolveClient: 3. Client ID Metadata Documents', () => {
  it('uses the metadata URL as client_id when the server supports CIMD, before DCR, storing nothing', async () => {
    const { http, context, store, logs } = setup();
    const info = await resolveClient(
      context,
      input(store, {
        client: { redirectUris: [LOOPBACK_REDIRECT], clientMetadataUrl: METADATA_URL },
        metadata: serverMetadata({ client_id_metadata_document_supported: true }),
      }),
    );
    expect(info).toEqual({
      issuer: ISSUER,
      clientId: METADATA_URL,
      tokenEndpointAuthMethod: 'none',
      redirectUris: [LOOPBACK_REDIRECT],
      source: 'metadata-document',
    });
    expect(http.requests).toHaveLength(0);
    expect(await store.get(ISSUER)).toBeUndefined();
    expect(logs.map((entry) => entry.event)).toContain('registration.metadata_document');
  });

  it('uses private_key_jwt when the options ask for it', async () => {
    const { context, store } = setup();
    const info = await resolveClient(
      context,
      input(store, {
        client: {
          redirectUris: [LOOPBACK_REDIRECT],
          clientMetadataUrl: METADATA_URL,
          tokenEndpointAuthMethod: 'private_key_jwt',
          jwksUri: 'https://app.example/jwks.json',
        },
        metadata: serverMetadata({ client_id_metadata_document_supported: true }),
      }),
    );
    expect(info.tokenEndpointAuthMethod).toBe('private_key_jwt');
  });

  it.each<[string, unknown]>([
    ['absent', undefined],
    ['false', false],
    ['the string "true"', 'true'],
  ])('falls back to DCR when client_id_metadata_document_supported is %s', async (_label, flag) => {
    const { http, context, store } = setup();
    http.json('POST', REGISTRATION_ENDPOINT, { client_id: 'dyn' }, 201);
    const info = await resolveClient(
      context,
      input(store, {
        client: { redirectUris: [LOOPBACK_REDIRECT], clientMetadataUrl: METADATA_URL },
        metadata: serverMetadata(
          flag === undefined ? {} : { client_id_metadata_document_supported: flag as boolean },
        ),
      }),
    );
    expect(info).toMatchObject({ clientId: 'dyn', source: 'dynamic' });
    expect(http.log).toEqual([`POST ${REGISTRATION_ENDPOINT}`]);
  });

  it('does not use a public metadata-document client for client_credentials', async () => {
    const { http, context, store } = setup();
    http.json(
      'POST',
      REGISTRATION_ENDPOINT,
      { client_id: 'machine', client_secret: 's', client_secret_expires_at: 0 },
      201,
    );
    const info = await resolveClient(
      context,
      input(store, {
        client: { clientMetadataUrl: METADATA_URL },
        grantTypes: ['client_credentials'],
        metadata: serverMetadata({ client_id_metadata_document_supported: true }),
      }),
    );
    expect(info).toMatchObject({ clientId: 'machine', source: 'dynamic' });
  });

  it.each([
    ['http', 'http://app.example/client.json'],
    ['no path', 'https://app.example'],
    ['root path', 'https://app.example/'],
    ['a fragment', 'https://app.example/client.json#x'],
    ['credentials', 'https://user:pw@app.example/client.json'],
    ['a dot segment', 'https://app.example/a/./client.json'],
    ['a double-dot segment', 'https://app.example/a/../client.json'],
    ['an encoded dot segment', 'https://app.example/a/%2E%2E/client.json'],
    ['not a URL', 'client.json'],
  ])('rejects a clientMetadataUrl with %s', async (_label, url) => {
    const { http, context, store } = setup();
    const error = await caught(
      resolveClient(
        context,
        input(store, {
          client: { redirectUris: [LOOPBACK_REDIRECT], clientMetadataUrl: url },
          metadata: serverMetadata({ client_id_metadata_document_supported: true }),
        }),
      ),
    );
    expect(error.code).toBe('invalid_options');
    expect(http.requests).toHaveLength(0);
  });

  it('accepts a metadata URL with a query', async () => {
    const { context, store } = setup();
    const url = 'https://app.example/oauth/client.json?v=2';
    const info = await resolveClient(
      context,
      input(store, {
        client: { redirectUris: [LOOPBACK_REDIRECT], clientMetadataUrl: url },
        metadata: serverMetadata({ client_id_metadata_document_supported: true }),
      }),
    );
    expect(info.clientId).toBe(url);
  });
});

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

describe('resolveClient: 5. nothing available', () => {
  it('asks for a pre-registered client or a metadata URL when there is no registration endpoint', async () => {
    const { http, context, store } = setup();
    const metadata = serverMetadata();
    const { registration_endpoint: _removed, ...withoutRegistration } = metadata;
    const error = await caught(resolveClient(context, input(store, { metadata: withoutRegistration })));
    expect(error.code).toBe('client_configuration_required');
    expect(error.message).toContain('"client.preRegistered"');
    expect(error.message).toContain('"client.clientMetadataUrl"');
    expect(http.requests).toHaveLength(0);
  });

  it('says so when a metadata URL is configured but the server supports neither CIMD nor DCR', async () => {
    const { context, store } = setup();
    const { registration_endpoint: _removed, ...withoutRegistration } = serverMetadata();
    const error = await caught(
      resolveClient(
        context,
        input(store, {
          metadata: withoutRegistration,
          client: { redirectUris: [LOOPBACK_REDIRECT], clientMetadataUrl: METADATA_URL },
        }),
      ),
    );
    expect(error.code).toBe('client_configuration_required');
    expect(error.message).toContain('neither client metadata documents nor dynamic client registration');
    expect(error.message).toContain('"client.preRegistered"');
  });

  it('refuses metadata of another issuer', async () => {
    const { http, context, store } = setup();
    const error = await caught(
      resolveClient(context, input(store, { metadata: serverMetadata({}, OTHER_ISSUER) })),
    );
    expect(error.code).toBe('issuer_mismatch');
    expect(http.requests).toHaveLength(0);
  });
});

describe('client options', () => {
  it.each([
    ['plain http on a public host', 'http://app.example/callback'],
    ['a custom scheme', 'com.example.app:/callback'],
    ['a fragment', 'https://app.example/callback#frag'],
    ['credentials', 'https://user:pw@app.example/callback'],
    ['a relative URL', '/callback'],
  ])('rejects a redirect URI with %s', async (_label, uri) => {
    const { http, context, store } = setup();
    const error = await caught(resolveClient(context, input(store, { client: { redirectUris: [uri] } })));
    expect(error.code).toBe('invalid_options');
    expect(http.requests).toHaveLength(0);
  });

  it.each([
    ['127.0.0.1', 'http://127.0.0.1:8080/cb'],
    ['localhost', 'http://localhost:8080/cb'],
    ['[::1]', 'http://[::1]:8080/cb'],
  ])('accepts an http loopback redirect URI on %s', (_label, uri) => {
    const body = buildRegistrationRequest({
      client: { redirectUris: [uri] },
      grantTypes: AUTH_CODE_GRANTS,
      metadata: serverMetadata(),
    });
    expect(body.redirect_uris).toEqual([uri]);
    expect(body.application_type).toBe('native');
  });

  it('requires redirect URIs for authorization_code', () => {
    for (const client of [{}, { redirectUris: [] }] satisfies ClientOptions[]) {
      const error = caughtSync(() =>
        buildRegistrationRequest({ client, grantTypes: AUTH_CODE_GRANTS, metadata: serverMetadata() }),
      );
      expect(error.code).toBe('invalid_options');
    }
  });

  it('requires a non-empty grant type list', () => {
    const error = caughtSync(() =>
      buildRegistrationRequest({
        client: { redirectUris: [LOOPBACK_REDIRECT] },
        grantTypes: [],
        metadata: serverMetadata(),
      }),
    );
    expect(error.code).toBe('invalid_options');
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

describe('chooseTokenEndpointAuthMethod', () => {
  it.each<
    [readonly string[] | undefined, TokenEndpointAuthMethod | undefined, boolean, TokenEndpointAuthMethod]
  >([
    // server lists nothing
    [undefined, undefined, false, 'none'],
    [[], undefined, false, 'none'],
    [undefined, undefined, true, 'private_key_jwt'],
    [undefined, 'client_secret_post', false, 'client_secret_post'],
    [undefined, 'none', true, 'none'],
    // preferred and listed
    [['none', 'client_secret_basic'], 'client_secret_basic', false, 'client_secret_basic'],
    [['client_secret_post', 'private_key_jwt'], 'private_key_jwt', true, 'private_key_jwt'],
    // no preference: public first
    [['client_secret_basic', 'none'], undefined, false, 'none'],
    [['client_secret_post', 'client_secret_basic'], undefined, false, 'client_secret_basic'],
    [['client_secret_post'], undefined, false, 'client_secret_post'],
    [['private_key_jwt', 'client_secret_basic'], undefined, false, 'client_secret_basic'],
    [['none', 'private_key_jwt'], undefined, true, 'private_key_jwt'],
    // preferred but not listed
    [['client_secret_basic'], 'none', false, 'client_secret_basic'],
    [['none', 'client_secret_post'], 'client_secret_basic', false, 'client_secret_post'],
    [['none', 'private_key_jwt'], 'client_secret_basic', true, 'private_key_jwt'],
  ])('supported %j, preferred %s, key %s → %s', (supported, preferred, key, expected) => {
    expect(chooseTokenEndpointAuthMethod(supported, preferred, key)).toBe(expected);
  });

  it.each<[readonly string[], TokenEndpointAuthMethod | undefined, boolean]>([
    [['tls_client_auth'], undefined, false],
    [['private_key_jwt'], undefined, false],
    [['none'], 'client_secret_basic', false], // never silently made public
    [['none'], 'private_key_jwt', true],
  ])('fails with registration_failed for supported %j, preferred %s, key %s', (supported, preferred, key) => {
    expect(caughtSync(() => chooseTokenEndpointAuthMethod(supported, preferred, key)).code).toBe(
      'registration_failed',
    );
  });

  it('refuses private_key_jwt without a key', () => {
    expect(caughtSync(() => chooseTokenEndpointAuthMethod(undefined, 'private_key_jwt', false)).code).toBe(
      'invalid_options',
    );
  });

  it('drives the registered method from the server metadata', async () => {
    const { http, context, store } = setup();
    http.json(
      'POST',
      REGISTRATION_ENDPOINT,
      { client_id: 'c', client_secret: 's', client_secret_expires_at: 0 },
      201,
    );
    const info = await resolveClient(
      context,
      input(store, {
        metadata: serverMetadata({ token_endpoint_auth_methods_supported: ['client_secret_post'] }),
      }),
    );
    expect((jsonBody(http) as Record<string, unknown>).token_endpoint_auth_method).toBe('client_secret_post');
    expect(info.tokenEndpointAuthMethod).toBe('client_secret_post');
  });
});

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
    expect(error.message).toBe(
      'registration response "registration_client_uri" must not point to a more private network than the authorization server',
    );
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
