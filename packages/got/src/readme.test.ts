/**
 * The README's examples, typechecked (src/readme.example.ts, under tsconfig.test.json) and run:
 * against the demo server (the MCP SDK's server behind oidc-provider) with the browser step played
 * headlessly, against an SDK server that answers with SSE and a session id, and each "How do I…?"
 * answer used for what it says it does.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OAuthSession } from '@mcp-oauth/core';
import { approveAuthorization, type DemoServer, ECHO_TOOL, startDemoServer } from '@mcp-oauth/demo-server';
import { runExample, tsBlocks } from '@mcp-oauth/demo-server/readme';
import { createLoopbackAuthorizationHandler, type LoopbackAuthorization } from '@mcp-oauth/node';
import {
  closeServer,
  startTestProxy,
  startTestServer,
  type TestProxy,
  type TestServer,
} from '@mcp-oauth/testkit';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type got from 'got';
import { HttpProxyAgent } from 'hpagent';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { createGotHttpClient } from './index.js';

type Example = typeof import('./readme.example.js');

const read = (path: string) => readFileSync(new URL(path, import.meta.url), 'utf8');
const blocks = tsBlocks(read('../README.md'));
const packageDirectory = new URL('../', import.meta.url);
const clientSecret = randomBytes(24).toString('base64url');
const cleanups: Array<() => unknown> = [];
let demo: DemoServer;
let other: TestServer;
let proxy: TestProxy;
let loopback: LoopbackAuthorization;

beforeAll(async () => {
  [demo, other, proxy, loopback] = await Promise.all([
    startDemoServer({ autoApprove: true, confidentialClient: { clientId: 'ci', clientSecret } }),
    startTestServer(),
    startTestProxy(),
    createLoopbackAuthorizationHandler({ open: approveAuthorization }),
  ]);
  cleanups.push(
    () => demo.close(),
    () => other.close(),
    () => proxy.close(),
    () => loopback.close(),
  );
  // What the examples leave to the reader: a proxy agent, a secret, and two servers' sessions.
  vi.stubGlobal('proxyAgent', new HttpProxyAgent({ proxy: proxy.url }));
  vi.stubGlobal('clientSecret', clientSecret);
  const redirectUris = [loopback.redirectUri];
  vi.stubGlobal(
    'githubSession',
    new OAuthSession({
      serverUrl: demo.mcpUrl,
      httpClient: createGotHttpClient(),
      client: { redirectUris },
      authorizationHandler: loopback.handler,
    }),
  );
  vi.stubGlobal(
    'linearSession',
    new OAuthSession({
      serverUrl: other.mcpUrl,
      httpClient: createGotHttpClient(),
      client: { redirectUris },
      authorizationHandler: other.authorizationHandler(),
    }),
  );
});

afterAll(async () => {
  vi.unstubAllGlobals();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

it('every ts block of README.md appears verbatim in readme.example.ts, the first in 15 lines or fewer', () => {
  const example = read('./readme.example.ts');
  expect(blocks.length).toBeGreaterThan(3);
  for (const block of blocks) expect(example).toContain(block);
  expect(blocks[0]!.trimEnd().split('\n').length).toBeLessThanOrEqual(15);
});

let example: Example;

it('the README example lists the tools of the demo server: OAuth, then JSON answers', async () => {
  example = await runExample<Example>(read('./readme.example.ts'), {
    server: demo,
    packageDirectory,
    // The demo speaks plain http: the proxy answer's agent goes where got looks for http: URLs.
    replace: [['agent: { https: proxyAgent }', 'agent: { http: proxyAgent }']],
  });
  cleanups.push(() => example.loopback.close());
  expect(example.tools.map((tool: { name: string }) => tool.name)).toContain(ECHO_TOOL);
  const stats = demo.stats();
  expect([stats.registration, stats.token]).toEqual([1, 1]);
  expect(stats.mcp).toBeGreaterThanOrEqual(4); // the 401, initialize, initialized, tools/list
});

/** `tools/list` through a got instance: the names of the tools. */
async function listTools(instance: typeof got, url = demo.mcpUrl): Promise<string[]> {
  const { result } = await instance
    .post(url, {
      headers: { accept: 'application/json, text/event-stream' },
      json: { jsonrpc: '2.0', id: 1, method: 'tools/list' },
    })
    .json<{ result: { tools: Array<{ name: string }> } }>();
  return result.tools.map((tool) => tool.name);
}

it('the proxied instance: every request, the sign-in included, goes through the proxy agent', async () => {
  const before = demo.stats();
  expect(await listTools(example.proxied)).toContain(ECHO_TOOL);
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

it('one instance per session: each server gets its own token', async () => {
  expect(await listTools(example.github!)).toContain(ECHO_TOOL);
  const response = await example.linear!.post(other.mcpUrl, { json: {} });
  expect(response.statusCode).toBe(200);
  expect(other.issuedTokens).toHaveLength(1);
  expect(other.requestsTo('/mcp').at(-1)?.headers.authorization).toBe(
    `Bearer ${other.issuedTokens[0]!.accessToken}`,
  );
  expect(example.github!.oauthSession.getTokenInfo()?.issuer).toBe(demo.issuer);
});

it('the headless machine: client credentials with the pre-registered client, no one asked', async () => {
  const before = demo.stats();
  expect(await listTools(example.machine)).toContain(ECHO_TOOL);
  const after = demo.stats();
  expect([after.token - before.token, after.authorize - before.authorize]).toEqual([1, 0]);
  expect(example.machine.oauthSession.getTokenInfo()).toMatchObject({ clientId: 'ci' });
});

it('the README example lists the tools of an SDK server that answers with SSE and a session id', async () => {
  const mcp = new McpServer({ name: 'sse', version: '1.0.0' });
  mcp.registerTool('shout', { description: 'Shouts' }, async () => ({
    content: [{ type: 'text', text: 'HI' }],
  }));
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: randomUUID });
  await mcp.connect(transport);
  const seen: Array<{ contentType: string | undefined; sessionId: string | undefined }> = [];
  const server = createServer((request, response) => {
    response.on('finish', () => {
      // The SDK writes its headers with writeHead: they are in the head it wrote, not getHeader().
      const head = String((response as unknown as { _header?: string })._header);
      seen.push({
        contentType: /^content-type: *([^;\r\n]*)/im.exec(head)?.[1],
        sessionId: request.headers['mcp-session-id'] as string | undefined,
      });
    });
    void transport.handleRequest(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () => closeServer(server),
    () => mcp.close(),
  );
  const { port } = server.address() as AddressInfo;
  // The connection and the conversation (the first three blocks); this server asks for no token.
  const conversation = `${blocks.slice(0, 3).join('\n')}\nexport { loopback, tools };\n`;
  const run = await runExample<Pick<Example, 'loopback' | 'tools'>>(conversation, {
    server: { mcpUrl: `http://127.0.0.1:${port}/mcp` },
    packageDirectory,
  });
  cleanups.push(() => run.loopback.close());
  expect(run.tools.map((tool: { name: string }) => tool.name)).toEqual(['shout']);
  expect(seen[0]?.contentType).toBe('text/event-stream');
  expect(seen.at(-1)).toEqual({ contentType: 'text/event-stream', sessionId: transport.sessionId });
});
