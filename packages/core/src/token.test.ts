import { generateKeyPairSync } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { ClientAuthentication } from './client-auth.js';
import { base64Decode, utf8Decode } from './encoding.js';
import { isOAuthClientError, type OAuthClientError } from './errors.js';
import { createHttpContext, type OAuthHttpResponse } from './http.js';
import { decodeJwtPayload, importSigningKey, jwtSigner } from './jwt.js';
import { FakeHttpClient } from './test-utils/fake-http.js';
import {
  buildTokenRequest,
  type DpopProofSource,
  GRANT_TYPE_JWT_BEARER,
  GRANT_TYPE_TOKEN_EXCHANGE,
  MAXIMUM_EXPIRES_IN_SECONDS,
  parseTokenExchangeResponse,
  parseTokenResponse,
  requestToken,
  requestTokenExchange,
  TOKEN_TYPE_ID_JAG,
  TOKEN_TYPE_ID_TOKEN,
  type TokenGrant,
  type TokenRequestInput,
  type TokenResponseExpectations,
} from './token.js';
import type { TokenSet } from './types.js';

const ISSUER = 'https://as.example.com';
const TOKEN_ENDPOINT = 'https://as.example.com/oauth/token';
const RESOURCE = 'https://mcp.example.com/mcp';
const NOW = 1_700_000_000_000;
const publicClient: ClientAuthentication = { clientId: 'client-1', method: 'none' };

function input(grant: TokenGrant, overrides: Partial<TokenRequestInput> = {}): TokenRequestInput {
  return {
    tokenEndpoint: TOKEN_ENDPOINT,
    issuer: ISSUER,
    grant,
    client: publicClient,
    now: NOW,
    ...overrides,
  };
}

function form(body: string): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(body));
}

function json(body: unknown, status = 200, headers: Record<string, string> = {}): OAuthHttpResponse {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

const expectations: TokenResponseExpectations = {
  now: NOW,
  requestedScopes: ['read', 'write'],
  dpop: false,
  grant: 'authorization_code',
};

function catchError(action: () => unknown): OAuthClientError {
  try {
    action();
  } catch (error) {
    expect(isOAuthClientError(error)).toBe(true);
    return error as OAuthClientError;
  }
  throw new Error('expected an error');
}

async function catchAsync(promise: Promise<unknown>): Promise<OAuthClientError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(isOAuthClientError(error)).toBe(true);
  return error as OAuthClientError;
}

function expectNoSecret(error: OAuthClientError): void {
  for (const text of [error.message, String(error), JSON.stringify(error), inspect(error, { depth: 5 })]) {
    expect(text).not.toContain('SECRET');
  }
  if (error.cause !== undefined) expectNoSecret(error.cause);
}

