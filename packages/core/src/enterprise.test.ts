import { generateKeyPairSync } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it, vi } from 'vitest';
import { base64urlEncode } from './encoding.js';
import {
  createIdJagAssertion,
  createIdJagRequester,
  type IdJagOptions,
  requestIdJag,
  TOKEN_TYPE_SAML2,
} from './enterprise.js';
import { isOAuthClientError, type OAuthClientError } from './errors.js';
import { decodeJwtPayload } from './jwt.js';
import { OAuthSession } from './session/session.js';
import { FakeHttpClient } from './test-utils/fake-http.js';
import { FakeServer, ISSUER, json, SERVER } from './test-utils/fake-server.js';

const IDP = 'https://idp.example.com';
const IDP_TOKEN = `${IDP}/oauth2/token`;
const RESOURCE = `${SERVER}/mcp`;
const ID_TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.ID-TOKEN-SECRET';
const NOW = 1_700_000_000_000;

function jwt(header: Record<string, unknown>, payload: Record<string, unknown> = { sub: 'user' }): string {
  return `${base64urlEncode(JSON.stringify(header))}.${base64urlEncode(JSON.stringify(payload))}.c2lnbmF0dXJl`;
}

const ID_JAG = jwt(
  { alg: 'ES256', typ: 'oauth-id-jag+jwt' },
  { iss: IDP, sub: 'user', aud: ISSUER, resource: RESOURCE, client_id: 'mcp-client' },
);

function exchangeReply(overrides: Record<string, unknown> = {}) {
  return json(200, {
    access_token: ID_JAG,
    issued_token_type: 'urn:ietf:params:oauth:token-type:id-jag',
    token_type: 'N_A',
    expires_in: 300,
    ...overrides,
  });
}

