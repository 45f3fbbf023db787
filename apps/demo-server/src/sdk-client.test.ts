/**
 * A third-party client against the demo server: the MCP SDK's own Client and Streamable HTTP
 * transport with its OAuth support (PRM discovery from the 401, RFC 8414 metadata, dynamic
 * registration, PKCE, the resource indicator). If the SDK gets through, the server speaks MCP
 * authorization the way clients expect.
 */

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
