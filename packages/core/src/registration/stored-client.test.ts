import { describe, expect, it } from 'vitest';
import type { OAuthStore } from '../stores.js';
import {
  caught,
  expectNoSecret,
  HTTPS_REDIRECT,
  ISSUER,
  input,
  LOOPBACK_REDIRECT,
  METADATA_URL,
  NOW_SECONDS,
  OTHER_ISSUER,
  OTHER_REGISTRATION_ENDPOINT,
  REGISTRATION_ENDPOINT,
  serverMetadata,
  setup,
  storedClient,
} from '../test-utils/registration.js';
import type { ClientInformation } from '../types.js';
import { resolveClient } from './resolve-client.js';

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
  });
});
