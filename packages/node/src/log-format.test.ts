import { inspect } from 'node:util';
import { OAuthClientError } from '@mcp-oauth/core';
import { describe, expect, it } from 'vitest';
import { formatLogEvent, isSecretKey, REDACTED, sanitize } from './log-format.js';

describe('isSecretKey', () => {
  it.each([
    ...['access_token', 'refresh_token', 'id_token', 'accessToken', 'refreshToken', 'token', 'tokens'],
    ...['client_secret', 'clientSecret', 'code', 'authorization_code', 'code_verifier', 'codeVerifier'],
    ...['client_assertion', 'assertion', 'authorization', 'Authorization', 'password', 'proxy-password'],
    ...['cookie', 'set-cookie', 'private_key', 'privateKey', 'dpop_proof', 'credentials', 'tokenValue'],
  ])('%s is secret', (key) => {
    expect(isSecretKey(key)).toBe(true);
  });

  it.each([
    ...['token_endpoint', 'tokenEndpoint', 'authorization_endpoint', 'token_type', 'token_type_hint'],
    ...['code_challenge_method', 'expires_in', 'secret_expires_at', 'client_id', 'key_id', 'issuer'],
    ...['url', 'status', 'scopes', 'grant', 'hint', 'decision', 'error', 'reason', 'source', 'dpop'],
  ])('%s is not', (key) => {
    expect(isSecretKey(key)).toBe(false);
  });
});

describe('formatLogEvent', () => {
  const table: [string, unknown, string][] = [
    [
      'session.refresh',
      { issuer: 'https://auth.example.com' },
      'session.refresh issuer=https://auth.example.com',
    ],
    ['session.refresh', undefined, 'session.refresh'],
    [
      'discovery.as.found',
      {
        url: 'https://as.example/.well-known/oauth-authorization-server',
        issuer: 'https://as.example',
        source: 'prm',
      },
      'discovery.as.found url=https://as.example/.well-known/oauth-authorization-server issuer=https://as.example source=prm',
    ],
    ['x', { status: 401, dpop: false, missing: undefined, none: null }, 'x status=401 dpop=false none=null'],
    ['x', { scopes: ['mcp:tools', 'mcp:admin'] }, 'x scopes=["mcp:tools","mcp:admin"]'],
    ['x', { reason: 'has spaces', quote: 'a"b' }, 'x reason="has spaces" quote="a\\"b"'],
    ['x', { reason: 'two\nlines' }, 'x reason="two\\nlines"'],
    // secrets by key
    ['x', { access_token: 'SECRET-1', token_type: 'Bearer' }, `x access_token=${REDACTED} token_type=Bearer`],
    [
      'x',
      { refreshToken: 'SECRET-2', hasRefreshToken: true },
      `x refreshToken=${REDACTED} hasRefreshToken=true`,
    ],
    ['x', { code: 'SECRET-3' }, `x code=${REDACTED}`],
    ['x', { code: 'refresh_failed' }, 'x code=refresh_failed'], // one of core's error codes
    [
      'x',
      { code_verifier: 'SECRET-4', client_secret: 'SECRET-5' },
      `x code_verifier=${REDACTED} client_secret=${REDACTED}`,
    ],
    ['x', { authorization: 'SECRET-6', password: 12345 }, `x authorization=${REDACTED} password=${REDACTED}`],
    ['x', { nested: { tokens: { access_token: 'SECRET-7' } } }, `x nested={"tokens":"${REDACTED}"}`],
    ['x', { list: [{ client_assertion: 'SECRET-8' }] }, `x list=[{"client_assertion":"${REDACTED}"}]`],
    ['x', { token_endpoint: 'https://as.example/token' }, 'x token_endpoint=https://as.example/token'],
    // secrets by shape, under any key
    ['x', { header: 'Bearer SECRET-9' }, `x header=${REDACTED}`],
    ['x', { value: 'DPoP SECRET-10' }, `x value=${REDACTED}`],
    ['x', { value: 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJTRUNSRVQtMTEifQ.c2lnbmF0dXJl' }, `x value=${REDACTED}`],
    // URLs: no query, fragment or user information, in a value or inside text
    [
      'x',
      { url: 'https://as.example/authorize?code=SECRET-12&state=s' },
      'x url=https://as.example/authorize',
    ],
    [
      'x',
      { url: 'https://user:SECRET-13@proxy.example:8080/p#SECRET-14' },
      'x url=https://proxy.example:8080/p',
    ],
    [
      'x',
      { message: 'redirected to http://127.0.0.1:1/cb?code=SECRET-15 and back' },
      'x message="redirected to http://127.0.0.1:1/cb and back"',
    ],
    ['x', { url: new URL('https://mcp.example/mcp?api_key=SECRET-16') }, 'x url=https://mcp.example/mcp'],
    // odd names and data
    ['bad event\nname', { a: 1 }, '"bad event\\nname" a=1'],
    ['x', 'just text', 'x data="just text"'],
    ['x', { 'odd name=': 1 }, 'x "odd name="=1'],
  ];
  it.each(table)('%s %j', (event, data, line) => {
    expect(formatLogEvent(event, data)).toBe(line);
  });

  it('shows an error as its name, code and message, never its cause or stack', () => {
    const cause = new Error('body: {"access_token":"SECRET-17"}');
    const error = Object.assign(new Error('token request failed', { cause }), { code: 'E_TOKEN' });
    expect(formatLogEvent('token.failed', { error })).toBe(
      'token.failed error={"name":"Error","code":"E_TOKEN","message":"token request failed"}',
    );
    const engineError = new OAuthClientError('token_request_failed', 'token request failed');
    expect(formatLogEvent('token.failed', { error: engineError })).toBe(
      'token.failed error={"name":"OAuthClientError","code":"token_request_failed","message":"token request failed"}',
    );
  });

  it('keeps cycles, depth and size bounded', () => {
    const cyclic: Record<string, unknown> = { name: 'a' };
    cyclic.self = cyclic;
    expect(formatLogEvent('x', { cyclic })).toBe('x cyclic={"name":"a","self":"[circular]"}');
    expect(formatLogEvent('x', { a: { b: { c: { d: { e: 1 } } } } })).toBe('x a={"b":{"c":{"d":"[…]"}}}');
    const long = formatLogEvent('x', { text: 'y'.repeat(2000) });
    expect(long.length).toBeLessThan(600);
    expect(sanitize(Array.from({ length: 40 }, (_, i) => i))).toHaveLength(33);
  });

  it('never lets a SECRET value through, whatever the key or nesting', () => {
    const data = {
      access_token: 'SECRET-a',
      nested: [{ refresh_token: 'SECRET-b', url: 'https://x.example/?t=SECRET-c' }],
      header: 'Bearer SECRET-d',
      error: new Error('failed at https://x.example/cb?code=SECRET-e'),
    };
    const line = formatLogEvent('x', data);
    for (const shown of [line, JSON.stringify(sanitize(data)), inspect(sanitize(data), { depth: 10 })]) {
      expect(shown).not.toContain('SECRET');
    }
    expect(line).not.toContain('\n');
  });
});