describe('buildTokenRequest', () => {
  const headers = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };

  it('authorization_code: code, verifier, redirect_uri, resource and client_id', async () => {
    const request = await buildTokenRequest(
      input(
        {
          type: 'authorization_code',
          code: 'c o+de',
          codeVerifier: 'verifier',
          redirectUri: 'http://127.0.0.1:8765/cb',
        },
        { resource: RESOURCE },
      ),
    );
    expect(request.url).toBe(TOKEN_ENDPOINT);
    expect(request.headers).toEqual(headers);
    expect(form(request.body)).toEqual({
      grant_type: 'authorization_code',
      code: 'c o+de',
      code_verifier: 'verifier',
      redirect_uri: 'http://127.0.0.1:8765/cb',
      resource: RESOURCE,
      client_id: 'client-1',
    });
  });

  it('refresh_token: scope joined with spaces, omitted when empty', async () => {
    const withScopes = await buildTokenRequest(
      input({ type: 'refresh_token', refreshToken: 'rt', scopes: ['a', '', 'b'] }, { resource: RESOURCE }),
    );
    expect(form(withScopes.body)).toEqual({
      grant_type: 'refresh_token',
      refresh_token: 'rt',
      scope: 'a b',
      resource: RESOURCE,
      client_id: 'client-1',
    });
    for (const scopes of [[], undefined, ['']]) {
      const request = await buildTokenRequest(input({ type: 'refresh_token', refreshToken: 'rt', scopes }));
      expect(form(request.body)).toEqual({
        grant_type: 'refresh_token',
        refresh_token: 'rt',
        client_id: 'client-1',
      });
    }
  });

  it('client_credentials with client_secret_basic: no client_id in the body', async () => {
    const request = await buildTokenRequest(
      input(
        { type: 'client_credentials', scopes: ['mcp:tools'] },
        { client: { clientId: 'id', method: 'client_secret_basic', clientSecret: 'secret' } },
      ),
    );
    expect(request.headers).toEqual({ ...headers, authorization: `Basic ${btoa('id:secret')}` });
    expect(form(request.body)).toEqual({ grant_type: 'client_credentials', scope: 'mcp:tools' });
  });

  it('jwt_bearer: RFC 7523 grant type and assertion', async () => {
    const request = await buildTokenRequest(
      input({ type: 'jwt_bearer', assertion: 'eyJ.a.b', scopes: ['x'] }, { resource: RESOURCE }),
    );
    expect(form(request.body)).toEqual({
      grant_type: GRANT_TYPE_JWT_BEARER,
      assertion: 'eyJ.a.b',
      scope: 'x',
      resource: RESOURCE,
      client_id: 'client-1',
    });
  });

  it('token_exchange: ID token for an ID-JAG (RFC 8693)', async () => {
    const request = await buildTokenRequest(
      input(
        {
          type: 'token_exchange',
          subjectToken: 'id.token.here',
          subjectTokenType: TOKEN_TYPE_ID_TOKEN,
          requestedTokenType: TOKEN_TYPE_ID_JAG,
          audience: ISSUER,
          scopes: ['mcp'],
        },
        { resource: RESOURCE },
      ),
    );
    expect(form(request.body)).toEqual({
      grant_type: GRANT_TYPE_TOKEN_EXCHANGE,
      subject_token: 'id.token.here',
      subject_token_type: 'urn:ietf:params:oauth:token-type:id_token',
      requested_token_type: 'urn:ietf:params:oauth:token-type:id-jag',
      audience: ISSUER,
      scope: 'mcp',
      resource: RESOURCE,
      client_id: 'client-1',
    });
    const minimal = await buildTokenRequest(
      input({ type: 'token_exchange', subjectToken: 's', subjectTokenType: TOKEN_TYPE_ID_TOKEN }),
    );
    expect(form(minimal.body)).toEqual({
      grant_type: GRANT_TYPE_TOKEN_EXCHANGE,
      subject_token: 's',
      subject_token_type: TOKEN_TYPE_ID_TOKEN,
      client_id: 'client-1',
    });
  });

  it('adds a DPoP proof header and extra parameters', async () => {
    const request = await buildTokenRequest(
      input(
        { type: 'client_credentials' },
        { dpopProof: 'proof.jwt.value', extraParameters: { tenant: 't 1' } },
      ),
    );
    expect(request.headers).toEqual({ ...headers, dpop: 'proof.jwt.value' });
    expect(form(request.body)).toEqual({
      grant_type: 'client_credentials',
      client_id: 'client-1',
      tenant: 't 1',
    });
  });

  it('refuses extra parameters that replace engine parameters', async () => {
    for (const name of ['grant_type', 'client_id', 'resource']) {
      const error = await catchAsync(
        buildTokenRequest(
          input({ type: 'client_credentials' }, { resource: RESOURCE, extraParameters: { [name]: 'x' } }),
        ),
      );
      expect(error.code).toBe('invalid_options');
    }
  });

  it('refuses empty required values and a relative endpoint', async () => {
    const bad: TokenRequestInput[] = [
      input({ type: 'authorization_code', code: '', codeVerifier: 'v', redirectUri: 'r' }),
      input({ type: 'authorization_code', code: 'c', codeVerifier: '', redirectUri: 'r' }),
      input({ type: 'refresh_token', refreshToken: '' }),
      input({ type: 'jwt_bearer', assertion: '' }),
      input({ type: 'token_exchange', subjectToken: 's', subjectTokenType: '' }),
      input({ type: 'client_credentials' }, { resource: '' }),
      input({ type: 'client_credentials' }, { tokenEndpoint: '/token' }),
      input({ type: 'password' } as never),
    ];
    for (const request of bad) {
      expect((await catchAsync(buildTokenRequest(request))).code).toBe('invalid_options');
    }
  });
});

