import { createHash, randomBytes } from 'node:crypto';
import { type OAuthHttpClient, OAuthSession } from '@mcp-oauth/core';
import { createDpopProof, type DpopKey, dpop, generateDpopKey } from '@mcp-oauth/core/dpop';
import { afterEach, describe, expect, it } from 'vitest';
import { verifyDpopProof } from './dpop.js';
import { startEchoServer } from './echo-server.js';
import { startTestServer, type TestServer, type TestServerOptions } from './server.js';

const servers: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

async function start(options?: TestServerOptions): Promise<TestServer> {
  const server = await startTestServer(options);
  servers.push(server);
  return server;
}

const REDIRECT_URI = 'http://127.0.0.1/callback';

/** A minimal OAuthHttpClient over fetch, so these tests do not depend on an adapter package. */
const plainHttpClient: OAuthHttpClient = {
  async send(request) {
    const response = await fetch(request.url, {
      method: request.method,
      headers: request.headers,
      ...(request.body === undefined ? {} : { body: request.body }),
      redirect: 'manual',
      signal: request.signal,
    });
    const headers: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      headers[name] = value;
    });
    return { status: response.status, headers, body: await response.text() };
  },
};

function form(values: Record<string, string>): RequestInit {
  return {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(values).toString(),
  };
}

async function register(server: TestServer): Promise<string> {
  const response = await fetch(server.url('/register'), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      redirect_uris: [REDIRECT_URI],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'none',
    }),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { client_id: string }).client_id;
}

async function authorizationCode(server: TestServer, clientId: string, verifier: string, extra = {}) {
  const url = new URL(server.url('/authorize'));
  const parameters = {
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT_URI,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    state: 'state-1',
    resource: server.mcpUrl,
    scope: 'mcp:read offline_access',
    ...extra,
  };
  for (const [name, value] of Object.entries(parameters)) url.searchParams.set(name, value);
  const location = new URL(await server.approve(url.href));
  expect(location.searchParams.get('state')).toBe('state-1');
  expect(location.searchParams.get('iss')).toBe(server.issuer);
  return location.searchParams.get('code') ?? '';
}

async function exchange(
  server: TestServer,
  values: Record<string, string>,
  headers: Record<string, string> = {},
) {
  const init = form(values);
  const response = await fetch(server.tokenEndpoint, {
    ...init,
    headers: { ...(init.headers as Record<string, string>), ...headers },
  });
  return { status: response.status, body: (await response.json()) as Record<string, string> };
}

