import { describe, expect, it, vi } from 'vitest';
import { dpop } from '../dpop.js';
import { isOAuthClientError } from '../errors.js';
import { createMemoryStores, type OAuthStores, tokenKey } from '../stores.js';
import { FakeHttpClient } from '../test-utils/fake-http.js';
import { FakeServer, ISSUER, json, SERVER } from '../test-utils/fake-server.js';
import type { OAuthSessionOptions } from './options.js';
import { redirectUriForIssuer } from './redirect-uri.js';
import type { ResourceRequest, ResourceRequestInit, SendStep } from './resource-request.js';
import { OAuthSession } from './session.js';

const REDIRECT = 'http://127.0.0.1:8765/callback';

function setup(
  serverOptions: ConstructorParameters<typeof FakeServer>[0] = {},
  sessionOptions: Partial<OAuthSessionOptions> = {},
) {
  const server = new FakeServer(serverOptions);
  const approvals: string[] = [];
  const session = new OAuthSession({
    serverUrl: server.resourceUrl,
    httpClient: server.http,
    client: { clientName: 'test client', redirectUris: [REDIRECT] },
    authorizationHandler: async ({ authorizationUrl }) => {
      approvals.push(authorizationUrl);
      return server.approve(authorizationUrl);
    },
    clock: () => server.now,
    ...sessionOptions,
  });
  return { server, session, approvals };
}

/** What an adapter does: the session's steps, the fake resource server's answers. */
async function call(
  session: OAuthSession,
  server: FakeServer,
  options: { url?: string; scopes?: readonly string[]; method?: string; signal?: AbortSignal } = {},
) {
  const url = options.url ?? server.resourceUrl;
  const method = options.method ?? 'POST';
  const request = await session.beginRequest({ method, url, signal: options.signal });
  for (let step: SendStep = request.first; ; ) {
    const response = server.resource({ ...step.headers }, options.scopes);
    const next = await request.respond({ status: response.status, headers: response.headers });
    if (next.type === 'done') return response;
    step = next;
  }
}

/** The credential headers the session gives a request begun now. */
async function headersOf(session: OAuthSession, init: ResourceRequestInit): Promise<Record<string, string>> {
  return { ...(await session.beginRequest(init)).first.headers };
}

/** One response to a request (begun now unless given): `retry` when the session sends again, else `pass`. */
async function respondOnce(
  session: OAuthSession,
  input: {
    method: string;
    url: string;
    status: number;
    headers: Record<string, string>;
    attempt?: number;
    request?: ResourceRequest;
  },
): Promise<'retry' | 'pass'> {
  const request = input.request ?? (await session.beginRequest({ method: input.method, url: input.url }));
  let next = await request.respond({ status: input.status, headers: input.headers });
  if ((input.attempt ?? 0) >= 1 && next.type === 'send') {
    next = await request.respond({ status: input.status, headers: input.headers });
  }
  return next.type === 'send' ? 'retry' : 'pass';
}

const PRM = `${SERVER}/.well-known/oauth-protected-resource/mcp`;
const AS_METADATA = `${ISSUER}/.well-known/oauth-authorization-server`;

