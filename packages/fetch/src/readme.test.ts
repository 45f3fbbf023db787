/**
 * The README's examples, typechecked (src/readme.example.ts, under tsconfig.test.json) and run:
 * the MCP SDK v2 authProvider blocks by auth-provider.integration.test.ts, all the others here,
 * against the demo server (the MCP SDK's server behind oidc-provider), with the browser step played
 * headlessly, and each "How do I…?" answer used for what it says it does.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { OAuthSession } from '@mcp-oauth/core';
import { type DemoServer, ECHO_TOOL, startDemoServer } from '@mcp-oauth/demo-server';
import { runExample, tsBlocks } from '@mcp-oauth/demo-server/readme';
import { startTestProxy, startTestServer, type TestProxy, type TestServer } from '@mcp-oauth/testkit';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { createFetchHttpClient } from './index.js';

type Example = typeof import('./readme.example.js');

const read = (path: string) => readFileSync(new URL(path, import.meta.url), 'utf8');
const clientSecret = randomBytes(24).toString('base64url');
let demo: DemoServer;
let other: TestServer;
let proxy: TestProxy;
let example: Example;

beforeAll(async () => {
  [demo, other, proxy] = await Promise.all([
    startDemoServer({ autoApprove: true, confidentialClient: { clientId: 'ci', clientSecret } }),
    startTestServer(),
    startTestProxy(),
  ]);
  // What the example leaves to the reader: a second server's session and the machine's secret;
  // and the environment names a proxy.
  const otherSession = new OAuthSession({
    serverUrl: other.mcpUrl,
    httpClient: createFetchHttpClient(),
    client: { redirectUris: ['http://127.0.0.1:33418/callback'] }, // the test server's "browser" stops there
    authorizationHandler: other.authorizationHandler(),
  });
  vi.stubGlobal('otherSession', otherSession);
  vi.stubGlobal('clientSecret', clientSecret);
  vi.stubEnv('HTTP_PROXY', proxy.url);
  vi.stubEnv('NO_PROXY', '');
  example = await runExample<Example>(read('./readme.example.ts'), {
    server: demo,
    packageDirectory: new URL('../', import.meta.url),
  });
});

afterAll(async () => {
  vi.unstubAllGlobals();
  vi.unstubAllEnvs();
  await example?.loopback.close();
  await Promise.all([demo?.close(), other?.close(), proxy?.close()]);
});

it('every ts block of README.md appears verbatim in one of the example files; the first in 15 lines', () => {
  const examples = [read('./readme.example.ts'), read('./readme.sdk-v2.example.ts')];
  const blocks = tsBlocks(read('../README.md'));
  expect(blocks.length).toBeGreaterThan(1);
  for (const block of blocks) {
    expect(
      examples.some((example) => example.includes(block)),
      block,
    ).toBe(true);
  }
  expect(blocks[0]!.trimEnd().split('\n').length).toBeLessThanOrEqual(15);
  // The authProvider blocks are one runnable example (auth-provider.integration.test.ts runs it
  // against the SDK's server), in the README's order; this file runs the others.
  const sdkBlocks = blocks.filter((block) => block.includes('@modelcontextprotocol/client'));
  expect(sdkBlocks).toHaveLength(2);
  expect(examples[1]).toContain(sdkBlocks.join('\n'));
});

/** `tools/list` through a fetch: the names of the tools. */
async function listTools(fetchImpl: typeof fetch, url = demo.mcpUrl): Promise<string[]> {
  const response = await fetchImpl(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
  });
  expect(response.status).toBe(200);
  const { result } = (await response.json()) as { result: { tools: Array<{ name: string }> } };
  return result.tools.map((tool) => tool.name);
}

it('the first example signs in through the loopback handler and lists the tools', async () => {
  expect(example.response.status).toBe(200);
  const { result } = (await example.response.json()) as { result: { tools: Array<{ name: string }> } };
  expect(result.tools.map((tool) => tool.name)).toContain(ECHO_TOOL);
  expect(example.session.getTokenInfo()).toMatchObject({ issuer: demo.issuer, resource: demo.mcpUrl });
});

it('the MCP SDK transport with the wrapped fetch: initialize and tools/list on the session it has', async () => {
  const before = demo.stats();
  const client = new Client({ name: 'readme', version: '1.0.0' });
  await client.connect(example.transport as StreamableHTTPClientTransport);
  try {
    expect((await client.listTools()).tools.map((tool) => tool.name)).toContain(ECHO_TOOL);
  } finally {
    await client.close();
  }
  expect(demo.stats().token - before.token).toBe(0);
});

it('the proxied fetch: every request, the sign-in included, goes through the proxy', async () => {
  const before = demo.stats();
  expect(await listTools(example.authorizedProxiedFetch)).toContain(ECHO_TOOL);
  expect(demo.stats().token - before.token).toBe(1);
  expect(proxy.tunnels.length).toBeGreaterThan(0);
  expect(proxy.requests).toEqual(
    expect.arrayContaining([
      'POST /mcp',
      'GET /.well-known/oauth-protected-resource/mcp',
      'POST /register',
      'POST /token',
    ]),
  );
});

it('one fetch for two servers: each request gets the token of its own server', async () => {
  const before = demo.stats();
  expect(await listTools(example.fetchForBoth)).toContain(ECHO_TOOL);
  expect(demo.stats().token - before.token).toBe(0);
  const response = await example.fetchForBoth(other.mcpUrl, { method: 'POST', body: '{}' });
  expect(response.status).toBe(200);
  expect(other.issuedTokens).toHaveLength(1);
  const sent = other.requestsTo('/mcp').at(-1)!;
  expect(sent.headers.authorization).toBe(`Bearer ${other.issuedTokens[0]!.accessToken}`);
});

it('the headless machine: client credentials with the pre-registered client, no one asked', async () => {
  const before = demo.stats();
  expect(await listTools(example.machineFetch)).toContain(ECHO_TOOL);
  const after = demo.stats();
  expect([after.token - before.token, after.authorize - before.authorize]).toEqual([1, 0]);
  expect(example.machineFetch.oauthSession.getTokenInfo()).toMatchObject({ clientId: 'ci' });
});