describe('parseTokenResponse', () => {
  it('reads a full response', () => {
    const tokens = parseTokenResponse(
      json({
        access_token: 'at',
        token_type: 'Bearer',
        expires_in: 3600,
        refresh_token: 'rt',
        scope: 'read  write extra',
        id_token: 'id',
      }),
      expectations,
    );
    expect(tokens).toEqual({
      accessToken: 'at',
      tokenType: 'Bearer',
      expiresAt: NOW + 3_600_000,
      refreshToken: 'rt',
      grantedScopes: ['read', 'write', 'extra'],
      requestedScopes: ['read', 'write'],
      issuedAt: NOW,
      idToken: 'id',
    });
  });

  it('treats an omitted scope as the requested scopes and omits absent optional fields', () => {
    const tokens = parseTokenResponse(json({ access_token: 'at', token_type: 'bearer' }), expectations);
    expect(tokens).toEqual({
      accessToken: 'at',
      tokenType: 'Bearer',
      grantedScopes: ['read', 'write'],
      requestedScopes: ['read', 'write'],
      issuedAt: NOW,
    });
    expect(Object.keys(tokens)).not.toContain('expiresAt');
    expect(Object.keys(tokens)).not.toContain('refreshToken');
  });

  it('treats JSON null optional fields as absent', () => {
    const tokens = parseTokenResponse(
      json({ access_token: 'at', token_type: 'Bearer', expires_in: null, refresh_token: null, scope: null }),
      expectations,
    );
    expect(tokens.expiresAt).toBeUndefined();
    expect(tokens.refreshToken).toBeUndefined();
    expect(tokens.grantedScopes).toEqual(['read', 'write']);
  });

  it('an empty scope string means no scopes were granted', () => {
    expect(
      parseTokenResponse(json({ access_token: 'at', token_type: 'Bearer', scope: '' }), expectations)
        .grantedScopes,
    ).toEqual([]);
  });

  describe('token_type', () => {
    const table: Array<[unknown, boolean, 'Bearer' | 'DPoP' | 'invalid']> = [
      ['Bearer', false, 'Bearer'],
      ['BEARER', false, 'Bearer'],
      ['bearer', true, 'Bearer'],
      ['DPoP', true, 'DPoP'],
      ['dpop', true, 'DPoP'],
      ['DPoP', false, 'invalid'],
      ['mac', false, 'invalid'],
      ['N_A', false, 'invalid'],
      ['', false, 'invalid'],
      [undefined, false, 'invalid'],
      [1, false, 'invalid'],
    ];
    for (const [tokenType, dpop, outcome] of table) {
      it(`${JSON.stringify(tokenType)} with dpop=${dpop} → ${outcome}`, () => {
        const response = json({ access_token: 'at', token_type: tokenType });
        if (outcome === 'invalid') {
          const error = catchError(() => parseTokenResponse(response, { ...expectations, dpop }));
          expect(error.code).toBe('token_response_invalid');
          expect(error.message).toContain('"token_type"');
        } else {
          expect(parseTokenResponse(response, { ...expectations, dpop }).tokenType).toBe(outcome);
        }
      });
    }
  });

  describe('expires_in', () => {
    const table: Array<[unknown, number | undefined | 'invalid']> = [
      [3600, NOW + 3_600_000],
      [0, NOW],
      [1.5, NOW + 1500],
      ['120', NOW + 120_000],
      [MAXIMUM_EXPIRES_IN_SECONDS * 100, NOW + MAXIMUM_EXPIRES_IN_SECONDS * 1000],
      [1e308, NOW + MAXIMUM_EXPIRES_IN_SECONDS * 1000],
      [undefined, undefined],
      [-1, 'invalid'],
      ['-1', 'invalid'],
      ['NaN', 'invalid'],
      ['1e3', 'invalid'],
      ['', 'invalid'],
      ['12 ', 'invalid'],
      [true, 'invalid'],
      [{}, 'invalid'],
    ];
    for (const [expiresIn, outcome] of table) {
      it(`${JSON.stringify(expiresIn)} → ${outcome}`, () => {
        const response = json({ access_token: 'at', token_type: 'Bearer', expires_in: expiresIn });
        if (outcome === 'invalid') {
          const error = catchError(() => parseTokenResponse(response, expectations));
          expect(error.code).toBe('token_response_invalid');
          expect(error.message).toBe('token response "expires_in" must be a non-negative number');
        } else {
          expect(parseTokenResponse(response, expectations).expiresAt).toBe(outcome);
        }
      });
    }

    it('overflowing numbers (Infinity after JSON.parse) and NaN-like strings are invalid', () => {
      for (const raw of ['1e999', '-1e999', '"NaN"', '"Infinity"']) {
        const response = {
          status: 200,
          headers: {},
          body: `{"access_token":"at","token_type":"Bearer","expires_in":${raw}}`,
        };
        expect(catchError(() => parseTokenResponse(response, expectations)).code).toBe(
          'token_response_invalid',
        );
      }
    });
  });

  const invalidBodies: Array<[string, unknown, string]> = [
    ['missing access_token', { token_type: 'Bearer' }, 'access_token'],
    ['empty access_token', { access_token: '', token_type: 'Bearer' }, 'access_token'],
    ['numeric access_token', { access_token: 42, token_type: 'Bearer' }, 'access_token'],
    [
      'numeric refresh_token',
      { access_token: 'at', token_type: 'Bearer', refresh_token: 1 },
      'refresh_token',
    ],
    ['empty refresh_token', { access_token: 'at', token_type: 'Bearer', refresh_token: '' }, 'refresh_token'],
    ['array scope', { access_token: 'at', token_type: 'Bearer', scope: ['a'] }, 'scope'],
    ['numeric id_token', { access_token: 'at', token_type: 'Bearer', id_token: 7 }, 'id_token'],
  ];
  for (const [name, body, field] of invalidBodies) {
    it(`rejects ${name}`, () => {
      const error = catchError(() => parseTokenResponse(json(body), expectations));
      expect(error.code).toBe('token_response_invalid');
      expect(error.message).toContain(`"${field}"`);
      expect(error.status).toBe(200);
    });
  }

  it('rejects a 2xx body that is not a JSON object', () => {
    const bodies: OAuthHttpResponse[] = [
      { status: 200, headers: { 'content-type': 'application/json' }, body: 'not json SECRET' },
      { status: 200, headers: { 'content-type': 'application/json' }, body: '["SECRET"]' },
      {
        status: 200,
        headers: { 'content-type': 'text/html' },
        body: '{"access_token":"SECRET","token_type":"Bearer"}',
      },
    ];
    for (const response of bodies) {
      const error = catchError(() => parseTokenResponse(response, expectations));
      expect(error.code).toBe('token_response_invalid');
      expectNoSecret(error);
    }
  });

  describe('refresh', () => {
    const previous: TokenSet = {
      accessToken: 'old-at',
      tokenType: 'Bearer',
      refreshToken: 'old-rt',
      grantedScopes: ['read'],
      requestedScopes: ['read', 'write'],
      issuedAt: NOW - 10_000,
    };
    const refresh = { ...expectations, grant: 'refresh_token' as const, previous };

    it('keeps the old refresh token and granted scopes when none are returned', () => {
      const tokens = parseTokenResponse(
        json({ access_token: 'new-at', token_type: 'Bearer', expires_in: 60 }),
        refresh,
      );
      expect(tokens).toEqual({
        accessToken: 'new-at',
        tokenType: 'Bearer',
        expiresAt: NOW + 60_000,
        refreshToken: 'old-rt',
        grantedScopes: ['read'],
        requestedScopes: ['read', 'write'],
        issuedAt: NOW,
      });
    });

    it('takes a rotated refresh token and echoed scopes', () => {
      const tokens = parseTokenResponse(
        json({ access_token: 'new-at', token_type: 'Bearer', refresh_token: 'new-rt', scope: 'read write' }),
        refresh,
      );
      expect(tokens.refreshToken).toBe('new-rt');
      expect(tokens.grantedScopes).toEqual(['read', 'write']);
    });

    it('does not carry a previous refresh token into another grant', () => {
      const tokens = parseTokenResponse(json({ access_token: 'at', token_type: 'Bearer' }), {
        ...expectations,
        grant: 'authorization_code',
        previous,
      });
      expect(tokens.refreshToken).toBeUndefined();
      expect(tokens.grantedScopes).toEqual(['read', 'write']);
    });
  });

  describe('error responses (RFC 6749 §5.2)', () => {
    it('carries the OAuth error and status, never the description or body', () => {
      const response = json(
        {
          error: 'invalid_grant',
          error_description: 'SECRET refresh token SECRET',
          error_uri: 'https://x/SECRET',
        },
        400,
      );
      const error = catchError(() => parseTokenResponse(response, expectations));
      expect(error.code).toBe('token_request_failed');
      expect(error.oauthError).toBe('invalid_grant');
      expect(error.status).toBe(400);
      expect(error.message).toBe('token request failed with HTTP status 400 (invalid_grant)');
      expectNoSecret(error);
    });

    it('does not echo an unregistered error code in the message', () => {
      const error = catchError(() =>
        parseTokenResponse(json({ error: 'weird_SECRET_code' }, 401), expectations),
      );
      expect(error.code).toBe('token_request_failed');
      expect(error.message).toBe('token request failed with HTTP status 401');
      expect(error.status).toBe(401);
    });

    it('drops an error value with characters RFC 6749 does not allow', () => {
      const error = catchError(() => parseTokenResponse(json({ error: 'bad"value\n' }, 400), expectations));
      expect(error.oauthError).toBeUndefined();
    });

    it('handles non-JSON error bodies', () => {
      for (const status of [400, 500, 503, 304]) {
        const error = catchError(() =>
          parseTokenResponse(
            { status, headers: { 'content-type': 'text/html' }, body: '<h1>SECRET</h1>' },
            expectations,
          ),
        );
        expect(error.code).toBe('token_request_failed');
        expect(error.status).toBe(status);
        expect(error.oauthError).toBeUndefined();
        expectNoSecret(error);
      }
    });
  });
});

