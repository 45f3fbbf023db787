import { describe, expect, it } from 'vitest';
import { isOAuthClientError } from './errors.js';
import {
  allowsLoopbackHttp,
  assertSafeUrl,
  authorizationServerMetadataUrls,
  canonicalResourceUrl,
  isLoopbackHost,
  isWithinResource,
  protectedResourceMetadataUrls,
  redactUrl,
  tryParseUrl,
} from './url.js';

describe('isLoopbackHost', () => {
  it.each([
    ['localhost', true],
    ['LOCALHOST', true],
    ['app.localhost', true],
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['[::1]', true],
    ['localhost.example.com', false],
    ['notlocalhost', false],
    ['128.0.0.1', false],
    ['127.0.0.1.example.com', false],
    ['0.0.0.0', false],
    ['::1', false],
    ['[::2]', false],
    ['example.com', false],
    ['', false],
  ])('%j → %s', (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected);
  });

  it('agrees with what URL parsing produces for loopback forms', () => {
    expect(isLoopbackHost(new URL('http://[0:0:0:0:0:0:0:1]:8080/').hostname)).toBe(true);
    expect(isLoopbackHost(new URL('http://LocalHost/').hostname)).toBe(true);
    expect(isLoopbackHost(new URL('http://2130706433/').hostname)).toBe(true); // 127.0.0.1 as a number
  });
});

describe('allowsLoopbackHttp', () => {
  it.each([
    ['http://localhost:3000/mcp', true],
    ['http://127.0.0.1/mcp', true],
    ['https://localhost/mcp', false],
    ['http://mcp.example.com/mcp', false],
  ])('%s → %s', (url, expected) => {
    expect(allowsLoopbackHttp(new URL(url))).toBe(expected);
  });
});

describe('assertSafeUrl', () => {
  const strict = { what: 'token_endpoint', allowLoopbackHttp: false };
  const loopbackOk = { what: 'token_endpoint', allowLoopbackHttp: true };

  it.each([
    ['https://as.example.com/token', strict],
    ['https://as.example.com:8443/token?x=1', strict],
    ['https://127.0.0.1/token', strict],
    ['http://localhost:8080/token', loopbackOk],
    ['http://127.0.0.1:8080/token', loopbackOk],
    ['http://[::1]:8080/token', loopbackOk],
  ])('accepts %s', (value, options) => {
    expect(assertSafeUrl(value, options).href).toBe(new URL(value).href);
  });

  it.each([
    [
      'http on a public host',
      'http://as.example.com/token',
      loopbackOk,
      'must use https (http is allowed only for loopback)',
    ],
    [
      'http on loopback when not allowed',
      'http://localhost/token',
      strict,
      'must use https (http is allowed only for loopback)',
    ],
    ['link-local IPv4 (cloud metadata)', 'https://169.254.169.254/latest/meta-data', strict, 'link-local'],
    ['link-local IPv4 over loopback-allowed http', 'http://169.254.169.254/', loopbackOk, 'link-local'],
    ['link-local IPv4 as a number', 'https://2852039166/', strict, 'link-local'],
    ['link-local IPv6', 'https://[fe80::1]/token', strict, 'link-local'],
    ['link-local IPv6 (febf::)', 'https://[febf::1]/token', strict, 'link-local'],
    ['IPv4-mapped link-local IPv6', 'https://[::ffff:169.254.169.254]/', strict, 'link-local'],
    ['IPv4-compatible link-local IPv6', 'https://[::169.254.169.254]/', strict, 'link-local'],
    ['NAT64 link-local', 'https://[64:ff9b::169.254.169.254]/', strict, 'link-local'],
    ['6to4 link-local', 'https://[2002:a9fe:a9fe::1]/', strict, 'link-local'],
    ['userinfo', 'https://user:pass@as.example.com/token', strict, 'credentials'],
    ['username only', 'https://user@as.example.com/token', strict, 'credentials'],
    ['fragment', 'https://as.example.com/token#frag', strict, 'fragment'],
    ['javascript:', 'javascript:alert(1)', loopbackOk, 'must use https'],
    ['data:', 'data:text/html,<script>alert(1)</script>', loopbackOk, 'must use https'],
    ['file:', 'file:///etc/passwd', loopbackOk, 'must use https'],
    ['ftp:', 'ftp://as.example.com/', strict, 'must use https'],
    ['relative', '/token', strict, 'must be an absolute URL'],
    ['empty', '', strict, 'must be an absolute URL'],
    ['too long', `https://as.example.com/${'a'.repeat(4096)}`, strict, 'must be an absolute URL'],
    ['not a string', 42, strict, 'must be an absolute URL'],
    ['null', null, strict, 'must be an absolute URL'],
  ])('refuses %s', (_name, value, options, message) => {
    let caught: unknown;
    try {
      assertSafeUrl(value, options);
    } catch (error) {
      caught = error;
    }
    expect(isOAuthClientError(caught, 'unsafe_url')).toBe(true);
    expect((caught as Error).message).toContain('token_endpoint');
    expect((caught as Error).message).toContain(message);
  });

  it('accepts exactly 4096 characters', () => {
    const value = `https://as.example.com/${'a'.repeat(4096 - 'https://as.example.com/'.length)}`;
    expect(value).toHaveLength(4096);
    expect(assertSafeUrl(value, strict).href).toBe(value);
  });

  it('does not echo the URL (or its secrets) in the message', () => {
    try {
      assertSafeUrl('http://user:SECRET@as.example.com/token?code=SECRET', strict);
      expect.unreachable();
    } catch (error) {
      expect(JSON.stringify(error)).not.toContain('SECRET');
      expect((error as Error).message).not.toContain('SECRET');
    }
  });
});

