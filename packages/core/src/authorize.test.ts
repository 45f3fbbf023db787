import { describe, expect, it } from 'vitest';
import { type AuthorizationRequestInput, createAuthorizationRequest } from './authorize.js';
import { isOAuthClientError } from './errors.js';
import { computeCodeChallenge } from './pkce.js';
import type { AuthorizationServerMetadata } from './types.js';

const metadata: AuthorizationServerMetadata = {
  issuer: 'https://auth.example.com',
  authorization_endpoint: 'https://auth.example.com/authorize',
  token_endpoint: 'https://auth.example.com/token',
  code_challenge_methods_supported: ['S256'],
};

function input(overrides: Partial<AuthorizationRequestInput> = {}): AuthorizationRequestInput {
  return {
    metadata,
    clientId: 'client-123',
    redirectUri: 'http://127.0.0.1:33418/callback',
    scopes: ['mcp:tools', 'files:read'],
    resource: 'https://mcp.example.com/mcp',
    serverUrl: 'https://mcp.example.com/mcp',
    now: 1_700_000_000_000,
    ttlMs: 600_000,
    ...overrides,
  };
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(isOAuthClientError(error)).toBe(true);
  expect((error as { code: string }).code).toBe(code);
  return error as Error;
}

describe('createAuthorizationRequest', () => {
  it('sends every required parameter exactly once', async () => {
    const { url, pending } = await createAuthorizationRequest(input());
    const parsed = new URL(url);
    expect(`${parsed.origin}${parsed.pathname}`).toBe('https://auth.example.com/authorize');
    const parameters = parsed.searchParams;
    expect([...parameters.keys()].sort()).toEqual(
      [
        'client_id',
        'code_challenge',
        'code_challenge_method',
        'redirect_uri',
        'resource',
        'response_type',
        'scope',
        'state',
      ].sort(),
    );
    expect(parameters.get('response_type')).toBe('code');
    expect(parameters.get('client_id')).toBe('client-123');
    expect(parameters.get('redirect_uri')).toBe('http://127.0.0.1:33418/callback');
    expect(parameters.get('scope')).toBe('mcp:tools files:read');
    expect(parameters.get('resource')).toBe('https://mcp.example.com/mcp');
    expect(parameters.get('code_challenge_method')).toBe('S256');
    expect(parameters.get('state')).toBe(pending.state);
    expect(parameters.get('code_challenge')).toBe(await computeCodeChallenge(pending.codeVerifier));
    // the verifier itself never leaves the client
    expect(url).not.toContain(pending.codeVerifier);
  });

  it('records the pending authorization', async () => {
    const { pending } = await createAuthorizationRequest(
      input({ metadata: { ...metadata, authorization_response_iss_parameter_supported: true } }),
    );
    expect(pending).toEqual({
      state: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      codeVerifier: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      issuer: 'https://auth.example.com',
      resource: 'https://mcp.example.com/mcp',
      serverUrl: 'https://mcp.example.com/mcp',
      clientId: 'client-123',
      redirectUri: 'http://127.0.0.1:33418/callback',
      scopes: ['mcp:tools', 'files:read'],
      issParameterSupported: true,
      createdAt: 1_700_000_000_000,
      expiresAt: 1_700_000_600_000,
    });
  });

  it.each([
    [undefined, false],
    [false, false],
    ['true', false],
    [true, true],
  ])('sets issParameterSupported only for a literal true (%s)', async (advertised, expected) => {
    const { pending } = await createAuthorizationRequest(
      input({
        metadata: { ...metadata, authorization_response_iss_parameter_supported: advertised as boolean },
      }),
    );
    expect(pending.issParameterSupported).toBe(expected);
  });

  it('uses a fresh state and verifier for every request', async () => {
    const first = await createAuthorizationRequest(input());
    const second = await createAuthorizationRequest(input());
    expect(first.pending.state).not.toBe(second.pending.state);
    expect(first.pending.codeVerifier).not.toBe(second.pending.codeVerifier);
    expect(first.pending.state).not.toBe(first.pending.codeVerifier);
  });

  it('omits scope when there are no scopes', async () => {
    const { url, pending } = await createAuthorizationRequest(input({ scopes: [] }));
    expect(new URL(url).searchParams.has('scope')).toBe(false);
    expect(pending.scopes).toEqual([]);
  });

  it('drops repeated scopes but keeps their order', async () => {
    const { url, pending } = await createAuthorizationRequest(input({ scopes: ['b', 'a', 'b'] }));
    expect(new URL(url).searchParams.get('scope')).toBe('b a');
    expect(pending.scopes).toEqual(['b', 'a']);
  });

  it.each([['two words'], [''], ['quote"'], ['back\\slash']])('rejects the scope token %j', async (scope) => {
    await expectCode(createAuthorizationRequest(input({ scopes: ['ok', scope] })), 'invalid_options');
  });

  it('sends resource exactly as given, without normalising it', async () => {
    const { url } = await createAuthorizationRequest(
      input({ resource: 'https://MCP.example.com:443/Server/' }),
    );
    expect(new URL(url).searchParams.get('resource')).toBe('https://MCP.example.com:443/Server/');
  });

  it('percent-encodes the resource as the MCP example shows', async () => {
    const { url } = await createAuthorizationRequest(input({ resource: 'https://mcp.example.com' }));
    expect(url).toContain('&resource=https%3A%2F%2Fmcp.example.com');
  });

  it.each([['mcp.example.com'], ['https://mcp.example.com#fragment']])(
    'rejects the resource %s',
    async (resource) => {
      await expectCode(createAuthorizationRequest(input({ resource })), 'invalid_options');
    },
  );

  it('keeps the query parameters already in authorization_endpoint', async () => {
    const { url } = await createAuthorizationRequest(
      input({
        metadata: { ...metadata, authorization_endpoint: 'https://auth.example.com/authorize?tenant=acme' },
      }),
    );
    const parameters = new URL(url).searchParams;
    expect(parameters.get('tenant')).toBe('acme');
    expect(parameters.get('response_type')).toBe('code');
  });

  it.each([
    'state=evil',
    'code_challenge_method=plain',
    'response_type=token',
    'request_uri=urn:x',
    'client_id=honest',
    'redirect_uri=x',
  ])(
    'refuses an authorization_endpoint whose query sets a protocol parameter (%s): metadata_invalid',
    async (query) => {
      await expectCode(
        createAuthorizationRequest(
          input({
            metadata: { ...metadata, authorization_endpoint: `https://auth.example.com/authorize?${query}` },
          }),
        ),
        'metadata_invalid',
      );
    },
  );

  it('keeps an authorization_endpoint query that sets no protocol parameter', async () => {
    const { url } = await createAuthorizationRequest(
      input({
        metadata: { ...metadata, authorization_endpoint: 'https://auth.example.com/authorize?tenant=t1' },
      }),
    );
    expect(new URL(url).searchParams.get('tenant')).toBe('t1');
  });

  it('adds dpop_jkt when given', async () => {
    const jkt = 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs';
    const { url } = await createAuthorizationRequest(input({ dpopJkt: jkt }));
    expect(new URL(url).searchParams.get('dpop_jkt')).toBe(jkt);
    const without = await createAuthorizationRequest(input());
    expect(new URL(without.url).searchParams.has('dpop_jkt')).toBe(false);
  });

  it('rejects a dpop_jkt that is not a SHA-256 thumbprint', async () => {
    await expectCode(createAuthorizationRequest(input({ dpopJkt: 'short' })), 'invalid_options');
  });

  it('adds extra parameters', async () => {
    const { url } = await createAuthorizationRequest(
      input({ extraParameters: { prompt: 'consent', login_hint: 'a b&c' } }),
    );
    const parameters = new URL(url).searchParams;
    expect(parameters.get('prompt')).toBe('consent');
    expect(parameters.get('login_hint')).toBe('a b&c');
  });

  it.each([
    'response_type',
    'client_id',
    'redirect_uri',
    'scope',
    'state',
    'code_challenge',
    'code_challenge_method',
    'resource',
    'dpop_jkt',
    'request',
    'request_uri',
  ])('refuses extra parameter %s', async (name) => {
    const error = await expectCode(
      createAuthorizationRequest(input({ extraParameters: { [name]: 'SECRET-override' } })),
      'invalid_options',
    );
    expect(error.message).not.toContain('SECRET');
  });

  it('rejects metadata without authorization_endpoint', async () => {
    const { authorization_endpoint: _ignored, ...rest } = metadata;
    await expectCode(createAuthorizationRequest(input({ metadata: rest })), 'metadata_invalid');
  });

  it.each([['javascript:alert(1)'], ['http://auth.example.com/authorize'], ['not a url']])(
    'refuses the authorization_endpoint %s',
    async (endpoint) => {
      await expectCode(
        createAuthorizationRequest(input({ metadata: { ...metadata, authorization_endpoint: endpoint } })),
        'unsafe_url',
      );
    },
  );

  it('allows an http authorization_endpoint on loopback', async () => {
    const { url } = await createAuthorizationRequest(
      input({ metadata: { ...metadata, authorization_endpoint: 'http://localhost:9000/authorize' } }),
    );
    expect(url.startsWith('http://localhost:9000/authorize?')).toBe(true);
  });

  it.each([
    ['absent', undefined],
    ['plain only', ['plain']],
    ['empty', []],
  ])('refuses to proceed when code_challenge_methods_supported is %s', async (_label, methods) => {
    await expectCode(
      createAuthorizationRequest(
        input({ metadata: { ...metadata, code_challenge_methods_supported: methods as string[] } }),
      ),
      'pkce_unsupported',
    );
  });

  it('never uses plain even when the server lists it first', async () => {
    const { url } = await createAuthorizationRequest(
      input({ metadata: { ...metadata, code_challenge_methods_supported: ['plain', 'S256'] } }),
    );
    expect(new URL(url).searchParams.get('code_challenge_method')).toBe('S256');
  });

  it.each([
    ['clientId', { clientId: '' }],
    ['redirectUri', { redirectUri: '' }],
    ['redirectUri fragment', { redirectUri: 'http://127.0.0.1/cb#x' }],
    ['ttlMs', { ttlMs: 0 }],
    ['now', { now: Number.NaN }],
  ] as const)('rejects an invalid %s', async (_label, overrides) => {
    await expectCode(createAuthorizationRequest(input(overrides)), 'invalid_options');
  });
});
