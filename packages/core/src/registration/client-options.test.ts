import { describe, expect, it } from 'vitest';
import {
  AUTH_CODE_GRANTS,
  caught,
  caughtSync,
  input,
  LOOPBACK_REDIRECT,
  serverMetadata,
  setup,
} from '../test-utils/registration.js';
import type { ClientOptions } from './client-options.js';
import { buildRegistrationRequest } from './dynamic-registration.js';
import { resolveClient } from './resolve-client.js';

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

  it.each([
    [
      { tokenEndpointAuthMethod: 'tls_client_auth' },
      '"tokenEndpointAuthMethod" must be one of "none", "client_secret_basic", "client_secret_post", "private_key_jwt"',
    ],
    [{ applicationType: 'desktop' }, '"applicationType" must be one of "native", "web"'],
    [{ clientName: '' }, '"clientName" must be a non-empty string'],
    [
      { extraMetadata: { client_uri: 'x' } },
      '"extraMetadata" must not set "client_uri"; use the matching client option',
    ],
    [
      { extraMetadata: { client_secret: 'x' } },
      '"extraMetadata" must not set "client_secret"; use the matching client option',
    ],
  ])('names the option and what it accepts (%j)', (options, message) => {
    const error = caughtSync(() =>
      buildRegistrationRequest({
        client: { redirectUris: [LOOPBACK_REDIRECT], ...(options as ClientOptions) },
        grantTypes: AUTH_CODE_GRANTS,
        metadata: serverMetadata(),
      }),
    );
    expect(error.code).toBe('invalid_options');
    expect(error.message).toBe(message);
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