describe('parseTokenExchangeResponse', () => {
  it('reads an ID-JAG response with token_type N_A', () => {
    const result = parseTokenExchangeResponse(
      json({
        access_token: 'jag.jwt.value',
        issued_token_type: TOKEN_TYPE_ID_JAG,
        token_type: 'N_A',
        expires_in: 300,
      }),
      NOW,
    );
    expect(result).toEqual({
      accessToken: 'jag.jwt.value',
      issuedTokenType: TOKEN_TYPE_ID_JAG,
      tokenType: 'N_A',
      expiresAt: NOW + 300_000,
      grantedScopes: [],
    });
  });

  it('reads scope and omits expiresAt when there is no expires_in', () => {
    const result = parseTokenExchangeResponse(
      json({
        access_token: 'at',
        issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        token_type: 'Bearer',
        scope: 'a b',
      }),
      NOW,
    );
    expect(result.grantedScopes).toEqual(['a', 'b']);
    expect('expiresAt' in result).toBe(false);
  });

  const invalid: Array<[string, unknown, string]> = [
    ['missing issued_token_type', { access_token: 'at', token_type: 'N_A' }, 'issued_token_type'],
    ['missing token_type', { access_token: 'at', issued_token_type: TOKEN_TYPE_ID_JAG }, 'token_type'],
    ['missing access_token', { issued_token_type: TOKEN_TYPE_ID_JAG, token_type: 'N_A' }, 'access_token'],
    [
      'negative expires_in',
      { access_token: 'at', issued_token_type: TOKEN_TYPE_ID_JAG, token_type: 'N_A', expires_in: -5 },
      'expires_in',
    ],
  ];
  for (const [name, body, field] of invalid) {
    it(`rejects ${name}`, () => {
      const error = catchError(() => parseTokenExchangeResponse(json(body), NOW));
      expect(error.code).toBe('token_response_invalid');
      expect(error.message).toContain(`"${field}"`);
    });
  }

  it('maps error responses to token_request_failed', () => {
    const error = catchError(() =>
      parseTokenExchangeResponse(json({ error: 'invalid_target', error_description: 'SECRET' }, 400), NOW),
    );
    expect(error.code).toBe('token_request_failed');
    expect(error.oauthError).toBe('invalid_target');
    expectNoSecret(error);
  });
});

