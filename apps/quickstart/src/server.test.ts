import { createHash, randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type DemoServer, startDemoServer } from './server.js';

const REDIRECT_URI = 'http://127.0.0.1:8976/callback';
let server: DemoServer;

beforeEach(async () => {
  server = await startDemoServer();
});
afterEach(() => server.close());

function post(path: string, body: Record<string, string>): Promise<Response> {
  return fetch(`${server.origin}${path}`, { method: 'POST', body: new URLSearchParams(body) });
}

/** Registers a client and runs one authorization; returns what a token request needs. */
async function authorizeOnce(scope = 'mcp:read offline_access') {
  const registration = await fetch(`${server.origin}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      redirect_uris: [REDIRECT_URI],
      grant_types: ['authorization_code', 'refresh_token'],
    }),
  });
  const { client_id: clientId } = (await registration.json()) as { client_id: string };
  const verifier = randomBytes(32).toString('base64url');
  const authorization = new URL(`${server.origin}/authorize`);
  for (const [name, value] of Object.entries({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT_URI,
    scope,
    state: 'state-1',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    resource: server.mcpUrl,
  })) {
    authorization.searchParams.set(name, value);
  }
  const redirect = await fetch(authorization, { redirect: 'manual' });
  const callback = new URL(redirect.headers.get('location')!);
  expect(callback.searchParams.get('iss')).toBe(server.origin);
  expect(callback.searchParams.get('state')).toBe('state-1');
  const code = callback.searchParams.get('code')!;
  const exchange = {
    grant_type: 'authorization_code',
    client_id: clientId,
    code,
    code_verifier: verifier,
    redirect_uri: REDIRECT_URI,
    resource: server.mcpUrl,
  };
  return { clientId, exchange };
}

describe('the demo server', () => {
  it('answers /mcp without a token with a challenge naming its metadata and scope', async () => {
    const response = await fetch(server.mcpUrl, { method: 'POST', body: '{"method":"tools/list"}' });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe(
      `Bearer scope="mcp:read", resource_metadata="${server.origin}/.well-known/oauth-protected-resource/mcp"`,
    );
  });

  it('refuses a wrong PKCE verifier and a code used twice', async () => {
    const { exchange } = await authorizeOnce();
    const wrong = await post('/token', { ...exchange, code_verifier: randomBytes(32).toString('base64url') });
    expect(wrong.status).toBe(400);
    // the failed attempt consumed the code
    expect((await post('/token', exchange)).status).toBe(400);
  });

  it('rotates refresh tokens and asks for mcp:write on a write call', async () => {
    const { clientId, exchange } = await authorizeOnce();
    const tokens = (await (await post('/token', exchange)).json()) as Record<string, string>;
    const refresh = { grant_type: 'refresh_token', client_id: clientId, resource: server.mcpUrl };
    const first = await post('/token', { ...refresh, refresh_token: tokens.refresh_token! });
    expect(first.status).toBe(200);
    expect((await post('/token', { ...refresh, refresh_token: tokens.refresh_token! })).status).toBe(400);

    const write = await fetch(server.mcpUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.access_token}` },
      body: '{"method":"tools/call","params":{"name":"write"}}',
    });
    expect(write.status).toBe(403);
    expect(write.headers.get('www-authenticate')).toMatch(
      /^Bearer error="insufficient_scope", scope="mcp:write"/,
    );
  });
});
