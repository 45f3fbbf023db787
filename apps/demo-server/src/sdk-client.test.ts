/**
 * A third-party client against the demo server: the MCP SDK's own Client and Streamable HTTP
 * transport with its OAuth support (PRM discovery from the 401, RFC 8414 metadata, dynamic
 * registration, PKCE, the resource indicator). If the SDK gets through, the server speaks MCP
 * authorization the way clients expect.
 */

import {
  Client as ModernClient,
  StreamableHTTPClientTransport as ModernTransport,
} from '@modelcontextprotocol/client';
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { OAuthClientInformationMixed, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { followAuthorization } from './headless.js';
import { type DemoServer, startDemoServer } from './start.js';
import { CALLBACK } from './test-utils/oauth.js';

let demo: DemoServer;

beforeAll(async () => {
  demo = await startDemoServer({ autoApprove: true });
});

afterAll(async () => {
  await demo.close();
});

/** An in-memory OAuthClientProvider whose "browser" is {@link followAuthorization}. */
class HeadlessProvider implements OAuthClientProvider {
  information: OAuthClientInformationMixed | undefined;
  saved: OAuthTokens | undefined;
  verifier = '';
  callback: URL | undefined;

  get redirectUrl(): string {
    return CALLBACK;
  }

  get clientMetadata() {
    return {
      client_name: 'MCP SDK client',
      redirect_uris: [CALLBACK],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }

  clientInformation() {
    return this.information;
  }
  saveClientInformation(information: OAuthClientInformationMixed) {
    this.information = information;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens;
  }
  async redirectToAuthorization(authorizationUrl: URL) {
    this.callback = new URL(await followAuthorization(authorizationUrl.href));
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }
}

it('lets the MCP SDK client discover, register, authorize and call a tool', async () => {
  const provider = new HeadlessProvider();
  const first = new StreamableHTTPClientTransport(new URL(demo.mcpUrl), { authProvider: provider });
  const client = new Client({ name: 'sdk-test', version: '0' });
  await expect(client.connect(first)).rejects.toBeInstanceOf(UnauthorizedError);

  const callback = provider.callback;
  expect(callback?.searchParams.get('iss')).toBe(demo.issuer);
  await first.finishAuth(callback?.searchParams.get('code') ?? '');
  expect(provider.saved?.access_token).toEqual(expect.any(String));

  const transport = new StreamableHTTPClientTransport(new URL(demo.mcpUrl), { authProvider: provider });
  const connected = new Client({ name: 'sdk-test', version: '0' });
  await connected.connect(transport);
  const { tools } = await connected.listTools();
  expect(tools.map((tool) => tool.name)).toEqual(['echo', 'admin_stats']);
  const result = await connected.callTool({ name: 'echo', arguments: { message: 'from the SDK' } });
  expect(result.content).toEqual([{ type: 'text', text: 'from the SDK' }]);
  await connected.close();

  const stats = demo.stats();
  expect(stats.protectedResourceMetadata).toBeGreaterThan(0);
  expect(stats.authorizationServerMetadata).toBeGreaterThan(0);
  expect(stats.registration).toBe(1);
});

it('serves the 2026-07-28 stateless wire to the MCP SDK v2 client pinned to it, with the same token', async () => {
  const provider = new HeadlessProvider();
  const first = new StreamableHTTPClientTransport(new URL(demo.mcpUrl), { authProvider: provider });
  await expect(new Client({ name: 'sdk-test', version: '0' }).connect(first)).rejects.toBeInstanceOf(
    UnauthorizedError,
  );
  await first.finishAuth(provider.callback?.searchParams.get('code') ?? '');
  const token = provider.saved?.access_token ?? '';

  const seen: Array<{ method: string | undefined; version: string | null }> = [];
  const transport = new ModernTransport(new URL(demo.mcpUrl), {
    fetch: async (input, init) => {
      const headers = new Headers(init?.headers);
      headers.set('authorization', `Bearer ${token}`);
      seen.push({
        method: headers.get('mcp-method') ?? undefined,
        version: headers.get('mcp-protocol-version'),
      });
      return fetch(input, { ...init, headers });
    },
  });
  const client = new ModernClient(
    { name: 'sdk-v2-test', version: '0' },
    { versionNegotiation: { mode: { pin: '2026-07-28' } } },
  );
  await client.connect(transport);
  expect(client.getNegotiatedProtocolVersion()).toBe('2026-07-28');
  const { tools } = await client.listTools();
  expect(tools.map((tool) => tool.name)).toEqual(['echo', 'admin_stats']);
  const result = await client.callTool({ name: 'echo', arguments: { message: 'stateless' } });
  expect(result.content).toEqual([{ type: 'text', text: 'stateless' }]);
  await client.close();
  expect(seen).toEqual([
    { method: 'server/discover', version: '2026-07-28' },
    { method: 'tools/list', version: '2026-07-28' },
    { method: 'tools/call', version: '2026-07-28' },
  ]);
});