describe('OAuthSession: authorization code flow', () => {
  it('goes from a first 401 to an authorized call with the protocol minimum of requests', async () => {
    const { server, session, approvals } = setup();
    const response = await call(session, server);

    expect(response.status).toBe(200);
    expect(server.http.log).toEqual([
      `GET ${PRM}`,
      `GET ${AS_METADATA}`,
      `POST ${ISSUER}/register`,
      `POST ${ISSUER}/token`,
    ]);
    const [prm, metadata, register, token] = server.http.requests;
    expect(prm!.headers).toEqual({ accept: 'application/json' });
    expect(metadata!.headers).toEqual({ accept: 'application/json' });
    const registration = JSON.parse(register!.body!);
    expect(registration).toMatchObject({
      client_name: 'test client',
      redirect_uris: [redirectUriForIssuer(REDIRECT, ISSUER)],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      application_type: 'native',
      token_endpoint_auth_method: 'none',
    });

    expect(approvals).toHaveLength(1);
    const authorization = new URL(approvals[0]!);
    expect(`${authorization.origin}${authorization.pathname}`).toBe(`${ISSUER}/authorize`);
    const query = Object.fromEntries(authorization.searchParams);
    expect(query).toMatchObject({
      response_type: 'code',
      client_id: 'client-1',
      redirect_uri: redirectUriForIssuer(REDIRECT, ISSUER),
      code_challenge_method: 'S256',
      resource: `${SERVER}/mcp`,
    });
    expect(query.scope?.split(' ')).toContain('mcp:read');
    expect(query.code_challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(query.state!.length).toBeGreaterThanOrEqual(22);

    expect(token!.form).toMatchObject({
      grant_type: 'authorization_code',
      code: 'code-1',
      redirect_uri: redirectUriForIssuer(REDIRECT, ISSUER),
      resource: `${SERVER}/mcp`,
      client_id: 'client-1',
    });
    expect(token!.form!.code_verifier).toMatch(/^[A-Za-z0-9._~-]{43,128}$/);
    expect(token!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(token!.headers.authorization).toBeUndefined();

    const info = session.getTokenInfo();
    expect(info).toMatchObject({
      issuer: ISSUER,
      resource: `${SERVER}/mcp`,
      clientId: 'client-1',
      tokenType: 'Bearer',
    });
    expect(info!.grantedScopes).toContain('mcp:read');
    expect(JSON.stringify(info)).not.toContain('SECRET');
  });

  it('attaches the token only inside the protected resource', async () => {
    const { server, session } = setup();
    await call(session, server);
    const headersFor = (url: string) => headersOf(session, { method: 'GET', url });
    expect(await headersFor(`${SERVER}/mcp`)).toEqual({ authorization: 'Bearer access-SECRET-2' });
    expect(await headersFor(`${SERVER}/mcp/session/1`)).toHaveProperty('authorization');
    expect(await headersFor(`${SERVER}/mcp?x=1`)).toHaveProperty('authorization');
    expect(await headersFor(`${SERVER}/mcp2`)).toEqual({});
    expect(await headersFor(`${SERVER}/other`)).toEqual({});
    expect(await headersFor('https://evil.example.com/mcp')).toEqual({});
    expect(await headersFor('http://mcp.example.com/mcp')).toEqual({});
    expect(await headersFor('https://mcp.example.com:8443/mcp')).toEqual({});
    expect(await headersFor('not a url')).toEqual({});
  });

  it('refreshes proactively near expiry, forwarding granted scopes and the resource', async () => {
    const { server, session } = setup({ accessTokenLifetime: 60 });
    await call(session, server);
    server.http.requests.length = 0;
    server.now += 45_000; // within the 30 s skew
    const headers = await headersOf(session, { method: 'GET', url: server.resourceUrl });
    expect(headers.authorization).toBe('Bearer access-SECRET-3');
    expect(server.http.log).toEqual([`POST ${ISSUER}/token`]);
    const form = server.http.requests[0]!.form!;
    expect(form).toMatchObject({
      grant_type: 'refresh_token',
      refresh_token: 'refresh-SECRET-2',
      resource: `${SERVER}/mcp`,
      client_id: 'client-1',
    });
    expect(form.scope?.split(' ')).toContain('mcp:read');
  });

  it.each([
    ['requested', true],
    ['none', false],
  ] as const)('refresh scope policy %s', async (policy, sendsScope) => {
    const { server, session } = setup({ accessTokenLifetime: 60 }, { refreshScopes: policy });
    await call(session, server);
    server.http.requests.length = 0;
    server.now += 45_000;
    await headersOf(session, { method: 'GET', url: server.resourceUrl });
    expect('scope' in server.http.requests[0]!.form!).toBe(sendsScope);
  });

  it('keeps the old refresh token when the server does not rotate it', async () => {
    const { server, session } = setup({ accessTokenLifetime: 60, rotateRefreshTokens: false });
    await call(session, server);
    server.now += 45_000;
    await headersOf(session, { method: 'GET', url: server.resourceUrl });
    server.now += 45_000;
    server.http.requests.length = 0;
    await headersOf(session, { method: 'GET', url: server.resourceUrl });
    expect(server.http.requests[0]!.form!.refresh_token).toBe('refresh-SECRET-2');
  });

  it('makes exactly one token request for many concurrent callers with an expired token', async () => {
    const { server, session } = setup({ accessTokenLifetime: 60 });
    await call(session, server);
    server.now += 120_000;
    server.http.requests.length = 0;
    const results = await Promise.all(Array.from({ length: 50 }, () => call(session, server)));
    expect(results.every((result) => result.status === 200)).toBe(true);
    expect(server.http.log).toEqual([`POST ${ISSUER}/token`]);
  });

  it('refreshes once when many requests are rejected with invalid_token at the same time', async () => {
    const { server, session } = setup();
    await call(session, server);
    server.accessTokens.clear(); // the resource revoked everything
    server.http.requests.length = 0;
    const results = await Promise.all(Array.from({ length: 20 }, () => call(session, server)));
    expect(results.every((result) => result.status === 200)).toBe(true);
    expect(server.http.log.filter((line) => line.endsWith('/token'))).toHaveLength(1);
    // The metadata is re-read once to notice an authorization server change.
    expect(server.http.log.filter((line) => line === `GET ${PRM}`)).toHaveLength(1);
  });

  it('does not refresh again for a 401 on a token another caller already replaced', async () => {
    const { server, session } = setup();
    await call(session, server);
    const oldRequest = await session.beginRequest({ method: 'GET', url: server.resourceUrl });
    server.accessTokens.clear();
    await call(session, server); // refreshes
    server.http.requests.length = 0;
    const verdict = await respondOnce(session, {
      method: 'GET',
      url: server.resourceUrl,
      status: 401,
      headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
      request: oldRequest,
      attempt: 0,
    });
    expect(verdict).toBe('retry');
    expect(server.http.log).toEqual([]);
  });

  it('re-authorizes when the refresh token is rejected with invalid_grant', async () => {
    const { server, session, approvals } = setup();
    await call(session, server);
    server.accessTokens.clear();
    server.validRefreshTokens.clear();
    const response = await call(session, server);
    expect(response.status).toBe(200);
    expect(approvals).toHaveLength(2);
    expect(server.http.log.filter((line) => line.endsWith('/register'))).toHaveLength(1);
  });

  it('hands a second 401 back unchanged after one retry', async () => {
    const { server, session } = setup();
    await call(session, server);
    const verdict = await respondOnce(session, {
      method: 'GET',
      url: server.resourceUrl,
      status: 401,
      headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
      attempt: 1,
    });
    expect(verdict).toBe('pass');
  });

  it('passes responses from outside the resource and plain 403s untouched', async () => {
    const { server, session } = setup();
    const outside = await respondOnce(session, {
      method: 'GET',
      url: 'https://other.example.com/',
      status: 401,
      headers: { 'www-authenticate': 'Bearer' },
      attempt: 0,
    });
    expect(outside).toBe('pass');
    await call(session, server);
    const forbidden = await respondOnce(session, {
      method: 'GET',
      url: server.resourceUrl,
      status: 403,
      headers: {},
      attempt: 0,
    });
    expect(forbidden).toBe('pass');
    expect(server.http.requests).toHaveLength(4);
  });
});

describe('OAuthSession: 2025-03-26 servers', () => {
  it('authorizes with a legacy server whose origin metadata names an issuer with a path', async () => {
    // MCP conformance auth/2025-03-26-oauth-metadata-backcompat.
    const origin = 'http://localhost:8080';
    const issuer = `${origin}/oauth`;
    const http = new FakeHttpClient()
      .json('GET', `${origin}/.well-known/oauth-authorization-server`, {
        issuer,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        registration_endpoint: `${issuer}/register`,
        response_types_supported: ['code'],
        code_challenge_methods_supported: ['S256'],
      })
      .on('POST', `${issuer}/register`, (request) =>
        json(201, { client_id: 'legacy-client', redirect_uris: JSON.parse(request.body!).redirect_uris }),
      )
      .on('POST', `${issuer}/token`, json(200, { access_token: 'legacy-token', token_type: 'Bearer' }));
    const session = new OAuthSession({
      serverUrl: `${origin}/mcp`,
      httpClient: http,
      client: { redirectUris: [REDIRECT] },
      authorizationHandler: async ({ authorizationUrl, state }) => {
        expect(new URL(authorizationUrl).origin + new URL(authorizationUrl).pathname).toBe(
          `${issuer}/authorize`,
        );
        return { code: 'legacy-code', state };
      },
    });

    const info = await session.authorize();

    expect(info).toMatchObject({ issuer, resource: `${origin}/mcp`, clientId: 'legacy-client' });
    expect(await session.getAccessToken()).toBe('legacy-token');
    expect(http.log.slice(-3)).toEqual([
      `GET ${origin}/.well-known/oauth-authorization-server`,
      `POST ${issuer}/register`,
      `POST ${issuer}/token`,
    ]);
  });
});

describe('OAuthSession: step-up', () => {
  it('re-authorizes with the union of held and challenged scopes, without re-registering', async () => {
    const { server, session, approvals } = setup();
    await call(session, server);
    const response = await call(session, server, { scopes: ['mcp:read', 'mcp:write'] });
    expect(response.status).toBe(200);
    expect(approvals).toHaveLength(2);
    const scopes = new URL(approvals[1]!).searchParams.get('scope')!.split(' ');
    expect(scopes).toEqual(expect.arrayContaining(['mcp:read', 'mcp:write']));
    expect(server.http.log.filter((line) => line.endsWith('/register'))).toHaveLength(1);
    expect(session.getTokenInfo()!.grantedScopes).toEqual(expect.arrayContaining(['mcp:read', 'mcp:write']));
  });

  it('fails with insufficient_scope when the challenge asks for nothing new', async () => {
    const { server, session, approvals } = setup();
    await call(session, server);
    const failure = respondOnce(session, {
      method: 'GET',
      url: server.resourceUrl,
      status: 403,
      headers: { 'www-authenticate': 'Bearer error="insufficient_scope", scope="mcp:read"' },
      attempt: 0,
    });
    await expect(failure).rejects.toMatchObject({ code: 'insufficient_scope' });
    expect(approvals).toHaveLength(1);
  });

  it('stops after the configured number of step-ups against ever-growing challenges', async () => {
    const { server, session, approvals } = setup({}, { stepUps: { max: 2 } });
    await call(session, server);
    const attempt = async (scope: string) =>
      respondOnce(session, {
        method: 'GET',
        url: server.resourceUrl,
        status: 403,
        headers: { 'www-authenticate': `Bearer error="insufficient_scope", scope="${scope}"` },
        attempt: 0,
      });
    expect(await attempt('s1')).toBe('retry');
    expect(await attempt('s2')).toBe('retry');
    await expect(attempt('s3')).rejects.toMatchObject({ code: 'insufficient_scope' });
    expect(approvals).toHaveLength(3);
  });
});

describe('OAuthSession: web apps and restarts', () => {
  it('throws AuthorizationRequiredError with the URL and completes in another session sharing the stores', async () => {
    const server = new FakeServer();
    const stores = createMemoryStores();
    const options = {
      serverUrl: server.resourceUrl,
      httpClient: server.http,
      client: { redirectUris: ['https://app.example.com/callback'] },
      stores,
      clock: () => server.now,
    };
    const first = new OAuthSession(options);
    const error = await call(first, server).catch((caught: unknown) => caught);
    expect(isOAuthClientError(error, 'authorization_required')).toBe(true);
    const authorizationUrl = (error as { authorizationUrl: string }).authorizationUrl;
    expect(authorizationUrl).toContain(`${ISSUER}/authorize?`);
    expect(JSON.stringify(error)).not.toContain('authorize?');
    expect(String(error)).not.toContain('state=');

    const callback = await server.approve(authorizationUrl);
    const second = new OAuthSession(options);
    await second.completeAuthorization(callback);
    expect((await call(second, server)).status).toBe(200);
    // Replaying the same callback is refused.
    await expect(second.completeAuthorization(callback)).rejects.toMatchObject({ code: 'state_mismatch' });
  });

  it('a restarted client with a persisted store makes no discovery or registration request', async () => {
    const server = new FakeServer();
    const stores: OAuthStores = createMemoryStores();
    const options = (): OAuthSessionOptions => ({
      serverUrl: server.resourceUrl,
      httpClient: server.http,
      client: { redirectUris: [REDIRECT] },
      authorizationHandler: async ({ authorizationUrl }) => server.approve(authorizationUrl),
      stores,
      clock: () => server.now,
    });
    await call(new OAuthSession(options()), server);
    server.http.requests.length = 0;
    const restarted = new OAuthSession(options());
    expect((await call(restarted, server)).status).toBe(200);
    expect(server.http.log).toEqual([]);
  });

  it('after a restart on a new loopback port, authorizes with the new redirect URI and keeps the client', async () => {
    const server = new FakeServer();
    const stores: OAuthStores = createMemoryStores();
    const approvals: string[] = [];
    const options = (port: number): OAuthSessionOptions => ({
      serverUrl: server.resourceUrl,
      httpClient: server.http,
      client: { redirectUris: [`http://127.0.0.1:${port}/callback`] },
      authorizationHandler: async ({ authorizationUrl }) => {
        approvals.push(authorizationUrl);
        return server.approve(authorizationUrl);
      },
      stores,
      clock: () => server.now,
    });
    await call(new OAuthSession(options(40001)), server);
    server.accessTokens.clear();
    server.validRefreshTokens.clear();
    const restarted = new OAuthSession(options(40002));
    expect((await call(restarted, server)).status).toBe(200);
    expect(new URL(approvals[1]!).searchParams.get('redirect_uri')).toBe(
      redirectUriForIssuer('http://127.0.0.1:40002/callback', ISSUER),
    );
    expect(server.http.log.filter((line) => line.endsWith('/register'))).toHaveLength(1);
  });

  it.each([
    ['a numeric refresh token', { refreshToken: 42 }],
    ['a DPoP token without its key', { tokenType: 'DPoP' }],
    ['scopes that are not a list', { grantedScopes: 'mcp:read' }],
    ['an empty access token', { accessToken: '' }],
  ])('reports a token store record with %s as store_failed', async (_name, damage) => {
    const server = new FakeServer();
    const stores: OAuthStores = createMemoryStores();
    const options = (): OAuthSessionOptions => ({
      serverUrl: server.resourceUrl,
      httpClient: server.http,
      client: { redirectUris: [REDIRECT] },
      authorizationHandler: async ({ authorizationUrl }) => server.approve(authorizationUrl),
      stores,
      clock: () => server.now,
    });
    await call(new OAuthSession(options()), server);
    const key = tokenKey(ISSUER, `${SERVER}/mcp`, 'client-1');
    const stored = await stores.tokens.get(key);
    await stores.tokens.set(key, { ...stored!, ...damage } as never);
    const restarted = new OAuthSession(options());
    await expect(headersOf(restarted, { method: 'GET', url: server.resourceUrl })).rejects.toMatchObject({
      code: 'store_failed',
    });
  });

  it('rejects a callback whose iss differs from the recorded issuer before any token request', async () => {
    const server = new FakeServer();
    const session = new OAuthSession({
      serverUrl: server.resourceUrl,
      httpClient: server.http,
      client: { redirectUris: [REDIRECT] },
      authorizationHandler: async ({ authorizationUrl }) =>
        server.approve(authorizationUrl, { iss: 'https://attacker.example.com' }),
      clock: () => server.now,
    });
    await expect(call(session, server)).rejects.toMatchObject({ code: 'issuer_mismatch' });
    expect(server.http.log.some((line) => line.endsWith('/token'))).toBe(false);
  });
});

describe('OAuthSession: real providers and real servers', () => {
  it('moves to a new authorization server on a 401 even without a refresh token', async () => {
    const newIssuer = 'https://login.example.net';
    const other = new FakeServer({ issuer: newIssuer, clientIdPrefix: 'other' });
    const { server, session, approvals } = setup(
      { issueRefreshTokens: false },
      {
        authorizationHandler: async ({ authorizationUrl }) => {
          approvals.push(authorizationUrl);
          return (authorizationUrl.startsWith(newIssuer) ? other : server).approve(authorizationUrl);
        },
      },
    );
    await call(session, server);
    expect(session.getTokenInfo()!.hasRefreshToken).toBe(false);
    server.http.json('GET', PRM, { resource: `${SERVER}/mcp`, authorization_servers: [newIssuer] });
    server.http.json('GET', `${newIssuer}/.well-known/oauth-authorization-server`, other.metadata());
    server.http.on('POST', `${newIssuer}/register`, (request) => other.http.send(request));
    server.http.on('POST', `${newIssuer}/token`, (request) => other.http.send(request));
    server.accessTokens.clear();
    server.http.requests.length = 0;
    const verdict = await respondOnce(session, {
      method: 'GET',
      url: server.resourceUrl,
      status: 401,
      headers: { 'www-authenticate': `Bearer error="invalid_token", resource_metadata="${PRM}"` },
    });
    expect(verdict).toBe('retry');
    expect(approvals.map((url) => new URL(url).origin)).toEqual([ISSUER, newIssuer]);
    expect(server.http.log.filter((line) => line.startsWith(`POST ${ISSUER}`))).toEqual([]);
    expect(session.getTokenInfo()!.issuer).toBe(newIssuer);
  });

  it('a new authorization after a rejected token keeps every scope it held', async () => {
    const { server, session, approvals } = setup({ issueRefreshTokens: false });
    await call(session, server, { scopes: ['mcp:read'] });
    await call(session, server, { scopes: ['mcp:read', 'mcp:admin'] }); // step-up
    server.accessTokens.clear(); // revoked; no refresh token
    const response = await call(session, server, { scopes: ['mcp:read'] });
    expect(response.status).toBe(200);
    const last = new URL(approvals.at(-1)!).searchParams.get('scope')!.split(' ');
    expect(last).toEqual(expect.arrayContaining(['mcp:read', 'mcp:admin']));
  });

  it('a step-up the authorization server grants only in part fails at once with the scopes', async () => {
    const { server, session, approvals } = setup({ withheldScopes: ['mcp:admin'] });
    await call(session, server);
    const failure = await call(session, server, { scopes: ['mcp:read', 'mcp:admin'] }).catch(
      (error) => error,
    );
    expect(failure).toMatchObject({
      code: 'insufficient_scope',
      scopes: { required: ['mcp:read', 'mcp:admin'], granted: expect.not.arrayContaining(['mcp:admin']) },
    });
    expect(approvals).toHaveLength(2);
  });

  it('sends authorizationParams and refuses the protocol-owned ones', async () => {
    const { server, session, approvals } = setup(
      {},
      { authorizationParams: { prompt: 'consent', audience: 'api' } },
    );
    await call(session, server);
    const query = new URL(approvals[0]!).searchParams;
    expect(query.get('prompt')).toBe('consent');
    expect(query.get('audience')).toBe('api');
    for (const name of [
      'response_type',
      'client_id',
      'redirect_uri',
      'state',
      'code_challenge',
      'scope',
      'resource',
    ]) {
      expect(() => setup({}, { authorizationParams: { [name]: 'x' } })).toThrow(
        expect.objectContaining({ code: 'invalid_options' }),
      );
    }
  });

  it('leaves out resource for an authorization server whose policy says so (Entra ID)', async () => {
    const { server, session, approvals } = setup(
      {},
      { authorizationServerPolicies: { [ISSUER]: { sendResource: false } } },
    );
    await call(session, server);
    expect(new URL(approvals[0]!).searchParams.has('resource')).toBe(false);
    const token = server.http.requests.find((request) => request.url.endsWith('/token'))!;
    expect(token.form!.resource).toBeUndefined();
  });

  it('refuses an authorization endpoint whose query sets a protocol parameter (mix-up)', async () => {
    const { server, session } = setup();
    server.http.json('GET', AS_METADATA, {
      ...server.metadata(),
      authorization_endpoint: `${ISSUER}/authorize?client_id=honest-client`,
    });
    await expect(call(session, server)).rejects.toMatchObject({ code: 'metadata_invalid' });
  });
});

describe('OAuthSession: authorization server changes', () => {
  it('discovers and registers anew, never sending the old client or tokens to the new server', async () => {
    const newIssuer = 'https://login.example.net';
    const other = new FakeServer({ issuer: newIssuer, clientIdPrefix: 'other' });
    const { server, session, approvals } = setup(
      {},
      {
        authorizationHandler: async ({ authorizationUrl }) => {
          approvals.push(authorizationUrl);
          return (authorizationUrl.startsWith(newIssuer) ? other : server).approve(authorizationUrl);
        },
      },
    );
    await call(session, server);
    server.http.json('GET', PRM, { resource: `${SERVER}/mcp`, authorization_servers: [newIssuer] });
    for (const route of ['/.well-known/oauth-authorization-server'] as const) {
      server.http.json('GET', `${newIssuer}${route}`, other.metadata());
    }
    server.http.on('POST', `${newIssuer}/register`, (request) => other.http.send(request));
    server.http.on('POST', `${newIssuer}/token`, (request) => other.http.send(request));
    server.accessTokens.clear();
    server.http.requests.length = 0;
    const verdict = await respondOnce(session, {
      method: 'GET',
      url: server.resourceUrl,
      status: 401,
      headers: { 'www-authenticate': `Bearer error="invalid_token", resource_metadata="${PRM}"` },
      attempt: 0,
    });
    expect(verdict).toBe('retry');
    expect(approvals).toHaveLength(2);
    expect(new URL(approvals[1]!).origin).toBe(newIssuer);
    const toNewServer = server.http.requests.filter((request) => request.url.startsWith(newIssuer));
    expect(toNewServer.map((request) => `${request.method} ${new URL(request.url).pathname}`)).toEqual([
      'GET /.well-known/oauth-authorization-server',
      'POST /register',
      'POST /token',
    ]);
    const wire = JSON.stringify(toNewServer);
    expect(wire).not.toContain('refresh-SECRET');
    expect(wire).not.toContain('access-SECRET');
    expect(wire).not.toContain('client-1');
    expect(toNewServer.at(-1)!.form!.client_id).toBe('other-1');
    expect(session.getTokenInfo()!.issuer).toBe(newIssuer);
  });
});

describe('OAuthSession: machine clients', () => {
  it('client_credentials with a pre-registered secret: obtains and re-obtains tokens without a user', async () => {
    const server = new FakeServer({ accessTokenLifetime: 60 });
    const session = new OAuthSession({
      serverUrl: server.resourceUrl,
      httpClient: server.http,
      grant: { type: 'client_credentials' },
      client: { preRegistered: [{ issuer: ISSUER, clientId: 'svc', clientSecret: 'secret SECRET' }] },
      clock: () => server.now,
    });
    expect((await call(session, server)).status).toBe(200);
    expect(server.http.log).toEqual([`GET ${PRM}`, `GET ${AS_METADATA}`, `POST ${ISSUER}/token`]);
    const token = server.http.requests[2]!;
    expect(token.form).toMatchObject({
      grant_type: 'client_credentials',
      resource: `${SERVER}/mcp`,
      scope: 'mcp:read',
    });
    expect(token.headers.authorization).toBe(`Basic ${btoa('svc:secret+SECRET')}`);
    server.now += 120_000;
    server.http.requests.length = 0;
    expect((await call(session, server)).status).toBe(200);
    expect(server.http.log).toEqual([`POST ${ISSUER}/token`]);
    expect(server.http.requests[0]!.form!.grant_type).toBe('client_credentials');
  });

  it('client_credentials step-up requests the union of scopes', async () => {
    const server = new FakeServer();
    const session = new OAuthSession({
      serverUrl: server.resourceUrl,
      httpClient: server.http,
      grant: { type: 'client_credentials' },
      client: { preRegistered: [{ issuer: ISSUER, clientId: 'svc', clientSecret: 's' }] },
      clock: () => server.now,
    });
    await call(session, server);
    expect((await call(session, server, { scopes: ['mcp:read', 'mcp:write'] })).status).toBe(200);
    const last = server.http.requests.at(-1)!;
    expect(last.form!.scope!.split(' ').sort()).toEqual(['mcp:read', 'mcp:write']);
  });

  it('jwt-bearer uses the supplied assertion and registers nothing', async () => {
    const server = new FakeServer();
    const assertion = vi.fn(async () => 'eyJ.assertion.SECRET');
    const session = new OAuthSession({
      serverUrl: server.resourceUrl,
      httpClient: server.http,
      grant: { type: 'jwt_bearer', assertion },
      client: { preRegistered: [{ issuer: ISSUER, clientId: 'workload' }] },
      clock: () => server.now,
    });
    expect((await call(session, server)).status).toBe(200);
    expect(server.http.log).toEqual([`GET ${PRM}`, `GET ${AS_METADATA}`, `POST ${ISSUER}/token`]);
    expect(server.http.requests[2]!.form).toMatchObject({
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      assertion: 'eyJ.assertion.SECRET',
      resource: `${SERVER}/mcp`,
    });
    expect(assertion).toHaveBeenCalledWith(
      expect.objectContaining({ issuer: ISSUER, resource: `${SERVER}/mcp` }),
    );
  });

  it('jwt-bearer without pre-registered credentials sends only the assertion and never registers', async () => {
    const server = new FakeServer();
    const session = new OAuthSession({
      serverUrl: server.resourceUrl,
      httpClient: server.http,
      grant: { type: 'jwt_bearer', assertion: () => 'eyJ.workload.SECRET' },
      clock: () => server.now,
    });
    expect((await call(session, server)).status).toBe(200);
    expect(server.http.log).toEqual([`GET ${PRM}`, `GET ${AS_METADATA}`, `POST ${ISSUER}/token`]);
    const form = server.http.requests[2]!.form!;
    expect(form).not.toHaveProperty('client_id');
    expect(server.http.requests[2]!.headers.authorization).toBeUndefined();
  });

  it('jwt-bearer does not retry after the authorization server refuses the assertion', async () => {
    const server = new FakeServer();
    const assertion = vi.fn(() => 'eyJ.rejected');
    const session = new OAuthSession({
      serverUrl: server.resourceUrl,
      httpClient: server.http,
      grant: { type: 'jwt_bearer', assertion },
      clock: () => server.now,
    });
    server.http.on('POST', `${ISSUER}/token`, json(400, { error: 'invalid_grant' }));
    await expect(call(session, server)).rejects.toMatchObject({
      code: 'token_request_failed',
      oauthError: 'invalid_grant',
    });
    expect(assertion).toHaveBeenCalledTimes(1);
    expect(server.http.log.filter((line) => line.endsWith('/token'))).toHaveLength(1);
  });

  it('refuses pre-registered credentials issued by another authorization server', async () => {
    const server = new FakeServer();
    const session = new OAuthSession({
      serverUrl: server.resourceUrl,
      httpClient: server.http,
      grant: { type: 'client_credentials' },
      client: {
        preRegistered: [{ issuer: 'https://other-issuer.example.com', clientId: 'svc', clientSecret: 's' }],
      },
      clock: () => server.now,
    });
    await expect(call(session, server)).rejects.toMatchObject({ code: 'client_configuration_required' });
    expect(server.http.log.some((line) => line.endsWith('/token') || line.endsWith('/register'))).toBe(false);
  });
});

describe('OAuthSession: sessions sharing a store', () => {
  it('two sessions (as two processes would) refresh once through the store lock', async () => {
    const server = new FakeServer({ accessTokenLifetime: 60 });
    const stores = createMemoryStores();
    const make = () =>
      new OAuthSession({
        serverUrl: server.resourceUrl,
        httpClient: server.http,
        client: { redirectUris: [REDIRECT] },
        authorizationHandler: async ({ authorizationUrl }) => server.approve(authorizationUrl),
        stores,
        clock: () => server.now,
      });
    const first = make();
    await call(first, server);
    const second = make();
    await call(second, server);
    server.now += 120_000;
    server.http.requests.length = 0;
    const [a, b] = await Promise.all([
      headersOf(first, { method: 'GET', url: server.resourceUrl }),
      headersOf(second, { method: 'GET', url: server.resourceUrl }),
    ]);
    expect(server.http.log).toEqual([`POST ${ISSUER}/token`]);
    expect(a.authorization).toBe(b.authorization);
  });
});

describe('OAuthSession: failures and aborts', () => {
  it('keeps using a still-valid token while the authorization server is down', async () => {
    const { server, session } = setup({ accessTokenLifetime: 60 });
    await call(session, server);
    server.now += 45_000;
    server.nextTokenReply = { status: 503, headers: {}, body: 'down' };
    const headers = await headersOf(session, { method: 'GET', url: server.resourceUrl });
    expect(headers.authorization).toBe('Bearer access-SECRET-2');
    server.now += 30_000; // now expired
    server.http.on('POST', `${ISSUER}/token`, { status: 503, headers: {}, body: 'down' });
    await expect(headersOf(session, { method: 'GET', url: server.resourceUrl })).rejects.toMatchObject({
      code: 'refresh_failed',
      status: 503,
    });
  });

  it('an aborted caller stops waiting on a refresh while the others complete', async () => {
    const { server, session } = setup({ accessTokenLifetime: 60 });
    await call(session, server);
    server.now += 120_000;
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const original = server.http.send.bind(server.http);
    server.http.send = async (request) => {
      if (request.url.endsWith('/token')) await gate;
      return original(request);
    };
    const controller = new AbortController();
    const patient = headersOf(session, { method: 'GET', url: server.resourceUrl });
    const impatient = headersOf(session, {
      method: 'GET',
      url: server.resourceUrl,
      signal: controller.signal,
    });
    controller.abort();
    await expect(impatient).rejects.toMatchObject({ code: 'aborted' });
    release();
    expect((await patient).authorization).toMatch(/^Bearer access-SECRET-/);
  });

  it('aborting while waiting for the user rejects promptly', async () => {
    const server = new FakeServer();
    const controller = new AbortController();
    const session = new OAuthSession({
      serverUrl: server.resourceUrl,
      httpClient: server.http,
      client: { redirectUris: [REDIRECT] },
      authorizationHandler: () => new Promise(() => {}),
      clock: () => server.now,
    });
    const pending = call(session, server, { signal: controller.signal });
    setTimeout(() => controller.abort(), 5);
    await expect(pending).rejects.toMatchObject({ code: 'aborted' });
  });
});

describe('OAuthSession: DPoP', () => {
  it('binds tokens to a key and sends a fresh proof for each request', async () => {
    const { server, session } = setup({ dpop: true }, { dpop: dpop({ mode: 'auto' }) });
    await call(session, server);
    const tokenRequest = server.http.requests.find((request) => request.url.endsWith('/token'))!;
    expect(tokenRequest.headers.dpop).toMatch(/^ey/);
    const first = await headersOf(session, { method: 'POST', url: `${server.resourceUrl}?a=1` });
    const second = await headersOf(session, { method: 'POST', url: server.resourceUrl });
    expect(first.authorization).toMatch(/^DPoP access-SECRET-/);
    expect(first.dpop).not.toBe(second.dpop);
    const payload = JSON.parse(atob(first.dpop!.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/')));
    expect(payload).toMatchObject({ htm: 'POST', htu: server.resourceUrl });
    expect(typeof payload.ath).toBe('string');
    expect(session.getTokenInfo()!.tokenType).toBe('DPoP');
  });

  it('retries once with the server nonce on use_dpop_nonce from the resource', async () => {
    const { server, session } = setup({ dpop: true }, { dpop: dpop() });
    await call(session, server);
    const verdict = await respondOnce(session, {
      method: 'GET',
      url: server.resourceUrl,
      status: 401,
      headers: { 'www-authenticate': 'DPoP error="use_dpop_nonce"', 'dpop-nonce': 'n-123' },
      attempt: 0,
    });
    expect(verdict).toBe('retry');
    const retried = await headersOf(session, { method: 'GET', url: server.resourceUrl });
    const payload = JSON.parse(atob(retried.dpop!.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/')));
    expect(payload.nonce).toBe('n-123');
  });

  it('dpop auto stays on Bearer when the server does not advertise DPoP', async () => {
    const { server, session } = setup({}, { dpop: dpop({ mode: 'auto' }) });
    await call(session, server);
    expect(server.http.requests.some((request) => 'dpop' in request.headers)).toBe(false);
    expect(session.getTokenInfo()!.tokenType).toBe('Bearer');
  });
});

describe('OAuthSession: sign-out', () => {
  it('revokes the refresh and access tokens and forgets them', async () => {
    const { server, session } = setup();
    await call(session, server);
    server.http.requests.length = 0;
    const result = await session.signOut();
    expect(result.revoked).toBe(true);
    expect(server.http.log).toEqual([`POST ${ISSUER}/revoke`, `POST ${ISSUER}/revoke`]);
    expect(server.http.requests.map((request) => request.form!.token_type_hint)).toEqual([
      'refresh_token',
      'access_token',
    ]);
    expect(session.getTokenInfo()).toBeUndefined();
    expect(await headersOf(session, { method: 'GET', url: server.resourceUrl })).toEqual({});
  });

  it('clears local state even when the server has no revocation endpoint', async () => {
    const { server, session } = setup({ revocation: false });
    await call(session, server);
    server.http.requests.length = 0;
    expect(await session.signOut({ forgetClient: true })).toEqual({ revoked: false });
    expect(server.http.log).toEqual([]);
    expect(session.getTokenInfo()).toBeUndefined();
  });
});

describe('OAuthSession: options', () => {
  it('refuses a non-https server URL that is not loopback', () => {
    const server = new FakeServer();
    expect(
      () => new OAuthSession({ serverUrl: 'http://mcp.example.com/mcp', httpClient: server.http }),
    ).toThrow(expect.objectContaining({ code: 'invalid_options' }));
  });

  it('explicit scopes win over the challenge', async () => {
    const { server, session, approvals } = setup({}, { scopes: ['custom:scope'] });
    await call(session, server, { scopes: [] });
    expect(new URL(approvals[0]!).searchParams.get('scope')!.split(' ')).toContain('custom:scope');
    expect(new URL(approvals[0]!).searchParams.get('scope')!.split(' ')).not.toContain('mcp:read');
  });

  it('uses json helper', () => {
    expect(json(200, {}).status).toBe(200);
  });
});

describe('OAuthSession: a headless process whose refresh token is refused', () => {
  it('throws authorization_required caused by the invalid_grant', async () => {
    const stores = createMemoryStores();
    const { server, session } = setup({}, { stores });
    await call(session, server);
    const headless = new OAuthSession({
      serverUrl: server.resourceUrl,
      httpClient: server.http,
      client: { clientName: 'test client', redirectUris: [REDIRECT] },
      stores,
      clock: () => server.now,
    });
    server.accessTokens.clear();
    server.validRefreshTokens.clear();
    const failure = await call(headless, server).catch((error: unknown) => error);
    expect(failure).toMatchObject({
      code: 'authorization_required',
      cause: { code: 'token_request_failed', oauthError: 'invalid_grant' },
    });
    expect((failure as { authorizationUrl?: string }).authorizationUrl).toMatch(
      /^https:\/\/auth\.example\.com\/authorize\?/,
    );
  });
});

describe('OAuthSession: private networks', () => {
  const PRIVATE_ISSUER = 'https://10.0.0.5';
  it('a public server naming a private authorization server needs allowPrivateNetworks, also after a restart', async () => {
    const refused = setup({ issuer: PRIVATE_ISSUER });
    await expect(call(refused.session, refused.server)).rejects.toMatchObject({ code: 'unsafe_url' });

    const stores = createMemoryStores();
    const { server, session } = setup({ issuer: PRIVATE_ISSUER }, { stores, allowPrivateNetworks: true });
    expect((await call(session, server)).status).toBe(200);
    const options = {
      serverUrl: server.resourceUrl,
      httpClient: server.http,
      client: { redirectUris: [REDIRECT] },
      stores,
      clock: () => server.now,
    };
    const restarted = new OAuthSession({ ...options, allowPrivateNetworks: true });
    expect(await restarted.getAccessToken()).toMatch(/^access-SECRET-/);
    await expect(new OAuthSession(options).getAccessToken()).rejects.toMatchObject({ code: 'store_failed' });
  });
});

describe('OAuthSession: shared stores, staggered expiries', () => {
  it('an idle session adopts the rotated refresh token another session stored, whatever its expiry', async () => {
    const stores = createMemoryStores();
    const { server, session: first } = setup({ accessTokenLifetime: 60 }, { stores });
    await call(first, server);
    const second = new OAuthSession({
      serverUrl: server.resourceUrl,
      httpClient: server.http,
      client: { clientName: 'test client', redirectUris: [REDIRECT] },
      stores,
      clock: () => server.now,
    });
    await call(second, server); // loads the same record; both hold refresh-SECRET-2 in memory
    server.now += 45_000; // within the skew: the first session renews and rotates
    await call(first, server);
    server.now += 45_000; // the stored record is now near expiry too; the second session still holds the old one
    server.http.requests.length = 0;
    const response = await call(second, server);
    expect(response.status).toBe(200);
    const refreshes = server.http.requests.filter((request) => request.form?.grant_type === 'refresh_token');
    // It refreshed with the token the first session stored, never with the rotated-away one.
    expect(refreshes.map((request) => request.form!.refresh_token)).toEqual(['refresh-SECRET-3']);
  });
});
