import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CLIENT_ASSERTION_TYPE_JWT_BEARER } from './client-auth.js';
import { createHttpContext } from './http.js';
import { decodeJwtPayload, jwtSigner } from './jwt.js';
import {
  buildRevocationRequest,
  parseRevocationResponse,
  type RevocationInput,
  revokeToken,
} from './revoke.js';
import { importSigningKey } from './signing-key.js';
import { catchAsync, expectNoSecret } from './test-utils/errors.js';
import { FakeHttpClient } from './test-utils/fake-http.js';

const ENDPOINT = 'https://as.example.com/oauth/revoke';
const base: RevocationInput = {
  endpoint: ENDPOINT,
  issuer: 'https://as.example.com',
  token: 'SECRET-refresh-token',
  tokenTypeHint: 'refresh_token',
  client: { clientId: 'client-1', method: 'none' },
  now: 1_700_000_000_000,
};

function setup() {
  const http = new FakeHttpClient();
  return { http, context: createHttpContext(http) };
}

describe('revokeToken', () => {
  it('POSTs token and token_type_hint with the client id and accepts 200', async () => {
    const { http, context } = setup();
    http.on('POST', ENDPOINT, { status: 200 });
    await expect(revokeToken(context, base)).resolves.toBeUndefined();
    expect(http.requests).toEqual([
      {
        method: 'POST',
        url: ENDPOINT,
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: expect.any(String),
        form: { token: 'SECRET-refresh-token', token_type_hint: 'refresh_token', client_id: 'client-1' },
      },
    ]);
  });

  it('authenticates confidential clients with HTTP Basic', async () => {
    const { http, context } = setup();
    http.on('POST', ENDPOINT, { status: 200 });
    await revokeToken(context, {
      ...base,
      token: 'at',
      tokenTypeHint: 'access_token',
      client: { clientId: 'c d', method: 'client_secret_basic', clientSecret: 's:t' },
    });
    expect(http.requests[0]?.headers.authorization).toBe(`Basic ${btoa('c+d:s%3At')}`);
    expect(http.requests[0]?.form).toEqual({ token: 'at', token_type_hint: 'access_token' });
  });

  it('signs a client assertion for the issuer with private_key_jwt', async () => {
    const { http, context } = setup();
    http.on('POST', ENDPOINT, { status: 200 });
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const signingKey = await importSigningKey(privateKey.export({ format: 'jwk' }));
    await revokeToken(context, {
      ...base,
      client: { clientId: 'c', method: 'private_key_jwt', signer: jwtSigner(signingKey) },
    });
    const form = http.requests[0]?.form ?? {};
    expect(form.client_assertion_type).toBe(CLIENT_ASSERTION_TYPE_JWT_BEARER);
    expect(decodeJwtPayload(form.client_assertion ?? '')).toMatchObject({
      iss: 'c',
      sub: 'c',
      aud: base.issuer,
    });
  });

  it('maps unsupported_token_type (RFC 7009 §2.2.1) to revocation_failed without the description', async () => {
    const { http, context } = setup();
    http.json('POST', ENDPOINT, { error: 'unsupported_token_type', error_description: 'SECRET' }, 400);
    const error = await catchAsync(revokeToken(context, base));
    expect(error.code).toBe('revocation_failed');
    expect(error.oauthError).toBe('unsupported_token_type');
    expect(error.status).toBe(400);
    expect(error.message).toBe('token revocation failed with HTTP status 400 (unsupported_token_type)');
    expectNoSecret(error);
  });

  it('maps a non-JSON 503 to revocation_failed with the status', async () => {
    const { http, context } = setup();
    http.on('POST', ENDPOINT, { status: 503, headers: { 'retry-after': '5' }, body: 'SECRET outage page' });
    const error = await catchAsync(revokeToken(context, base));
    expect(error.code).toBe('revocation_failed');
    expect(error.status).toBe(503);
    expect(error.oauthError).toBeUndefined();
    expectNoSecret(error);
  });

  it('refuses redirects after one request', async () => {
    const { http, context } = setup();
    http.on('POST', ENDPOINT, { status: 302, headers: { location: 'https://as.example.com/other' } });
    http.on('POST', 'https://as.example.com/other', { status: 200 });
    const error = await catchAsync(revokeToken(context, base));
    expect(error.code).toBe('redirect_not_allowed');
    expect(http.requests).toHaveLength(1);
    expectNoSecret(error);
  });

  it('refuses bad input before sending anything', async () => {
    const { http, context } = setup();
    for (const input of [
      { ...base, token: '' },
      { ...base, tokenTypeHint: 'id_token' as never },
      { ...base, endpoint: 'revoke' },
      { ...base, client: { clientId: 'c', method: 'client_secret_post' as const } },
    ]) {
      expect((await catchAsync(revokeToken(context, input))).code).toBe('invalid_options');
    }
    expect(http.requests).toHaveLength(0);
  });
});

describe('buildRevocationRequest and parseRevocationResponse', () => {
  it('builds the request as data', async () => {
    const request = await buildRevocationRequest({ ...base, token: 'a b&c' });
    expect(request).toEqual({
      url: ENDPOINT,
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: 'token=a+b%26c&token_type_hint=refresh_token&client_id=client-1',
    });
  });

  it('accepts any 2xx and rejects everything else', () => {
    for (const status of [200, 204]) {
      expect(() => parseRevocationResponse({ status, headers: {}, body: '' })).not.toThrow();
    }
    for (const status of [400, 401, 404, 500]) {
      expect(() => parseRevocationResponse({ status, headers: {}, body: '' })).toThrow(
        expect.objectContaining({ code: 'revocation_failed', status }),
      );
    }
  });
});