describe('requestToken', () => {
  const ok = { access_token: 'at', token_type: 'Bearer', expires_in: 60 };

  function setup() {
    const http = new FakeHttpClient();
    return { http, context: createHttpContext(http) };
  }

  it('POSTs the form to the token endpoint and parses the tokens', async () => {
    const { http, context } = setup();
    http.json('POST', TOKEN_ENDPOINT, ok);
    const tokens = await requestToken(context, {
      ...input(
        {
          type: 'authorization_code',
          code: 'code',
          codeVerifier: 'verifier',
          redirectUri: 'http://localhost/cb',
        },
        { resource: RESOURCE },
      ),
      requestedScopes: ['s'],
    });
    expect(tokens).toEqual({
      accessToken: 'at',
      tokenType: 'Bearer',
      expiresAt: NOW + 60_000,
      grantedScopes: ['s'],
      requestedScopes: ['s'],
      issuedAt: NOW,
    });
    expect(http.requests).toEqual([
      {
        method: 'POST',
        url: TOKEN_ENDPOINT,
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: expect.any(String),
        form: {
          grant_type: 'authorization_code',
          code: 'code',
          code_verifier: 'verifier',
          redirect_uri: 'http://localhost/cb',
          resource: RESOURCE,
          client_id: 'client-1',
        },
      },
    ]);
  });

  it('refuses a redirect from the token endpoint after one request', async () => {
    const { http, context } = setup();
    http.on('POST', TOKEN_ENDPOINT, {
      status: 307,
      headers: { location: 'https://as.example.com/elsewhere' },
    });
    http.json('POST', 'https://as.example.com/elsewhere', ok);
    const error = await catchAsync(
      requestToken(context, { ...input({ type: 'client_credentials' }), requestedScopes: [] }),
    );
    expect(error.code).toBe('redirect_not_allowed');
    expect(http.log).toEqual([`POST ${TOKEN_ENDPOINT}`]);
  });

  it('reports an error response without its description', async () => {
    const { http, context } = setup();
    http.json('POST', TOKEN_ENDPOINT, { error: 'invalid_client', error_description: 'SECRET' }, 401);
    const error = await catchAsync(
      requestToken(context, {
        ...input(
          { type: 'client_credentials' },
          { client: { clientId: 'id', method: 'client_secret_post', clientSecret: 'SECRET-client-secret' } },
        ),
        requestedScopes: [],
      }),
    );
    expect(error.code).toBe('token_request_failed');
    expect(error.oauthError).toBe('invalid_client');
    expect(error.status).toBe(401);
    expectNoSecret(error);
  });

  it('does not retry use_dpop_nonce without DPoP', async () => {
    const { http, context } = setup();
    http.json('POST', TOKEN_ENDPOINT, { error: 'use_dpop_nonce' }, 400, { 'dpop-nonce': 'n1' });
    const error = await catchAsync(
      requestToken(context, { ...input({ type: 'client_credentials' }), requestedScopes: [] }),
    );
    expect(error.oauthError).toBe('use_dpop_nonce');
    expect(http.requests).toHaveLength(1);
  });

  describe('with DPoP', () => {
    function dpopSource(initial?: string) {
      const nonces = new Map<string, string>();
      if (initial !== undefined) nonces.set(TOKEN_ENDPOINT, initial);
      const proofs: Array<{ method: string; url: string; nonce: string | undefined }> = [];
      const source: DpopProofSource = {
        async proof(method, url, options) {
          proofs.push({ method, url, nonce: options.nonce });
          return `proof-${proofs.length}-${options.nonce ?? 'none'}`;
        },
        nonceFor: (url) => nonces.get(url),
        rememberNonce: (url, nonce) => nonces.set(url, nonce),
      };
      return { source, proofs, nonces };
    }

    const nonceError = (nonce: string) => ({
      status: 400,
      headers: { 'content-type': 'application/json', 'dpop-nonce': nonce },
      body: JSON.stringify({ error: 'use_dpop_nonce', error_description: 'SECRET' }),
    });

    it('sends a proof with the remembered nonce and accepts a DPoP token', async () => {
      const { http, context } = setup();
      const dpop = dpopSource('remembered');
      http.json('POST', TOKEN_ENDPOINT, { ...ok, token_type: 'DPoP' }, 200, { 'dpop-nonce': 'next' });
      const tokens = await requestToken(context, {
        ...input({ type: 'client_credentials' }),
        dpop: dpop.source,
        requestedScopes: [],
      });
      expect(tokens.tokenType).toBe('DPoP');
      expect(dpop.proofs).toEqual([{ method: 'POST', url: TOKEN_ENDPOINT, nonce: 'remembered' }]);
      expect(http.requests[0]?.headers.dpop).toBe('proof-1-remembered');
      expect(dpop.nonces.get(TOKEN_ENDPOINT)).toBe('next');
    });

    it('accepts a Bearer token when the server declines DPoP', async () => {
      const { http, context } = setup();
      http.json('POST', TOKEN_ENDPOINT, ok);
      const tokens = await requestToken(context, {
        ...input({ type: 'client_credentials' }),
        dpop: dpopSource().source,
        requestedScopes: [],
      });
      expect(tokens.tokenType).toBe('Bearer');
    });

    it('retries once with the nonce from a use_dpop_nonce error, building a fresh request', async () => {
      const { http, context } = setup();
      const dpop = dpopSource();
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const signingKey = await importSigningKey(privateKey.export({ format: 'jwk' }));
      http.on('POST', TOKEN_ENDPOINT, nonceError('n-1'), {
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...ok, token_type: 'DPoP' }),
      });
      const tokens = await requestToken(context, {
        ...input(
          { type: 'client_credentials' },
          { client: { clientId: 'c', method: 'private_key_jwt', signer: jwtSigner(signingKey) } },
        ),
        dpop: dpop.source,
        requestedScopes: [],
      });
      expect(tokens.tokenType).toBe('DPoP');
      expect(dpop.proofs).toEqual([
        { method: 'POST', url: TOKEN_ENDPOINT, nonce: undefined },
        { method: 'POST', url: TOKEN_ENDPOINT, nonce: 'n-1' },
      ]);
      expect(http.requests.map((request) => request.headers.dpop)).toEqual(['proof-1-none', 'proof-2-n-1']);
      const [first, second] = http.requests.map((request) =>
        decodeJwtPayload(request.form?.client_assertion ?? ''),
      );
      expect(first?.jti).toEqual(expect.any(String));
      expect(second?.jti).not.toBe(first?.jti);
    });

    it('gives up after the second use_dpop_nonce: exactly two requests', async () => {
      const { http, context } = setup();
      const dpop = dpopSource();
      http.on('POST', TOKEN_ENDPOINT, nonceError('n-1'), nonceError('n-2'), {
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(ok),
      });
      const error = await catchAsync(
        requestToken(context, {
          ...input({ type: 'client_credentials' }),
          dpop: dpop.source,
          requestedScopes: [],
        }),
      );
      expect(error.code).toBe('token_request_failed');
      expect(error.oauthError).toBe('use_dpop_nonce');
      expect(error.status).toBe(400);
      expectNoSecret(error);
      expect(http.requests).toHaveLength(2);
      expect(dpop.nonces.get(TOKEN_ENDPOINT)).toBe('n-2');
    });

    it('does not retry use_dpop_nonce without a new nonce, and ignores malformed nonces', async () => {
      for (const headers of [{}, { 'dpop-nonce': 'bad nonce "x"' }]) {
        const { http, context } = setup();
        const dpop = dpopSource();
        http.json('POST', TOKEN_ENDPOINT, { error: 'use_dpop_nonce' }, 400, headers);
        const error = await catchAsync(
          requestToken(context, {
            ...input({ type: 'client_credentials' }),
            dpop: dpop.source,
            requestedScopes: [],
          }),
        );
        expect(error.oauthError).toBe('use_dpop_nonce');
        expect(http.requests).toHaveLength(1);
        expect(dpop.nonces.size).toBe(0);
      }
    });

    it('wraps a failing proof source without its message', async () => {
      const { http, context } = setup();
      const source: DpopProofSource = {
        proof: async () => {
          throw new Error('SECRET key material');
        },
        nonceFor: () => undefined,
        rememberNonce: () => {},
      };
      const error = await catchAsync(
        requestToken(context, {
          ...input({ type: 'client_credentials' }),
          dpop: source,
          requestedScopes: [],
        }),
      );
      expect(error.code).toBe('dpop_failed');
      expectNoSecret(error);
      expect(http.requests).toHaveLength(0);
    });
  });
});

