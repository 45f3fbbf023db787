import { describe, expect, it } from 'vitest';
import {
  caught,
  expectNoSecret,
  ISSUER,
  input,
  LOOPBACK_REDIRECT,
  METADATA_URL,
  OTHER_ISSUER,
  REGISTRATION_ENDPOINT,
  serverMetadata,
  setup,
  storedClient,
} from '../test-utils/registration.js';
import type { TokenEndpointAuthMethod } from '../types.js';
import type { ClientOptions } from './client-options.js';
import { resolveClient } from './resolve-client.js';

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
