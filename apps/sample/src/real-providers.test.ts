/**
 * Issue 12 against a real authorization server (the demo's oidc-provider) and the MCP SDK's
 * resource server: what real servers found.
 */
import { OAuthSession } from '@mcp-oauth/core';
import { type DemoServer, startDemoServer } from '@mcp-oauth/demo-server';
import { createFetchHttpClient, withOAuth } from '@mcp-oauth/fetch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let demo: DemoServer;

beforeAll(async () => {
  demo = await startDemoServer({ autoApprove: true, dpop: false });
});

afterAll(async () => {
  await demo.close();
});

const INITIALIZE = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'machine', version: '1' } },
};

describe('client_credentials with dynamic registration', () => {
  it('registers a machine client (no redirect URIs, response_types []) and calls the MCP server', async () => {
    const authorizedFetch = withOAuth(fetch, {
      serverUrl: demo.mcpUrl,
      grant: { type: 'client_credentials' },
      scopes: ['mcp:tools'],
    });
    const response = await authorizedFetch(demo.mcpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify(INITIALIZE),
    });
    expect(response.status).toBe(200);
    await response.body?.cancel();
    const info = authorizedFetch.oauthSession.getTokenInfo()!;
    expect(info.issuer).toBe(demo.issuer);
    expect(info.hasRefreshToken).toBe(false);
    expect(info.grantedScopes).toContain('mcp:tools');
  });

  it('the registration body asks for no response types and no redirect URIs', async () => {
    const bodies: unknown[] = [];
    const http = createFetchHttpClient(async (input, init) => {
      if (String(input).endsWith('/register')) bodies.push(JSON.parse(String(init?.body)));
      return fetch(input, init);
    });
    const session = new OAuthSession({
      serverUrl: demo.mcpUrl,
      httpClient: http,
      grant: { type: 'client_credentials' },
    });
    await session.authorize();
    expect(bodies).toEqual([
      expect.objectContaining({ grant_types: ['client_credentials'], response_types: [] }),
    ]);
    expect(bodies[0]).not.toHaveProperty('redirect_uris');
  });
});