describe('requestTokenExchange', () => {
  it('exchanges an ID token for an ID-JAG with client_secret_basic', async () => {
    const http = new FakeHttpClient();
    const idpToken = 'https://idp.example.com/token';
    http.json('POST', idpToken, {
      access_token: 'jag',
      issued_token_type: TOKEN_TYPE_ID_JAG,
      token_type: 'N_A',
    });
    const result = await requestTokenExchange(createHttpContext(http), {
      tokenEndpoint: idpToken,
      issuer: 'https://idp.example.com',
      grant: {
        type: 'token_exchange',
        subjectToken: 'id-token',
        subjectTokenType: TOKEN_TYPE_ID_TOKEN,
        requestedTokenType: TOKEN_TYPE_ID_JAG,
        audience: ISSUER,
      },
      resource: RESOURCE,
      client: { clientId: 'idp-client', method: 'client_secret_basic', clientSecret: 's' },
      now: NOW,
    });
    expect(result).toEqual({
      accessToken: 'jag',
      issuedTokenType: TOKEN_TYPE_ID_JAG,
      tokenType: 'N_A',
      grantedScopes: [],
    });
    expect(http.requests).toHaveLength(1);
    const request = http.requests[0];
    expect(request?.headers.authorization).toBe(`Basic ${btoa('idp-client:s')}`);
    expect(utf8Decode(base64Decode(request?.headers.authorization?.slice(6) ?? ''))).toBe('idp-client:s');
    expect(request?.form).toEqual({
      grant_type: GRANT_TYPE_TOKEN_EXCHANGE,
      subject_token: 'id-token',
      subject_token_type: TOKEN_TYPE_ID_TOKEN,
      requested_token_type: TOKEN_TYPE_ID_JAG,
      audience: ISSUER,
      resource: RESOURCE,
    });
  });
});
