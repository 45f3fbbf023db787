import { describe, expect, it } from 'vitest';
import {
  caughtSync,
  input,
  jsonBody,
  REGISTRATION_ENDPOINT,
  serverMetadata,
  setup,
} from '../test-utils/registration.js';
import type { TokenEndpointAuthMethod } from '../types.js';
import { chooseTokenEndpointAuthMethod } from './auth-method.js';
import { resolveClient } from './resolve-client.js';

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
