/**
 * `mcp-oauth proxy` as MCP hosts run it: the MCP SDK's `StdioClientTransport` spawns the built
 * CLI, and a `Client` initializes, lists tools and calls them through it against the demo server
 * — across a token expiry (two proxies, one refresh), and through a step-up to `mcp:admin`.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tokenKey } from '@mcp-oauth/core';
import { type DemoServer, startDemoServer } from '@mcp-oauth/demo-server';
import { createFileStores } from '@mcp-oauth/node';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, createHome, runCli, startTestBrowser } from './test-utils/cli.js';

/** Short enough to expire within a test, long enough that a fresh token is not renewed at once. */
const LIFETIME_SECONDS = 6;

let demo: DemoServer;
let home: Awaited<ReturnType<typeof createHome>>;
let browser: Awaited<ReturnType<typeof startTestBrowser>>;
const clients: { client: Client; stderr: () => string }[] = [];

beforeAll(async () => {
  demo = await startDemoServer({ autoApprove: true, accessTokenLifetimeSeconds: LIFETIME_SECONDS });
  home = await createHome();
  browser = await startTestBrowser();
  const login = await runCli(['login', demo.mcpUrl], { ...home.env, ...browser.env });
  expect(login.code, login.stderr).toBe(0);
});

afterAll(async () => {
  await Promise.all(clients.map(({ client }) => client.close().catch(() => {})));
  await browser?.close();
  await demo?.close();
  await home?.remove();
});

async function startProxy(): Promise<{ client: Client; stderr: () => string }> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, 'proxy', demo.mcpUrl],
    env: { ...home.env, ...browser.env },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const client = new Client({ name: 'proxy-test', version: '0' });
  await client.connect(transport);
  const entry = { client, stderr: () => stderr };
  clients.push(entry);
  return entry;
}

async function storedTokens() {
  const stores = createFileStores({ directory: home.directory });
  const record = await stores.discovery.get(demo.mcpUrl);
  return stores.tokens.get(tokenKey(record!.issuer, record!.resource, record!.clientId!));
}

function text(result: Awaited<ReturnType<Client['callTool']>>): string {
  const [first] = result.content as { type: string; text?: string }[];
  return first?.type === 'text' ? (first.text ?? '') : '';
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('mcp-oauth proxy', () => {
  let first: Awaited<ReturnType<typeof startProxy>>;
  let second: Awaited<ReturnType<typeof startProxy>>;

  it('initializes, lists tools and calls one for an MCP client over stdio', async () => {
    first = await startProxy();
    expect(first.client.getServerVersion()).toMatchObject({ name: 'mcp-oauth-demo' });
    const { tools } = await first.client.listTools();
    expect(tools.map((tool) => tool.name)).toEqual(['echo', 'admin_stats']);
    const result = await first.client.callTool({ name: 'echo', arguments: { message: 'over stdio' } });
    expect(text(result)).toBe('over stdio');
  });

  it('survives the token expiry: two proxies for one server share one refresh', async () => {
    second = await startProxy();
    const before = await storedTokens();
    // Wait until the shared access token has expired (no assertion on time, only on what follows).
    await sleep(Math.max(0, before!.expiresAt! - Date.now()) + 1000);
    const refreshesBefore = demo.stats().token;
    const [a, b] = await Promise.all([
      first.client.callTool({ name: 'echo', arguments: { message: 'after expiry (1)' } }),
      second.client.callTool({ name: 'echo', arguments: { message: 'after expiry (2)' } }),
    ]);
    expect(text(a)).toBe('after expiry (1)');
    expect(text(b)).toBe('after expiry (2)');
    expect(demo.stats().token - refreshesBefore).toBe(1);
    const after = await storedTokens();
    expect(after!.accessToken).not.toBe(before!.accessToken);
    // The refresh token was rotated once: a second refresh with the old one would have revoked the grant.
    expect(after!.refreshToken).not.toBe(before!.refreshToken);
  });

  it('steps up to mcp:admin through the browser when a tool needs it, and retries the call', async () => {
    const opened = browser.opened.length;
    const result = await first.client.callTool({ name: 'admin_stats', arguments: {} });
    expect(result.isError).toBeFalsy();
    expect(JSON.parse(text(result))).toMatchObject({ mcp: expect.any(Number), token: expect.any(Number) });
    expect(browser.opened).toHaveLength(opened + 1);
    expect(new URL(browser.opened.at(-1)!).searchParams.get('scope')?.split(' ')).toContain('mcp:admin');
    expect((await storedTokens())!.grantedScopes).toContain('mcp:admin');
    // The other proxy picks up the new token from the store.
    const fromSecond = await second.client.callTool({ name: 'admin_stats', arguments: {} });
    expect(fromSecond.isError).toBeFalsy();
    expect(browser.opened).toHaveLength(opened + 1);
  });

  it('writes no token and no refresh token to stderr', async () => {
    const tokens = await storedTokens();
    for (const proxy of [first, second]) {
      expect(proxy.stderr()).not.toContain(tokens!.accessToken);
      expect(proxy.stderr()).not.toContain(tokens!.refreshToken!);
    }
  });
});

describe('mcp-oauth proxy on raw stdio', () => {
  it('writes only JSON-RPC to stdout, reports a bad line on stderr, and exits 0 when stdin ends', async () => {
    const child = spawn(process.execPath, [CLI, 'proxy', demo.mcpUrl], {
      env: { ...home.env, ...browser.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    const initialize = {
      jsonrpc: '2.0',
      id: 'init-1',
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '0' } },
    };
    child.stdin.write('this is not JSON\n');
    child.stdin.write(`${JSON.stringify(initialize)}\n`);
    while (!stdout.includes('\n')) await sleep(50);
    child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`);
    child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' })}\n`);
    while (stdout.split('\n').length < 3) await sleep(50);
    child.stdin.end();
    expect(await exited).toBe(0);

    const lines = stdout.trim().split('\n');
    const messages = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(messages).toEqual([
      { jsonrpc: '2.0', id: 'init-1', result: expect.objectContaining({ protocolVersion: '2025-06-18' }) },
      { jsonrpc: '2.0', id: 2, result: { tools: expect.any(Array) } },
    ]);
    expect(stderr).toContain('mcp-oauth: ignored a line on stdin that is not a JSON-RPC message');
  });

  it('answers a request it cannot forward with a JSON-RPC error instead of leaving the host waiting', async () => {
    // A port nobody listens on any more.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));

    const child = spawn(process.execPath, [CLI, 'proxy', `http://127.0.0.1:${port}/mcp`], {
      env: home.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/list' })}\n`);
    while (!stdout.includes('\n')) await sleep(50);
    child.stdin.end();
    expect(await exited).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      jsonrpc: '2.0',
      id: 7,
      error: {
        code: -32000,
        message: 'mcp-oauth: the request could not be sent to the MCP server',
        data: {},
      },
    });
  });
});