function options(http: FakeHttpClient, overrides: Partial<IdJagOptions> = {}): IdJagOptions {
  return {
    httpClient: http,
    identityProvider: { tokenEndpoint: IDP_TOKEN },
    client: { clientId: 'idp-client' },
    idToken: ID_TOKEN,
    clock: () => NOW,
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

function caughtSync(action: () => unknown): OAuthClientError {
  try {
    action();
  } catch (error) {
    expect(isOAuthClientError(error)).toBe(true);
    return error as OAuthClientError;
  }
  throw new Error('expected an error');
}

describe('requestIdJag: the token exchange at the identity provider', () => {
  it('sends exactly the SEP-990 token exchange form for a public IdP client', async () => {
    const http = new FakeHttpClient().on('POST', IDP_TOKEN, exchangeReply());
    const result = await requestIdJag(options(http), { issuer: ISSUER, resource: RESOURCE });

    expect(result).toEqual({
      accessToken: ID_JAG,
      issuedTokenType: 'urn:ietf:params:oauth:token-type:id-jag',
      tokenType: 'N_A',
      expiresAt: NOW + 300_000,
      grantedScopes: [],
    });
    expect(http.log).toEqual([`POST ${IDP_TOKEN}`]);
    const [request] = http.requests;
    expect(request!.headers).toEqual({
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    });
    expect(request!.form).toEqual({
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token: ID_TOKEN,
      subject_token_type: 'urn:ietf:params:oauth:token-type:id_token',
      requested_token_type: 'urn:ietf:params:oauth:token-type:id-jag',
      audience: ISSUER,
      resource: RESOURCE,
      client_id: 'idp-client',
    });
  });

  it('adds scope and authenticates with client_secret_basic when the IdP client has a secret', async () => {
    const http = new FakeHttpClient().on('POST', IDP_TOKEN, exchangeReply({ scope: 'chat.read' }));
    const result = await requestIdJag(
      options(http, {
        client: { clientId: 'idp-client', clientSecret: 'idp-SECRET' },
        scopes: ['chat.read', 'chat.history'],
      }),
      { issuer: ISSUER, resource: RESOURCE },
    );

    expect(result.grantedScopes).toEqual(['chat.read']);
    const [request] = http.requests;
    expect(request!.headers.authorization).toBe(`Basic ${btoa('idp-client:idp-SECRET')}`);
    expect(request!.form).toEqual({
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token: ID_TOKEN,
      subject_token_type: 'urn:ietf:params:oauth:token-type:id_token',
      requested_token_type: 'urn:ietf:params:oauth:token-type:id-jag',
      audience: ISSUER,
      scope: 'chat.read chat.history',
      resource: RESOURCE,
    });
  });

  it('sends the secret in the form with client_secret_post', async () => {
    const http = new FakeHttpClient().on('POST', IDP_TOKEN, exchangeReply());
    await requestIdJag(
      options(http, {
        client: {
          clientId: 'idp-client',
          clientSecret: 'idp-SECRET',
          tokenEndpointAuthMethod: 'client_secret_post',
        },
      }),
      { issuer: ISSUER, resource: RESOURCE },
    );
    const [request] = http.requests;
    expect(request!.headers.authorization).toBeUndefined();
    expect(request!.form).toMatchObject({ client_id: 'idp-client', client_secret: 'idp-SECRET' });
  });

  it('signs a private_key_jwt assertion for the IdP issuer, or for the endpoint when no issuer is known', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const http = new FakeHttpClient().on('POST', IDP_TOKEN, exchangeReply());
    const client = { clientId: 'idp-client', clientKey: { privateKey: pem, keyId: 'k1' } };

    await requestIdJag(
      options(http, { client, identityProvider: { issuer: IDP, tokenEndpoint: IDP_TOKEN } }),
      {
        issuer: ISSUER,
        resource: RESOURCE,
      },
    );
    await requestIdJag(options(http, { client }), { issuer: ISSUER, resource: RESOURCE });

    const [withIssuer, withoutIssuer] = http.requests.map((request) => request.form!);
    expect(withIssuer).toMatchObject({
      client_id: 'idp-client',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    });
    expect(decodeJwtPayload(withIssuer!.client_assertion!)).toMatchObject({
      iss: 'idp-client',
      sub: 'idp-client',
      aud: IDP,
    });
    expect(decodeJwtPayload(withoutIssuer!.client_assertion!)).toMatchObject({ aud: IDP_TOKEN });
  });

  it('discovers the token endpoint from the IdP issuer once, then reuses it', async () => {
    const http = new FakeHttpClient()
      .on('GET', `${IDP}/.well-known/oauth-authorization-server`, { status: 404 })
      .json('GET', `${IDP}/.well-known/openid-configuration`, {
        issuer: IDP,
        token_endpoint: IDP_TOKEN,
        grant_types_supported: ['urn:ietf:params:oauth:grant-type:token-exchange'],
      })
      .on('POST', IDP_TOKEN, exchangeReply());
    const request = createIdJagRequester(options(http, { identityProvider: { issuer: IDP } }));

    await request({ issuer: ISSUER, resource: RESOURCE });
    await request({ issuer: ISSUER, resource: `${SERVER}/other` });

    expect(http.log).toEqual([
      `GET ${IDP}/.well-known/oauth-authorization-server`,
      `GET ${IDP}/.well-known/openid-configuration`,
      `POST ${IDP_TOKEN}`,
      `POST ${IDP_TOKEN}`,
    ]);
    expect(http.requests[3]!.form!.resource).toBe(`${SERVER}/other`);
  });

  it('refuses IdP metadata that names another issuer', async () => {
    const http = new FakeHttpClient().json('GET', `${IDP}/.well-known/oauth-authorization-server`, {
      issuer: 'https://evil.example.com',
      token_endpoint: 'https://evil.example.com/token',
    });
    const error = await caught(
      requestIdJag(options(http, { identityProvider: { issuer: IDP } }), {
        issuer: ISSUER,
        resource: RESOURCE,
      }),
    );
    expect(error.code).toBe('issuer_mismatch');
    expect(http.log.some((line) => line.startsWith('POST'))).toBe(false);
  });

  it('reports missing IdP metadata, and tries discovery again on the next call', async () => {
    const http = new FakeHttpClient();
    const request = createIdJagRequester(options(http, { identityProvider: { issuer: IDP } }));
    expect((await caught(request({ issuer: ISSUER, resource: RESOURCE }))).code).toBe('discovery_failed');
    http.json('GET', `${IDP}/.well-known/oauth-authorization-server`, { issuer: IDP });
    expect((await caught(request({ issuer: ISSUER, resource: RESOURCE }))).code).toBe('metadata_invalid');
    expect(http.log).toEqual([
      `GET ${IDP}/.well-known/oauth-authorization-server`,
      `GET ${IDP}/.well-known/openid-configuration`,
      `GET ${IDP}/.well-known/oauth-authorization-server`,
    ]);
  });

  it('reports an unusable private key as invalid_key, before anything is sent', async () => {
    const http = new FakeHttpClient().on('POST', IDP_TOKEN, exchangeReply());
    const request = createIdJagRequester(
      options(http, { client: { clientId: 'idp-client', clientKey: { privateKey: 'not a SECRET key' } } }),
    );
    const error = await caught(request({ issuer: ISSUER, resource: RESOURCE }));
    expect(error.code).toBe('invalid_key');
    expect(error.message).not.toContain('SECRET');
    expect(http.requests).toHaveLength(0);
  });

  it('refuses a target without an audience or a resource', async () => {
    const request = createIdJagRequester(options(new FakeHttpClient()));
    expect((await caught(request({ issuer: '', resource: RESOURCE }))).code).toBe('invalid_options');
    expect((await caught(request({ issuer: ISSUER, resource: '' }))).code).toBe('invalid_options');
  });

  it('asks the supplier for the identity assertion each time, with the signal, and accepts SAML', async () => {
    const http = new FakeHttpClient().on('POST', IDP_TOKEN, exchangeReply());
    const idToken = vi.fn(async () => 'saml-assertion');
    const controller = new AbortController();
    const request = createIdJagRequester(options(http, { idToken, subjectTokenType: TOKEN_TYPE_SAML2 }));

    await request({ issuer: ISSUER, resource: RESOURCE, signal: controller.signal });
    await request({ issuer: ISSUER, resource: RESOURCE });

    expect(idToken).toHaveBeenCalledTimes(2);
    expect(idToken).toHaveBeenNthCalledWith(1, { signal: controller.signal });
    expect(http.requests[0]!.form).toMatchObject({
      subject_token: 'saml-assertion',
      subject_token_type: 'urn:ietf:params:oauth:token-type:saml2',
    });
  });

  it('fails with invalid_options when the supplier returns no assertion', async () => {
    const http = new FakeHttpClient().on('POST', IDP_TOKEN, exchangeReply());
    const error = await caught(
      requestIdJag(options(http, { idToken: () => '' }), { issuer: ISSUER, resource: RESOURCE }),
    );
    expect(error.code).toBe('invalid_options');
    expect(http.requests).toHaveLength(0);
  });

  it.each([
    [
      'an access token instead of an ID-JAG',
      { issued_token_type: 'urn:ietf:params:oauth:token-type:access_token' },
    ],
    ['no issued_token_type', { issued_token_type: undefined }],
    ['token_type Bearer', { token_type: 'Bearer' }],
    ['an opaque token', { access_token: 'opaque-SECRET' }],
    ['a JWT without the ID-JAG typ', { access_token: jwt({ alg: 'ES256', typ: 'JWT' }) }],
    ['a JWT with no typ', { access_token: jwt({ alg: 'ES256' }) }],
    ['a token whose header is not JSON', { access_token: 'abcd.eyJ9.c2ln' }],
    ['an encrypted token', { access_token: 'eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.SECRET' }],
  ])('refuses a response carrying %s (token_response_invalid)', async (_name, overrides) => {
    const http = new FakeHttpClient().on('POST', IDP_TOKEN, exchangeReply(overrides));
    const error = await caught(requestIdJag(options(http), { issuer: ISSUER, resource: RESOURCE }));
    expect(error.code).toBe('token_response_invalid');
  });

  it('reports an IdP refusal as token_request_failed with the OAuth error, and no secret', async () => {
    const http = new FakeHttpClient().on(
      'POST',
      IDP_TOKEN,
      json(400, { error: 'invalid_grant', error_description: 'id token SECRET expired' }),
    );
    const error = await caught(
      requestIdJag(options(http, { client: { clientId: 'idp-client', clientSecret: 'idp-SECRET' } }), {
        issuer: ISSUER,
        resource: RESOURCE,
      }),
    );
    expect(error).toMatchObject({ code: 'token_request_failed', oauthError: 'invalid_grant', status: 400 });
    for (const text of [error.message, String(error), JSON.stringify(error), inspect(error, { depth: 5 })]) {
      expect(text).not.toContain('SECRET');
    }
  });

  it('never follows a redirect from the IdP token endpoint', async () => {
    const http = new FakeHttpClient().on('POST', IDP_TOKEN, {
      status: 307,
      headers: { location: `${IDP}/elsewhere` },
    });
    const error = await caught(requestIdJag(options(http), { issuer: ISSUER, resource: RESOURCE }));
    expect(error.code).toBe('redirect_not_allowed');
    expect(http.requests).toHaveLength(1);
  });

  it.each([
    ['no identity provider', { identityProvider: {} }, 'invalid_options'],
    [
      'an http IdP that is not loopback',
      { identityProvider: { tokenEndpoint: 'http://idp.example.com/token' } },
      'unsafe_url',
    ],
    ['no client id', { client: { clientId: '' } }, 'invalid_options'],
    [
      'client_secret_basic without a secret',
      { client: { clientId: 'c', tokenEndpointAuthMethod: 'client_secret_basic' } },
      'invalid_options',
    ],
    [
      'private_key_jwt without a key',
      { client: { clientId: 'c', tokenEndpointAuthMethod: 'private_key_jwt' } },
      'invalid_options',
    ],
    ['an empty id token', { idToken: '' }, 'invalid_options'],
    ['an empty scope', { scopes: [''] }, 'invalid_options'],
    ['an empty client secret', { client: { clientId: 'c', clientSecret: '' } }, 'invalid_options'],
    ['an empty subject token type', { subjectTokenType: '' }, 'invalid_options'],
    ['no http client', { httpClient: undefined }, 'invalid_options'],
  ] as const)('refuses options with %s at once', (_name, overrides, code) => {
    const http = new FakeHttpClient();
    expect(
      caughtSync(() => createIdJagRequester(options(http, overrides as Partial<IdJagOptions>))).code,
    ).toBe(code);
  });

  it('allows an http IdP on loopback', async () => {
    const endpoint = 'http://127.0.0.1:9000/token';
    const http = new FakeHttpClient().on('POST', endpoint, exchangeReply());
    await requestIdJag(options(http, { identityProvider: { tokenEndpoint: endpoint } }), {
      issuer: ISSUER,
      resource: RESOURCE,
    });
    expect(http.log).toEqual([`POST ${endpoint}`]);
  });
});

describe('createIdJagAssertion with OAuthSession: the whole enterprise-managed flow', () => {
  it('exchanges the ID token at the IdP, then presents the ID-JAG with the client credentials at the MCP AS', async () => {
    const server = new FakeServer();
    server.http.on('POST', IDP_TOKEN, exchangeReply());
    const session = new OAuthSession({
      serverUrl: server.resourceUrl,
      httpClient: server.http,
      grant: {
        type: 'jwt_bearer',
        assertion: createIdJagAssertion(options(server.http, { clock: () => server.now })),
      },
      client: { preRegistered: [{ issuer: ISSUER, clientId: 'mcp-client', clientSecret: 'mcp-SECRET' }] },
      clock: () => server.now,
    });

    const token = await session.getAccessToken();

    expect(server.issuedAccessTokens).toEqual([token]);
    expect(server.http.log).toEqual([
      `GET ${SERVER}/.well-known/oauth-protected-resource/mcp`,
      `GET ${ISSUER}/.well-known/oauth-authorization-server`,
      `POST ${IDP_TOKEN}`,
      `POST ${ISSUER}/token`,
    ]);
    const [, , exchange, grant] = server.http.requests;
    expect(exchange!.form).toMatchObject({ audience: ISSUER, resource: RESOURCE, subject_token: ID_TOKEN });
    expect(exchange!.headers.authorization).toBeUndefined();
    expect(grant!.headers.authorization).toBe(`Basic ${btoa('mcp-client:mcp-SECRET')}`);
    expect(grant!.form).toEqual({
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      assertion: ID_JAG,
      scope: 'mcp:read',
      resource: RESOURCE,
    });
  });

  it('does not present anything to the MCP authorization server when the IdP refuses', async () => {
    const server = new FakeServer();
    server.http.on('POST', IDP_TOKEN, json(403, { error: 'access_denied' }));
    const session = new OAuthSession({
      serverUrl: server.resourceUrl,
      httpClient: server.http,
      grant: { type: 'jwt_bearer', assertion: createIdJagAssertion(options(server.http)) },
      client: { preRegistered: [{ issuer: ISSUER, clientId: 'mcp-client', clientSecret: 'mcp-SECRET' }] },
      clock: () => server.now,
    });
    const error = await caught(session.getAccessToken());
    expect(error).toMatchObject({ code: 'token_request_failed', oauthError: 'access_denied' });
    expect(server.http.log.some((line) => line === `POST ${ISSUER}/token`)).toBe(false);
  });
});