describe('canonicalResourceUrl', () => {
  it.each([
    ['https://MCP.Example.COM/mcp', 'https://mcp.example.com/mcp'],
    ['HTTPS://mcp.example.com/', 'https://mcp.example.com'],
    ['https://mcp.example.com', 'https://mcp.example.com'],
    ['https://mcp.example.com:443/mcp', 'https://mcp.example.com/mcp'],
    ['https://mcp.example.com:8443/mcp', 'https://mcp.example.com:8443/mcp'],
    ['https://mcp.example.com/mcp/', 'https://mcp.example.com/mcp/'],
    ['https://mcp.example.com/mcp#section', 'https://mcp.example.com/mcp'],
    ['https://mcp.example.com/mcp?tenant=a', 'https://mcp.example.com/mcp?tenant=a'],
    ['http://localhost:3000/mcp', 'http://localhost:3000/mcp'],
  ])('%s → %s', (input, expected) => {
    expect(canonicalResourceUrl(input)).toBe(expected);
    expect(canonicalResourceUrl(new URL(input))).toBe(expected);
  });

  it('does not modify a URL object it is given', () => {
    const url = new URL('https://mcp.example.com/mcp#x');
    canonicalResourceUrl(url);
    expect(url.hash).toBe('#x');
  });
});

describe('redactUrl', () => {
  it.each([
    ['https://as.example.com/token?code=SECRET&state=s', 'https://as.example.com/token'],
    ['https://as.example.com/cb#access_token=SECRET', 'https://as.example.com/cb'],
    ['https://user:SECRET@as.example.com/path', 'https://as.example.com/path'],
    ['https://as.example.com', 'https://as.example.com/'],
    ['not a url ?SECRET', '(invalid url)'],
  ])('%s → %s', (input, expected) => {
    expect(redactUrl(input)).toBe(expected);
    expect(redactUrl(input)).not.toContain('SECRET');
  });

  it('accepts a URL object', () => {
    expect(redactUrl(new URL('https://as.example.com/a/b?q=1'))).toBe('https://as.example.com/a/b');
  });
});

describe('tryParseUrl', () => {
  it('parses absolute URLs and resolves against a base', () => {
    expect(tryParseUrl('https://a.example/x')?.href).toBe('https://a.example/x');
    expect(tryParseUrl('/y', 'https://a.example/x')?.href).toBe('https://a.example/y');
  });

  it('gives undefined instead of throwing', () => {
    expect(tryParseUrl('/relative')).toBeUndefined();
    expect(tryParseUrl('http://[bad')).toBeUndefined();
  });
});

