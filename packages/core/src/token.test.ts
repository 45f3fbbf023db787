import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ClientAuthentication } from './client-auth.js';
import { DpopNonceStore, tokenRequestProofs } from './dpop.js';
import { base64Decode, utf8Decode } from './encoding.js';
import { createHttpContext } from './http.js';
import { decodeJwtPayload, jwtSigner } from './jwt.js';
import { importSigningKey } from './signing-key.js';
import { catchAsync, expectNoSecret } from './test-utils/errors.js';
import { FakeHttpClient } from './test-utils/fake-http.js';
import {
  buildTokenRequest,
  GRANT_TYPE_JWT_BEARER,
  GRANT_TYPE_TOKEN_EXCHANGE,
  requestToken,
  requestTokenExchange,
  TOKEN_TYPE_ID_JAG,
  TOKEN_TYPE_ID_TOKEN,
  type TokenGrant,
  type TokenRequestInput,
} from './token.js';

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
    /** The real token-endpoint DPoP logic over a fake signer and a real nonce store. */
    function dpopSource(initial?: string) {
      const nonces = new DpopNonceStore();
      if (initial !== undefined) nonces.set(TOKEN_ENDPOINT, initial);
      const proofs: Array<{ url: string; nonce: string | undefined }> = [];
      const source = tokenRequestProofs({
        async sign(url, nonce) {
          proofs.push({ url, nonce });
          return `proof-${proofs.length}-${nonce ?? 'none'}`;
        },
        nonces,
      });
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
      expect(dpop.proofs).toEqual([{ url: TOKEN_ENDPOINT, nonce: 'remembered' }]);
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
        { url: TOKEN_ENDPOINT, nonce: undefined },
        { url: TOKEN_ENDPOINT, nonce: 'n-1' },
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

    it('sends a token request at most twice even when a proof source always asks for a retry', async () => {
      const { http, context } = setup();
      http.on('POST', TOKEN_ENDPOINT, nonceError('n-1'), nonceError('n-2'), nonceError('n-3'));
      const attempts: number[] = [];
      const error = await catchAsync(
        requestToken(context, {
          ...input({ type: 'client_credentials' }),
          dpop: {
            proof: async () => 'proof',
            retry: (_url, _response, attempt) => {
              attempts.push(attempt);
              // Without the bound in core this would loop forever; stop it so the test fails instead.
              if (attempts.length > 3) throw new Error('retried without a bound');
              return true;
            },
          },
          requestedScopes: [],
        }),
      );
      expect(error.oauthError).toBe('use_dpop_nonce');
      expect(attempts).toEqual([0, 1]);
      expect(http.requests).toHaveLength(2);
    });

    it('wraps a failing proof source without its message', async () => {
      const { http, context } = setup();
      const source = tokenRequestProofs({
        sign: async () => {
          throw new Error('SECRET key material');
        },
        nonces: new DpopNonceStore(),
      });
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
