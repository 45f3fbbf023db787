/**
 * The whole life of a token against the demo server, with plain `fetch`: metadata, dynamic
 * registration, authorization code + PKCE (auto-approved), the MCP calls, the challenges, step-up,
 * refresh rotation, revocation, client_credentials, and audience binding.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { followAuthorization } from './headless.js';
import { type DemoServer, startDemoServer } from './start.js';
import {
  authorizationUrl,
  bearer,
  CALLBACK,
  callMcp,
  createPkce,
  decodeJwtPayload,
  INITIALIZE,
  obtainTokens,
  type RegisteredClient,
  registerClient,
  stringField,
  tokenRequest,
} from './test-utils/oauth.js';

const OTHER_RESOURCE = 'https://other.example/api';

let demo: DemoServer;
let client: RegisteredClient;

beforeAll(async () => {
  demo = await startDemoServer({ autoApprove: true, dpop: false, otherResources: [OTHER_RESOURCE] });
  client = await registerClient(demo);
});

afterAll(async () => {
  await demo.close();
});

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('metadata', () => {
  it('serves RFC 9728 metadata for /mcp naming the authorization server', async () => {
    expect(demo.resourceMetadataUrl).toBe(
      `${new URL(demo.mcpUrl).origin}/.well-known/oauth-protected-resource/mcp`,
    );
    const { status, body } = await getJson(demo.resourceMetadataUrl);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      resource: demo.mcpUrl,
      authorization_servers: [demo.issuer],
      scopes_supported: ['mcp:tools'],
    });
    expect(body).not.toHaveProperty('dpop_signing_alg_values_supported');
  });

  it('serves the same RFC 8414 and OpenID metadata, with PKCE S256, iss, registration and revocation', async () => {
    const oauth = await getJson(`${demo.issuer}/.well-known/oauth-authorization-server`);
    const openid = await getJson(`${demo.issuer}/.well-known/openid-configuration`);
    expect(oauth.status).toBe(200);
    expect(oauth.body).toEqual(openid.body);
    expect(oauth.body).toMatchObject({
      issuer: demo.issuer,
      authorization_endpoint: `${demo.issuer}/authorize`,
      token_endpoint: `${demo.issuer}/token`,
      registration_endpoint: `${demo.issuer}/register`,
      revocation_endpoint: `${demo.issuer}/revoke`,
      code_challenge_methods_supported: ['S256'],
      authorization_response_iss_parameter_supported: true,
      response_types_supported: ['code'],
    });
    expect(oauth.body.scopes_supported).toEqual(
      expect.arrayContaining(['mcp:tools', 'mcp:admin', 'offline_access']),
    );
    expect(oauth.body.grant_types_supported).toEqual(
      expect.arrayContaining(['authorization_code', 'refresh_token', 'client_credentials']),
    );
    expect(oauth.body).not.toHaveProperty('dpop_signing_alg_values_supported');
  });
});

describe('the MCP server without a valid token', () => {
  it('answers 401 with resource_metadata and scope, and no error, when no token is sent', async () => {
    const response = await callMcp(demo, INITIALIZE);
    expect(response.status).toBe(401);
    expect(response.wwwAuthenticate).toBe(
      `Bearer resource_metadata="${demo.resourceMetadataUrl}", scope="mcp:tools"`,
    );
  });

  it('answers 401 invalid_token for a token that is not one of ours', async () => {
    const response = await callMcp(demo, INITIALIZE, { authorization: 'Bearer not-a-token' });
    expect(response.status).toBe(401);
    expect(response.wwwAuthenticate).toMatch(/^Bearer error="invalid_token", error_description="[^"]+", /);
    expect(response.wwwAuthenticate).toContain(`resource_metadata="${demo.resourceMetadataUrl}"`);
    expect(response.wwwAuthenticate).toContain('scope="mcp:tools"');
  });
});

describe('authorization code + PKCE, auto-approved', () => {
  it('registers a public native client with a loopback redirect URI', async () => {
    expect(client).toMatchObject({
      client_name: 'Test Client',
      redirect_uris: [CALLBACK],
      token_endpoint_auth_method: 'none',
      application_type: 'native',
    });
    expect(client).not.toHaveProperty('client_secret');
  });

  it('redirects with code, state and iss, and issues a JWT for the MCP resource', async () => {
    const pkce = createPkce();
    const callback = new URL(
      await followAuthorization(
        authorizationUrl(demo, { clientId: client.client_id, pkce, state: 'state-1', resource: demo.mcpUrl }),
      ),
    );
    expect(`${callback.origin}${callback.pathname}`).toBe(CALLBACK);
    expect(callback.searchParams.get('state')).toBe('state-1');
    expect(callback.searchParams.get('iss')).toBe(demo.issuer);
    const code = callback.searchParams.get('code');
    expect(code).toEqual(expect.any(String));

    const token = await tokenRequest(demo, {
      grant_type: 'authorization_code',
      code: code ?? '',
      redirect_uri: CALLBACK,
      client_id: client.client_id,
      code_verifier: pkce.verifier,
      resource: demo.mcpUrl,
    });
    expect(token.status).toBe(200);
    expect(token.body).toMatchObject({ token_type: 'Bearer', scope: 'mcp:tools', expires_in: 60 });
    expect(token.body.refresh_token).toEqual(expect.any(String));
    const claims = decodeJwtPayload(stringField(token.body, 'access_token'));
    expect(claims).toMatchObject({
      iss: demo.issuer,
      aud: demo.mcpUrl,
      client_id: client.client_id,
      scope: 'mcp:tools',
    });
    expect(claims).not.toHaveProperty('cnf');

    const initialize = await callMcp(demo, INITIALIZE, bearer(token));
    expect(initialize.status).toBe(200);
    expect(initialize.body.result).toMatchObject({ serverInfo: { name: 'mcp-oauth-demo' } });

    const list = await callMcp(demo, { method: 'tools/list' }, bearer(token));
    expect(list.status).toBe(200);
    const tools = (list.body.result as { tools: { name: string }[] }).tools.map((tool) => tool.name);
    expect(tools).toEqual(['echo', 'admin_stats']);

    const echo = await callMcp(
      demo,
      { method: 'tools/call', params: { name: 'echo', arguments: { message: 'hello' } } },
      bearer(token),
    );
    expect(echo.body.result).toEqual({ content: [{ type: 'text', text: 'hello' }] });
  });

  it('refuses a code exchange with the wrong PKCE verifier', async () => {
    const pkce = createPkce();
    const callback = new URL(
      await followAuthorization(
        authorizationUrl(demo, { clientId: client.client_id, pkce, state: 's', resource: demo.mcpUrl }),
      ),
    );
    const token = await tokenRequest(demo, {
      grant_type: 'authorization_code',
      code: callback.searchParams.get('code') ?? '',
      redirect_uri: CALLBACK,
      client_id: client.client_id,
      code_verifier: createPkce().verifier,
    });
    expect(token.status).toBe(400);
    expect(token.body.error).toBe('invalid_grant');
  });

  it('requires PKCE: an authorization request without code_challenge comes back with an error and iss', async () => {
    const url = new URL(
      authorizationUrl(demo, {
        clientId: client.client_id,
        pkce: createPkce(),
        state: 's2',
        resource: demo.mcpUrl,
      }),
    );
    url.searchParams.delete('code_challenge');
    url.searchParams.delete('code_challenge_method');
    const callback = new URL(await followAuthorization(url.href));
    expect(callback.searchParams.get('error')).toBe('invalid_request');
    expect(callback.searchParams.get('state')).toBe('s2');
    expect(callback.searchParams.get('iss')).toBe(demo.issuer);
  });

  it('requires the resource parameter (RFC 8707)', async () => {
    const callback = new URL(
      await followAuthorization(
        authorizationUrl(demo, { clientId: client.client_id, pkce: createPkce(), state: 's3' }),
      ),
    );
    expect(callback.searchParams.get('error')).toBe('invalid_target');
    expect(callback.searchParams.get('iss')).toBe(demo.issuer);
  });

  it('refuses an unknown resource', async () => {
    const callback = new URL(
      await followAuthorization(
        authorizationUrl(demo, {
          clientId: client.client_id,
          pkce: createPkce(),
          state: 's4',
          resource: 'https://unknown.example/mcp',
        }),
      ),
    );
    expect(callback.searchParams.get('error')).toBe('invalid_target');
  });

  it('accepts the loopback redirect URI on another port (RFC 8252 §7.3)', async () => {
    const pkce = createPkce();
    const otherPort = 'http://127.0.0.1:50001/callback';
    const callback = new URL(
      await followAuthorization(
        authorizationUrl(demo, {
          clientId: client.client_id,
          pkce,
          state: 's5',
          resource: demo.mcpUrl,
          redirectUri: otherPort,
        }),
      ),
    );
    expect(`${callback.origin}${callback.pathname}`).toBe(otherPort);
    expect(callback.searchParams.get('code')).toEqual(expect.any(String));
  });
});

describe('scopes', () => {
  it('answers admin_stats with 403 insufficient_scope naming both scopes, before the SDK runs', async () => {
    const token = await obtainTokens(demo, client);
    const response = await callMcp(
      demo,
      { method: 'tools/call', params: { name: 'admin_stats', arguments: {} } },
      bearer(token),
    );
    expect(response.status).toBe(403);
    expect(response.wwwAuthenticate).toMatch(/^Bearer error="insufficient_scope", /);
    expect(response.wwwAuthenticate).toContain('scope="mcp:tools mcp:admin"');
    expect(response.wwwAuthenticate).toContain(`resource_metadata="${demo.resourceMetadataUrl}"`);
    expect(response.body).not.toHaveProperty('jsonrpc');
  });

  it('also refuses admin_stats hidden in a JSON-RPC batch', async () => {
    const token = await obtainTokens(demo, client);
    const response = await fetch(demo.mcpUrl, {
      method: 'POST',
      headers: {
        ...bearer(token),
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify([
        { jsonrpc: '2.0', id: 1, method: 'tools/list' },
        { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'admin_stats', arguments: {} } },
      ]),
    });
    expect(response.status).toBe(403);
  });

  it('runs admin_stats after a step-up to mcp:tools mcp:admin', async () => {
    const token = await obtainTokens(demo, client, { scope: 'mcp:tools mcp:admin offline_access' });
    expect(token.body.scope).toBe('mcp:tools mcp:admin');
    const response = await callMcp(
      demo,
      { method: 'tools/call', params: { name: 'admin_stats', arguments: {} } },
      bearer(token),
    );
    expect(response.status).toBe(200);
    const text = (response.body.result as { content: { text: string }[] }).content[0]?.text ?? '';
    expect(JSON.parse(text)).toMatchObject({ registration: expect.any(Number), mcp: expect.any(Number) });
  });

  it('answers 403 with scope mcp:tools to a token without it', async () => {
    const token = await obtainTokens(demo, client, { scope: 'mcp:admin' });
    const response = await callMcp(demo, { method: 'tools/list' }, bearer(token));
    expect(response.status).toBe(403);
    expect(response.wwwAuthenticate).toContain('scope="mcp:tools"');
  });
});

describe('refresh tokens', () => {
  it('rotates the refresh token, and a reused one revokes the grant', async () => {
    const first = await obtainTokens(demo, client);
    const firstRefresh = stringField(first.body, 'refresh_token');
    const second = await tokenRequest(demo, {
      grant_type: 'refresh_token',
      refresh_token: firstRefresh,
      client_id: client.client_id,
    });
    expect(second.status).toBe(200);
    const secondRefresh = stringField(second.body, 'refresh_token');
    expect(secondRefresh).not.toBe(firstRefresh);
    expect(decodeJwtPayload(stringField(second.body, 'access_token')).aud).toBe(demo.mcpUrl);
    expect((await callMcp(demo, { method: 'tools/list' }, bearer(second))).status).toBe(200);

    const reuse = await tokenRequest(demo, {
      grant_type: 'refresh_token',
      refresh_token: firstRefresh,
      client_id: client.client_id,
    });
    expect(reuse.status).toBe(400);
    expect(reuse.body.error).toBe('invalid_grant');
    // Reuse detection revoked the whole grant: the rotated refresh token and its access token too.
    const afterReuse = await tokenRequest(demo, {
      grant_type: 'refresh_token',
      refresh_token: secondRefresh,
      client_id: client.client_id,
    });
    expect(afterReuse.body.error).toBe('invalid_grant');
    const call = await callMcp(demo, { method: 'tools/list' }, bearer(second));
    expect(call.status).toBe(401);
    expect(call.wwwAuthenticate).toContain('error="invalid_token"');
  });

  it('issues no refresh token to a client registered without the refresh_token grant', async () => {
    const codeOnly = await registerClient(demo, { grant_types: ['authorization_code'] });
    const token = await obtainTokens(demo, codeOnly);
    expect(token.status).toBe(200);
    expect(token.body).not.toHaveProperty('refresh_token');
  });
});

describe('revocation', () => {
  it('revoking the refresh token ends the grant, and the MCP server rejects its access token', async () => {
    const token = await obtainTokens(demo, client);
    const response = await fetch(`${demo.issuer}/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        token: stringField(token.body, 'refresh_token'),
        token_type_hint: 'refresh_token',
        client_id: client.client_id,
      }),
    });
    expect(response.status).toBe(200);
    const call = await callMcp(demo, { method: 'tools/list' }, bearer(token));
    expect(call.status).toBe(401);
    const refresh = await tokenRequest(demo, {
      grant_type: 'refresh_token',
      refresh_token: stringField(token.body, 'refresh_token'),
      client_id: client.client_id,
    });
    expect(refresh.body.error).toBe('invalid_grant');
  });

  it('revoking the access token itself makes the MCP server reject it', async () => {
    const token = await obtainTokens(demo, client);
    expect((await callMcp(demo, { method: 'tools/list' }, bearer(token))).status).toBe(200);
    const response = await fetch(`${demo.issuer}/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        token: stringField(token.body, 'access_token'),
        token_type_hint: 'access_token',
        client_id: client.client_id,
      }),
    });
    expect(response.status).toBe(200);
    expect((await callMcp(demo, { method: 'tools/list' }, bearer(token))).status).toBe(401);
  });

  it('does not let one client revoke another client’s token', async () => {
    const token = await obtainTokens(demo, client);
    const stranger = await registerClient(demo, { client_name: 'Stranger' });
    await fetch(`${demo.issuer}/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        token: stringField(token.body, 'access_token'),
        client_id: stranger.client_id,
      }),
    });
    expect((await callMcp(demo, { method: 'tools/list' }, bearer(token))).status).toBe(200);
  });
});

describe('client_credentials and audience binding', () => {
  async function clientCredentials(resource: string, scope = 'mcp:tools') {
    const { clientId, clientSecret } = demo.confidentialClient;
    return tokenRequest(
      demo,
      { grant_type: 'client_credentials', scope, resource },
      { authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}` },
    );
  }

  it('issues the pre-registered confidential client a token the MCP server accepts', async () => {
    const token = await clientCredentials(demo.mcpUrl, 'mcp:tools mcp:admin');
    expect(token.status).toBe(200);
    expect(token.body).toMatchObject({ token_type: 'Bearer', scope: 'mcp:tools mcp:admin' });
    expect(token.body).not.toHaveProperty('refresh_token');
    const call = await callMcp(
      demo,
      { method: 'tools/call', params: { name: 'admin_stats', arguments: {} } },
      bearer(token),
    );
    expect(call.status).toBe(200);
  });

  it('refuses a wrong client secret', async () => {
    const token = await tokenRequest(
      demo,
      { grant_type: 'client_credentials', scope: 'mcp:tools', resource: demo.mcpUrl },
      {
        authorization: `Basic ${Buffer.from(`${demo.confidentialClient.clientId}:wrong`).toString('base64')}`,
      },
    );
    expect(token.status).toBe(401);
    expect(token.body.error).toBe('invalid_client');
  });

  it('rejects at the MCP server a valid token issued for another audience', async () => {
    const token = await clientCredentials(OTHER_RESOURCE);
    expect(token.status).toBe(200);
    expect(decodeJwtPayload(stringField(token.body, 'access_token')).aud).toBe(OTHER_RESOURCE);
    const call = await callMcp(demo, { method: 'tools/list' }, bearer(token));
    expect(call.status).toBe(401);
    expect(call.wwwAuthenticate).toContain('error="invalid_token"');
    expect(call.wwwAuthenticate).toContain(
      'error_description="the access token is meant for another resource"',
    );
  });
});

describe('stats', () => {
  it('counts requests per endpoint', () => {
    const stats = demo.stats();
    for (const endpoint of [
      'protectedResourceMetadata',
      'authorizationServerMetadata',
      'registration',
      'authorize',
      'consent',
      'token',
      'revocation',
      'mcp',
      'jwks',
    ] as const) {
      expect(stats[endpoint], endpoint).toBeGreaterThan(0);
    }
  });
});