describe('isWithinResource', () => {
  it.each([
    ['https://mcp.example.com/mcp', 'https://mcp.example.com/mcp', true],
    ['https://mcp.example.com/mcp/tools', 'https://mcp.example.com/mcp', true],
    ['https://mcp.example.com/mcp/tools', 'https://mcp.example.com/mcp/', true],
    ['https://mcp.example.com/anything', 'https://mcp.example.com/', true],
    ['https://mcp.example.com/mcpx', 'https://mcp.example.com/mcp', false],
    ['https://mcp.example.com/other', 'https://mcp.example.com/mcp', false],
    ['https://mcp.example.com/', 'https://mcp.example.com/mcp', false],
    ['https://evil.example.com/mcp', 'https://mcp.example.com/mcp', false],
    ['http://mcp.example.com/mcp', 'https://mcp.example.com/mcp', false],
    ['https://mcp.example.com:8443/mcp', 'https://mcp.example.com/mcp', false],
  ])('%s within %s → %s', (candidate, resource, expected) => {
    expect(isWithinResource(new URL(candidate), new URL(resource))).toBe(expected);
  });
});

describe('protectedResourceMetadataUrls', () => {
  it.each([
    ['https://mcp.example.com', ['https://mcp.example.com/.well-known/oauth-protected-resource']],
    ['https://mcp.example.com/', ['https://mcp.example.com/.well-known/oauth-protected-resource']],
    [
      'https://mcp.example.com/mcp',
      [
        'https://mcp.example.com/.well-known/oauth-protected-resource/mcp',
        'https://mcp.example.com/.well-known/oauth-protected-resource',
      ],
    ],
    [
      'https://mcp.example.com/mcp/',
      [
        'https://mcp.example.com/.well-known/oauth-protected-resource/mcp',
        'https://mcp.example.com/.well-known/oauth-protected-resource',
      ],
    ],
    [
      'https://mcp.example.com:8443/a/b',
      [
        'https://mcp.example.com:8443/.well-known/oauth-protected-resource/a/b',
        'https://mcp.example.com:8443/.well-known/oauth-protected-resource',
      ],
    ],
  ])('%s', (server, expected) => {
    expect(protectedResourceMetadataUrls(new URL(server))).toEqual(expected);
  });
});

describe('authorizationServerMetadataUrls', () => {
  it.each([
    [
      'https://auth.example.com',
      [
        'https://auth.example.com/.well-known/oauth-authorization-server',
        'https://auth.example.com/.well-known/openid-configuration',
      ],
    ],
    [
      'https://auth.example.com/',
      [
        'https://auth.example.com/.well-known/oauth-authorization-server',
        'https://auth.example.com/.well-known/openid-configuration',
      ],
    ],
    [
      'https://auth.example.com/tenant1',
      [
        'https://auth.example.com/.well-known/oauth-authorization-server/tenant1',
        'https://auth.example.com/.well-known/openid-configuration/tenant1',
        'https://auth.example.com/tenant1/.well-known/openid-configuration',
      ],
    ],
    [
      'https://auth.example.com/tenant1/',
      [
        'https://auth.example.com/.well-known/oauth-authorization-server/tenant1',
        'https://auth.example.com/.well-known/openid-configuration/tenant1',
        'https://auth.example.com/tenant1/.well-known/openid-configuration',
      ],
    ],
    [
      'https://auth.example.com/realms/mcp',
      [
        'https://auth.example.com/.well-known/oauth-authorization-server/realms/mcp',
        'https://auth.example.com/.well-known/openid-configuration/realms/mcp',
        'https://auth.example.com/realms/mcp/.well-known/openid-configuration',
      ],
    ],
  ])('%s', (issuer, expected) => {
    expect(authorizationServerMetadataUrls(new URL(issuer))).toEqual(expected);
  });
});
