import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { type CallbackParameters, parseCallback, validateCallback } from './callback.js';
import { isOAuthClientError, type OAuthClientError } from './errors.js';
import type { PendingAuthorization } from './types.js';

const STATE = 'SECRET-state-0123456789abcdefghijklmnopqrstuv';
const ISSUER = 'https://auth.example.com';

const pending: PendingAuthorization = {
  state: STATE,
  codeVerifier: 'SECRET-verifier',
  issuer: ISSUER,
  resource: 'https://mcp.example.com/mcp',
  serverUrl: 'https://mcp.example.com/mcp',
  clientId: 'client-123',
  redirectUri: 'http://127.0.0.1:33418/callback',
  scopes: [],
  issParameterSupported: false,
  createdAt: 1_000,
  expiresAt: 601_000,
};
const supported: PendingAuthorization = { ...pending, issParameterSupported: true };
const NOW = 2_000;

function caught(action: () => unknown): OAuthClientError {
  try {
    action();
  } catch (error) {
    expect(isOAuthClientError(error)).toBe(true);
    return error as OAuthClientError;
  }
  throw new Error('expected an error');
}

function expectNoSecret(error: OAuthClientError): void {
  for (const text of [error.message, JSON.stringify(error), inspect(error), String(error.cause)]) {
    expect(text).not.toContain('SECRET');
    expect(text).not.toContain('hostile');
  }
}

describe('parseCallback', () => {
  const expected = { code: 'abc', state: 'xyz', iss: 'https://auth.example.com' };

  it.each<[string, Parameters<typeof parseCallback>[0]]>([
    ['a full URL', 'http://127.0.0.1:33418/callback?code=abc&state=xyz&iss=https%3A%2F%2Fauth.example.com'],
    ['a URL object', new URL('http://127.0.0.1/cb?code=abc&state=xyz&iss=https%3A%2F%2Fauth.example.com')],
    ['a query with ?', '?code=abc&state=xyz&iss=https%3A%2F%2Fauth.example.com'],
    ['a query without ?', 'code=abc&state=xyz&iss=https%3A%2F%2Fauth.example.com'],
    ['URLSearchParams', new URLSearchParams({ code: 'abc', state: 'xyz', iss: 'https://auth.example.com' })],
    ['a plain object', { code: 'abc', state: 'xyz', iss: 'https://auth.example.com', other: 'ignored' }],
    ['a custom scheme URL', 'com.example.app:/oauth?code=abc&state=xyz&iss=https://auth.example.com'],
  ])('reads %s', (_label, input) => {
    expect(parseCallback(input)).toEqual(expected);
  });

  it('reads error responses', () => {
    expect(
      parseCallback(
        '?error=access_denied&error_description=User+said+no&error_uri=https%3A%2F%2Fe.example&state=s',
      ),
    ).toEqual({
      error: 'access_denied',
      errorDescription: 'User said no',
      errorUri: 'https://e.example',
      state: 's',
    });
  });

  it('returns no fields for absent parameters', () => {
    const parsed = parseCallback('http://127.0.0.1/cb');
    expect(parsed).toEqual({});
    expect(Object.keys(parsed)).toEqual([]);
    expect(Object.keys(parseCallback({ code: undefined }))).toEqual([]);
  });

  it('keeps an empty value as present', () => {
    expect(parseCallback('?iss=&code=')).toEqual({ iss: '', code: '' });
  });

  it('ignores the fragment', () => {
    expect(parseCallback('http://127.0.0.1/cb?state=s#code=frag')).toEqual({ state: 's' });
    expect(parseCallback('state=s#code=frag')).toEqual({ state: 's' });
    expect(parseCallback('?state=s&code=c#x')).toEqual({ state: 's', code: 'c' });
  });

  it('does not read inherited properties of a plain object', () => {
    const record = Object.create({ code: 'inherited' }) as Record<string, string>;
    record.state = 's';
    expect(parseCallback(record)).toEqual({ state: 's' });
  });

  it.each([
    ['code', '?code=a&code=b&state=s'],
    ['state', 'state=s&state=t&code=a'],
    ['iss', 'http://127.0.0.1/cb?iss=https://a.example&iss=https://b.example'],
    ['error', '?error=a&error=b'],
    ['error_description', '?error_description=a&error_description=b'],
    ['error_uri', '?error_uri=a&error_uri=b'],
  ])('rejects a repeated %s', (name, input) => {
    const error = caught(() => parseCallback(input));
    expect(error.code).toBe('authorization_failed');
    expect(error.message).toContain(`"${name}"`);
  });

  it('rejects duplicates in URLSearchParams and framework arrays', () => {
    expect(caught(() => parseCallback(new URLSearchParams('state=a&state=b'))).code).toBe(
      'authorization_failed',
    );
    const express = { code: ['a', 'b'] } as unknown as Record<string, string>;
    expect(caught(() => parseCallback(express)).code).toBe('authorization_failed');
  });

  it('tolerates repeats of parameters it does not read', () => {
    expect(parseCallback('?session_state=1&session_state=2&code=c')).toEqual({ code: 'c' });
  });

  it.each<[string, unknown]>([
    ['null', null],
    ['a number', 42],
    ['a non-string value', { code: 42 }],
    ['a malformed URL', 'http://[::1/cb?code=a'],
    [
      'a throwing getter',
      Object.defineProperty({}, 'code', {
        enumerable: true,
        get() {
          throw new TypeError('boom');
        },
      }),
    ],
  ])('throws only OAuthClientError for %s', (_label, input) => {
    expect(caught(() => parseCallback(input as string)).code).toBe('authorization_failed');
  });

  it('never echoes the hostile input', () => {
    expectNoSecret(caught(() => parseCallback('?code=SECRET-hostile&code=SECRET-2')));
  });
});