describe('startTestServer', () => {
  it('listens on 127.0.0.1 only and serves the metadata documents', async () => {
    const server = await start({ dpop: true });
    expect(server.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const prm = (await (await fetch(server.resourceMetadataUrl)).json()) as Record<string, unknown>;
    expect(prm).toMatchObject({ resource: server.mcpUrl, authorization_servers: [server.issuer] });
    const metadata = (await (
      await fetch(server.url('/.well-known/oauth-authorization-server'))
    ).json()) as Record<string, unknown>;
    expect(metadata).toMatchObject({
      issuer: server.issuer,
      code_challenge_methods_supported: ['S256'],
      authorization_response_iss_parameter_supported: true,
      registration_endpoint: server.url('/register'),
      revocation_endpoint: server.url('/revoke'),
      dpop_signing_alg_values_supported: ['ES256'],
    });
    expect((await fetch(server.url('/.well-known/openid-configuration'))).status).toBe(404);
  });

  it('answers 401 with a Bearer challenge naming the resource metadata and scope', async () => {
    const server = await start();
    const response = await fetch(server.url('/mcp/sub'), { method: 'POST', body: 'x' });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe(
      `Bearer resource_metadata="${server.resourceMetadataUrl}", scope="mcp:read"`,
    );
    expect(server.requestsTo('/mcp/sub')[0]).toMatchObject({ method: 'POST', text: 'x', status: 401 });
  });

  it('enforces PKCE: the wrong verifier is invalid_grant, and a code works once', async () => {
    const server = await start();
    const clientId = await register(server);
    const verifier = randomBytes(32).toString('base64url');
    const code = await authorizationCode(server, clientId, verifier);
    const common = {
      grant_type: 'authorization_code',
      code,
      client_id: clientId,
      redirect_uri: REDIRECT_URI,
    };
    expect(await exchange(server, { ...common, code_verifier: 'wrong'.repeat(10) })).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant' },
    });
    // The failed attempt used the code up.
    expect((await exchange(server, { ...common, code_verifier: verifier })).status).toBe(400);

    const second = await authorizationCode(server, clientId, verifier);
    const granted = await exchange(server, { ...common, code: second, code_verifier: verifier });
    expect(granted).toMatchObject({
      status: 200,
      body: { token_type: 'Bearer', scope: 'mcp:read offline_access' },
    });
    const echo = await fetch(server.mcpUrl, {
      headers: { authorization: `Bearer ${granted.body.access_token}` },
    });
    expect(echo.status).toBe(200);
  });

  it('refuses an authorization request without S256', async () => {
    const server = await start();
    const clientId = await register(server);
    const url = new URL(server.url('/authorize'));
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: REDIRECT_URI,
      code_challenge: 'plain-challenge',
      code_challenge_method: 'plain',
      state: 's',
      resource: server.mcpUrl,
    }).toString();
    const location = new URL(await server.approve(url.href));
    expect(location.searchParams.get('error')).toBe('invalid_request');
    expect(location.searchParams.get('code')).toBeNull();
  });

  it('rotates refresh tokens: each works once', async () => {
    const server = await start();
    const clientId = await register(server);
    const verifier = randomBytes(32).toString('base64url');
    const code = await authorizationCode(server, clientId, verifier);
    const first = await exchange(server, {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      client_id: clientId,
      redirect_uri: REDIRECT_URI,
    });
    const refresh = {
      grant_type: 'refresh_token',
      client_id: clientId,
      refresh_token: first.body.refresh_token!,
    };
    const second = await exchange(server, refresh);
    expect(second.status).toBe(200);
    expect(second.body.refresh_token).not.toBe(first.body.refresh_token);
    expect(await exchange(server, refresh)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(server.issuedTokens.map((token) => token.grantType)).toEqual([
      'authorization_code',
      'refresh_token',
    ]);
  });

  it('runs a whole OAuthSession flow, and client credentials', async () => {
    const server = await start();
    const session = new OAuthSession({
      serverUrl: server.mcpUrl,
      httpClient: plainHttpClient,
      client: { redirectUris: [REDIRECT_URI] },
      authorizationHandler: server.authorizationHandler(),
    });
    const info = await session.authorize();
    expect(info.grantedScopes).toEqual(['mcp:read', 'offline_access']);
    expect(info.hasRefreshToken).toBe(true);

    const machine = new OAuthSession({
      serverUrl: server.mcpUrl,
      httpClient: plainHttpClient,
      grant: { type: 'client_credentials' },
    });
    const headers = { ...(await machine.beginRequest({ method: 'GET', url: server.mcpUrl })).first.headers };
    expect(headers).toEqual({});
    const machineInfo = await machine.authorize();
    expect(machineInfo.hasRefreshToken).toBe(false);
    expect(server.issuedTokens.at(-1)?.grantType).toBe('client_credentials');
  });

  it('scripts behaviours per path', async () => {
    const server = await start();
    const session = new OAuthSession({
      serverUrl: server.mcpUrl,
      httpClient: plainHttpClient,
      client: { redirectUris: [REDIRECT_URI] },
      authorizationHandler: server.authorizationHandler(),
    });
    await session.authorize();
    const authorization = `Bearer ${server.issuedTokens[0]!.accessToken}`;
    const call = (path: string) =>
      fetch(server.url(path), { headers: { authorization }, redirect: 'manual' });

    server.requireScopes('/mcp/write', ['mcp:write']);
    const forbidden = await call('/mcp/write');
    expect(forbidden.status).toBe(403);
    expect(forbidden.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    expect(forbidden.headers.get('www-authenticate')).toContain('scope="mcp:write"');

    server.plainForbidden('/mcp/plain');
    const plain = await call('/mcp/plain');
    expect([plain.status, plain.headers.get('www-authenticate')]).toEqual([403, null]);

    server.redirectTo('/mcp/moved', 'http://127.0.0.1:1/elsewhere', 307);
    const moved = await call('/mcp/moved');
    expect([moved.status, moved.headers.get('location')]).toEqual([307, 'http://127.0.0.1:1/elsewhere']);

    server.alwaysUnauthorized('/mcp/locked');
    expect((await call('/mcp/locked')).status).toBe(401);
    expect((await call('/mcp/open')).status).toBe(200);

    server.revokeAllAccessTokens();
    const revoked = await call('/mcp/open');
    expect(revoked.status).toBe(401);
    expect(revoked.headers.get('www-authenticate')).toContain('error="invalid_token"');

    server.failTokenRequests({ status: 503, times: 1 });
    expect((await fetch(server.tokenEndpoint, form({ grant_type: 'x' }))).status).toBe(503);
    expect((await fetch(server.tokenEndpoint, form({ grant_type: 'x' }))).status).toBe(401);

    expect(server.counts()).toMatchObject({ 'GET /mcp/open': 2, 'POST /token': 3 });
  });

  it('holds requests at a gate until released, and sees a client go away', async () => {
    const server = await start();
    const gate = server.hold('/public/slow');
    const pending = fetch(server.url('/public/slow'));
    await gate.reached;
    expect(gate.held).toBe(1);
    gate.release();
    expect((await pending).status).toBe(200);

    const hang = server.hold('/public/hang');
    const controller = new AbortController();
    const abandoned = fetch(server.url('/public/hang'), { signal: controller.signal }).catch(
      (error) => error,
    );
    await hang.reached;
    controller.abort();
    await hang.abandoned;
    expect(await abandoned).toBeInstanceOf(Error);
  });

  it('records exact body bytes and decoded DPoP claims', async () => {
    const server = await start();
    const bytes = new Uint8Array([0, 255, 1, 254, 0xc3, 0x28]);
    await fetch(server.url('/public/bytes?x=1'), { method: 'PUT', body: bytes, headers: { dpop: 'a.b.c' } });
    const [record] = server.requestsTo('/public/bytes');
    expect(record).toMatchObject({ method: 'PUT', search: '?x=1', complete: true });
    expect([...record!.body]).toEqual([...bytes]);
  });
});

