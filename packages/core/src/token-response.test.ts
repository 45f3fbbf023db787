import { describe, expect, it } from 'vitest';
import type { OAuthHttpResponse } from './http.js';
import { catchError, expectNoSecret, json } from './test-utils/errors.js';
import { TOKEN_TYPE_ID_JAG } from './token.js';
import {
  MAXIMUM_EXPIRES_IN_SECONDS,
  parseTokenExchangeResponse,
  parseTokenResponse,
  type TokenResponseExpectations,
} from './token-response.js';
import type { TokenSet } from './types.js';

const NOW = 1_700_000_000_000;

const expectations: TokenResponseExpectations = {
  now: NOW,
  requestedScopes: ['read', 'write'],
  dpop: false,
  grant: 'authorization_code',
};

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