describe('validateCallback', () => {
  it('returns the code for a matching response', () => {
    expect(validateCallback({ code: 'the-code', state: STATE }, pending, NOW)).toEqual({ code: 'the-code' });
  });

  it('returns the code when iss matches and is advertised', () => {
    expect(validateCallback({ code: 'c', state: STATE, iss: ISSUER }, supported, NOW)).toEqual({ code: 'c' });
  });

  describe('state', () => {
    it.each<[string, CallbackParameters, PendingAuthorization | undefined, number]>([
      ['unknown or replayed state', { code: 'c', state: STATE }, undefined, NOW],
      ['missing state', { code: 'c' }, pending, NOW],
      ['empty state', { code: 'c', state: '' }, pending, NOW],
      ['a different state', { code: 'c', state: `${STATE.slice(0, -1)}X` }, pending, NOW],
      ['a prefix of the state', { code: 'c', state: STATE.slice(0, -1) }, pending, NOW],
      ['a longer state', { code: 'c', state: `${STATE}x` }, pending, NOW],
      ['an expired authorization', { code: 'c', state: STATE }, pending, pending.expiresAt + 1],
      ['state mismatch on an error response', { error: 'access_denied', state: 'other' }, pending, NOW],
    ])('rejects %s with state_mismatch', (_label, parameters, record, now) => {
      const error = caught(() => validateCallback(parameters, record, now));
      expect(error.code).toBe('state_mismatch');
      expectNoSecret(error);
    });

    it('accepts a response at exactly expiresAt', () => {
      expect(validateCallback({ code: 'c', state: STATE }, pending, pending.expiresAt)).toEqual({
        code: 'c',
      });
    });

    it('checks state before iss', () => {
      const error = caught(() =>
        validateCallback({ code: 'c', state: 'other', iss: 'https://evil' }, supported, NOW),
      );
      expect(error.code).toBe('state_mismatch');
    });
  });

  describe('RFC 9207 iss (MCP 2026-07-28 table)', () => {
    it.each<[string, PendingAuthorization, string | undefined, 'ok' | 'issuer_mismatch']>([
      ['advertised, present, equal', supported, ISSUER, 'ok'],
      ['advertised, present, different', supported, 'https://evil.example', 'issuer_mismatch'],
      ['advertised, absent', supported, undefined, 'issuer_mismatch'],
      ['not advertised, present, equal', pending, ISSUER, 'ok'],
      ['not advertised, present, different', pending, 'https://evil.example', 'issuer_mismatch'],
      ['not advertised, absent', pending, undefined, 'ok'],
      ['not advertised, present but empty', pending, '', 'issuer_mismatch'],
    ])('%s → %s', (_label, record, iss, outcome) => {
      const parameters: CallbackParameters =
        iss === undefined ? { code: 'c', state: STATE } : { code: 'c', state: STATE, iss };
      if (outcome === 'ok') {
        expect(validateCallback(parameters, record, NOW)).toEqual({ code: 'c' });
      } else {
        expect(caught(() => validateCallback(parameters, record, NOW)).code).toBe(outcome);
      }
    });

    it.each([
      ['scheme case', 'HTTPS://auth.example.com'],
      ['host case', 'https://Auth.Example.com'],
      ['trailing slash', 'https://auth.example.com/'],
      ['default port', 'https://auth.example.com:443'],
      ['percent-encoding', 'https://auth%2Eexample.com'],
      ['surrounding space', ' https://auth.example.com'],
    ])('does not normalise %s', (_label, iss) => {
      expect(caught(() => validateCallback({ code: 'c', state: STATE, iss }, pending, NOW)).code).toBe(
        'issuer_mismatch',
      );
    });

    it('compares the form-decoded value', () => {
      const parameters = parseCallback(`?code=c&state=${STATE}&iss=https%3A%2F%2Fauth.example.com`);
      expect(validateCallback(parameters, supported, NOW)).toEqual({ code: 'c' });
    });

    it('rejects an error response from the wrong issuer without acting on its text', () => {
      const error = caught(() =>
        validateCallback(
          {
            state: STATE,
            iss: 'https://evil.example',
            error: 'access_denied',
            errorDescription: 'hostile: visit https://evil.example/phish',
            errorUri: 'https://evil.example/hostile',
          },
          pending,
          NOW,
        ),
      );
      expect(error.code).toBe('issuer_mismatch');
      expect(error.oauthError).toBeUndefined();
      expect(error.message).not.toContain('access_denied');
      expect(error.message).not.toContain('evil');
      expectNoSecret(error);
    });

    it('rejects an error response without iss when the server advertises it', () => {
      const error = caught(() => validateCallback({ state: STATE, error: 'server_error' }, supported, NOW));
      expect(error.code).toBe('issuer_mismatch');
      expect(error.oauthError).toBeUndefined();
    });
  });

  describe('error responses', () => {
    it('maps access_denied to authorization_denied', () => {
      const error = caught(() =>
        validateCallback(
          { state: STATE, iss: ISSUER, error: 'access_denied', errorDescription: 'hostile <script>' },
          supported,
          NOW,
        ),
      );
      expect(error.code).toBe('authorization_denied');
      expect(error.oauthError).toBe('access_denied');
      // After the `iss` check, the server's own words are shown, marked as such.
      expect(error.message).toContain('(the server said: "hostile <script>")');
      expect(JSON.stringify(error)).not.toContain('SECRET');
    });

    it.each(['invalid_scope', 'server_error', 'invalid_target', 'temporarily_unavailable'])(
      'maps %s to authorization_failed and names it',
      (code) => {
        const error = caught(() => validateCallback({ state: STATE, error: code }, pending, NOW));
        expect(error.code).toBe('authorization_failed');
        expect(error.oauthError).toBe(code);
        expect(error.message).toContain(code);
      },
    );

    it('does not put an unknown error code in the message, and shows only a sanitized description', () => {
      const error = caught(() =>
        validateCallback(
          {
            state: STATE,
            error: 'hostile_custom_error',
            errorDescription:
              'hostile description SECRETdGhpcyBpcyBhIHJlZmxlY3RlZA see https://x.example/?t=1',
            errorUri: 'https://hostile.example',
          },
          pending,
          NOW,
        ),
      );
      expect(error.code).toBe('authorization_failed');
      expect(error.oauthError).toBe('hostile_custom_error');
      expect(error.message).not.toContain('hostile_custom_error');
      expect(error.message).toContain('(the server said: "hostile description [redacted] see [url]")');
      expect(error.message).not.toContain('SECRET');
    });

    it('drops an error value with characters outside the RFC 6749 set', () => {
      const error = caught(() => validateCallback({ state: STATE, error: 'bad"value\n' }, pending, NOW));
      expect(error.code).toBe('authorization_failed');
      expect(error.oauthError).toBeUndefined();
    });

    it('treats an error as an error even when a code is present', () => {
      const error = caught(() =>
        validateCallback({ state: STATE, code: 'SECRET-code', error: 'server_error' }, pending, NOW),
      );
      expect(error.code).toBe('authorization_failed');
      expectNoSecret(error);
    });
  });

  it.each<[string, CallbackParameters]>([
    ['missing', { state: STATE }],
    ['empty', { state: STATE, code: '' }],
  ])('rejects a %s code', (_label, parameters) => {
    expect(caught(() => validateCallback(parameters, pending, NOW)).code).toBe('authorization_failed');
  });

  it('never puts the code or state into any error', () => {
    const cases: [CallbackParameters, PendingAuthorization | undefined][] = [
      [{ code: 'SECRET-code', state: 'SECRET-other' }, pending],
      [{ code: 'SECRET-code', state: STATE }, undefined],
      [{ code: 'SECRET-code', state: STATE, iss: 'https://SECRET.example' }, pending],
      [{ code: 'SECRET-code', state: STATE }, supported],
    ];
    for (const [parameters, record] of cases)
      expectNoSecret(caught(() => validateCallback(parameters, record, NOW)));
  });
});