describe('DPoP verification', () => {
  const url = 'http://127.0.0.1:1234/mcp/tools';
  let key: DpopKey;
  const now = () => Math.floor(Date.now() / 1000);
  const proof = async (overrides: { method?: string; url?: string; accessToken?: string } = {}) =>
    createDpopProof(key, {
      method: overrides.method ?? 'POST',
      url: overrides.url ?? `${url}?query=1`,
      now: Date.now(),
      accessToken: overrides.accessToken ?? 'token-1',
    });
  const check = (value: string, seenJtis = new Set<string>()) =>
    verifyDpopProof(value, {
      method: 'POST',
      url: `${url}?other=2`,
      accessToken: 'token-1',
      seenJtis,
      now: now(),
    });

  it('accepts a good proof once, and rejects a replayed jti', async () => {
    key = await generateDpopKey();
    const value = await proof();
    const seen = new Set<string>();
    const verdict = check(value, seen);
    expect(verdict).toMatchObject({ ok: true, claims: { htm: 'POST', htu: url, jkt: key.thumbprint } });
    expect(check(value, seen)).toEqual({ ok: false, reason: 'jti replayed' });
  });

  it.each([
    ['htm', { method: 'GET' }],
    ['htu', { url: 'http://127.0.0.1:1234/mcp/other' }],
    ['ath', { accessToken: 'token-2' }],
  ])('rejects a proof with the wrong %s', async (reason, overrides) => {
    key = await generateDpopKey();
    expect(check(await proof(overrides))).toEqual({ ok: false, reason });
  });

  it('rejects a tampered signature or payload', async () => {
    key = await generateDpopKey();
    const [header, payload, signature] = (await proof()).split('.') as [string, string, string];
    const flipped = `${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;
    expect(check(`${header}.${payload}.${flipped}`)).toEqual({ ok: false, reason: 'signature' });
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const forged = Buffer.from(JSON.stringify({ ...claims, htm: 'GET' })).toString('base64url');
    expect(check(`${header}.${forged}.${signature}`)).toEqual({ ok: false, reason: 'signature' });
  });

  it('the resource answers a bad proof with 401 invalid_dpop_proof', async () => {
    const server = await start({ dpop: true });
    const session = new OAuthSession({
      serverUrl: server.mcpUrl,
      httpClient: plainHttpClient,
      client: { redirectUris: [REDIRECT_URI] },
      authorizationHandler: server.authorizationHandler(),
      dpop: dpop(),
    });
    await session.authorize();
    expect(server.issuedTokens[0]!.tokenType).toBe('DPoP');
    const good = {
      ...(await session.beginRequest({ method: 'GET', url: server.url('/mcp/a') })).first.headers,
    };
    expect((await fetch(server.url('/mcp/a'), { headers: good })).status).toBe(200);
    // A proof for another URL, a replayed proof, and a Bearer presentation are all refused.
    const other = {
      ...(await session.beginRequest({ method: 'GET', url: server.url('/mcp/b') })).first.headers,
    };
    const wrongUrl = await fetch(server.url('/mcp/a'), { headers: other });
    expect(wrongUrl.status).toBe(401);
    expect(wrongUrl.headers.get('www-authenticate')).toContain('invalid_dpop_proof');
    expect((await fetch(server.url('/mcp/a'), { headers: good })).status).toBe(401);
    const bearer = { authorization: good.authorization!.replace(/^DPoP/, 'Bearer') };
    expect((await fetch(server.url('/mcp/a'), { headers: bearer })).status).toBe(401);

    server.requireDpopNonce('n-1');
    const fresh = {
      ...(await session.beginRequest({ method: 'GET', url: server.url('/mcp/a') })).first.headers,
    };
    const nonce = await fetch(server.url('/mcp/a'), { headers: fresh });
    expect(nonce.status).toBe(401);
    expect(nonce.headers.get('dpop-nonce')).toBe('n-1');
    expect(nonce.headers.get('www-authenticate')).toContain('use_dpop_nonce');
  });
});

describe('startEchoServer', () => {
  it('is another origin on 127.0.0.1 and records credentials it should never get', async () => {
    const echo = await startEchoServer();
    servers.push(echo);
    const server = await start();
    expect(echo.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(echo.origin).not.toBe(server.origin);
    await fetch(echo.url('/a'), { method: 'POST', body: 'hello' });
    await fetch(echo.url('/b'), { headers: { authorization: 'Bearer x' } });
    expect(echo.requests.map((record) => record.text)).toEqual(['hello', '']);
    expect(echo.credentialed().map((record) => record.path)).toEqual(['/b']);
  });
});
