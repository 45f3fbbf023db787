/**
 * The README's example, typechecked (it is src/readme.example.ts, under tsconfig.test.json) and
 * run: two copies of it, as two workers would, against a real Redis, the demo's authorization
 * server (rotating refresh tokens) and a resource server that verifies each token; then once more
 * as the MCP SDK client's fetch against the demo's MCP server (the SDK's own).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { OAuthSession, type StoredTokens, tokenKey } from '@mcp-oauth/core';
import { ECHO_TOOL, followAuthorization } from '@mcp-oauth/demo-server';
import { createFetchHttpClient } from '@mcp-oauth/fetch';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { createRedisStores } from './index.js';
import { connect, type TestClient } from './test-utils/fixtures.js';
import { type FleetServers, startFleetServers } from './test-utils/fleet.js';
import { type RedisServer, startRedisServer } from './test-utils/redis-server.js';

type Example = typeof import('./readme.example.js');

let servers: FleetServers;
let redisServer: RedisServer;
let redis: TestClient;
const examples: Example[] = [];

beforeAll(async () => {
  [servers, redisServer] = await Promise.all([startFleetServers(), startRedisServer()]);
  redis = await connect(redisServer.url);
  vi.stubEnv('REDIS_URL', redisServer.url);
  vi.stubEnv('MCP_SERVER_URL', servers.resource.url);
  vi.stubEnv('TOKEN_KEY', randomBytes(32).toString('base64'));
}, 60_000);

afterAll(async () => {
  for (const example of examples) example.redis.destroy();
  redis?.destroy();
  vi.unstubAllEnvs();
  await Promise.all([servers?.close(), redisServer?.stop()]);
});

it('every ts block of README.md is in readme.example.ts, in 15 lines or fewer', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const example = readFileSync(new URL('./readme.example.ts', import.meta.url), 'utf8');
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]!);
  expect(blocks).toHaveLength(1);
  expect(example.startsWith(blocks[0]!)).toBe(true);
  expect(blocks[0]!.trimEnd().split('\n').length).toBeLessThanOrEqual(15);
});

/** One JSON-RPC call through an example's `mcpFetch`. */
async function listTools(example: Example): Promise<number> {
  const response = await example.mcpFetch(process.env.MCP_SERVER_URL!, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
  });
  await response.body?.cancel();
  return response.status;
}

it('runs: two workers share the grant someone signed in with, and one refresh when it expires', {
  timeout: 60_000,
}, async () => {
  // `login`: the same session with a handler that signs the user in (the demo approves at once).
  const key = { id: 'k1', key: Buffer.from(process.env.TOKEN_KEY!, 'base64') };
  const stores = createRedisStores({ client: redis, prefix: 'my-gateway', encryption: { keys: [key] } });
  const login = new OAuthSession({
    serverUrl: process.env.MCP_SERVER_URL!,
    httpClient: createFetchHttpClient(),
    client: { clientName: 'My gateway', redirectUris: ['http://127.0.0.1:33418/callback'] },
    stores,
    authorizationHandler: ({ authorizationUrl }) => followAuthorization(authorizationUrl),
  });
  const info = await login.authorize();

  for (let copy = 0; copy < 2; copy++) {
    vi.resetModules();
    examples.push((await import('./readme.example.js')) as Example);
  }
  servers.resetCounts();
  expect(await Promise.all(examples.map(listTools))).toEqual([200, 200]);
  expect(servers.tokenResponses()).toEqual([]);

  // The access token expires: 20 calls from each worker at once, one refresh between them.
  const grant = tokenKey(info.issuer, info.resource, info.clientId);
  const stored = (await stores.tokens.get(grant))!;
  const expired: StoredTokens = { ...stored, expiresAt: Date.now() - 1_000 };
  await stores.tokens.set(grant, expired);
  servers.resource.expire(stored.accessToken);
  const statuses = await Promise.all(
    examples.flatMap((example) => Array.from({ length: 20 }, () => listTools(example))),
  );
  expect(statuses).toEqual(Array.from({ length: 40 }, () => 200));
  expect(servers.tokenResponses()).toEqual([200]);

  // What Redis holds is sealed: no token in any value.
  const renewed = (await stores.tokens.get(grant))!;
  for (const name of await redis.keys('my-gateway:*')) {
    const value = (await redis.get(name)) ?? '';
    for (const secret of [renewed.accessToken, renewed.refreshToken!, stored.refreshToken!]) {
      expect(value).not.toContain(secret);
    }
  }
});

it('runs against the MCP SDK server: mcpFetch as the SDK transport’s fetch, on the grant in Redis', async () => {
  // The demo's own MCP server (the SDK's Streamable HTTP server), as the README suggests using it.
  vi.stubEnv('MCP_SERVER_URL', servers.demo.mcpUrl);
  const key = { id: 'k1', key: Buffer.from(process.env.TOKEN_KEY!, 'base64') };
  const login = new OAuthSession({
    serverUrl: servers.demo.mcpUrl,
    httpClient: createFetchHttpClient(),
    client: { clientName: 'My gateway', redirectUris: ['http://127.0.0.1:33418/callback'] },
    stores: createRedisStores({ client: redis, prefix: 'my-gateway', encryption: { keys: [key] } }),
    authorizationHandler: ({ authorizationUrl }) => followAuthorization(authorizationUrl),
  });
  await login.authorize();

  vi.resetModules();
  const worker = (await import('./readme.example.js')) as Example;
  examples.push(worker);
  servers.resetCounts();
  const client = new Client({ name: 'worker', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(servers.demo.mcpUrl), { fetch: worker.mcpFetch }),
  );
  try {
    expect((await client.listTools()).tools.map((tool) => tool.name)).toContain(ECHO_TOOL);
  } finally {
    await client.close();
  }
  expect(servers.tokenResponses()).toEqual([]); // the worker used the tokens in Redis: no sign-in, no refresh
});
