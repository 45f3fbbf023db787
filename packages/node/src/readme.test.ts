/**
 * The README's example, typechecked (src/readme.example.ts, under tsconfig.test.json) and run
 * against the demo server (the MCP SDK's server behind oidc-provider), with the browser played
 * headlessly: it signs in once, and a second run — another process, on the same file store —
 * finds the tokens and asks nobody.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OAuthHttpClient } from '@mcp-oauth/core';
import { type DemoServer, startDemoServer } from '@mcp-oauth/demo-server';
import { runExample, tsBlocks } from '@mcp-oauth/demo-server/readme';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';

type Example = typeof import('./readme.example.js');

const read = (path: string) => readFile(new URL(path, import.meta.url), 'utf8');
const MARKER = '\n// ---- end of the README example';

/** What the example leaves to an adapter: an `OAuthHttpClient` (here over fetch, as @mcp-oauth/fetch's is). */
const httpClient: OAuthHttpClient = {
  async send(request) {
    const response = await fetch(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body ?? null,
      redirect: 'manual',
      signal: request.signal,
    });
    return {
      status: response.status,
      headers: Object.fromEntries(response.headers),
      body: await response.text(),
    };
  },
};

let demo: DemoServer;
let configHome: string;

beforeAll(async () => {
  demo = await startDemoServer({ autoApprove: true });
  configHome = await mkdtemp(join(tmpdir(), 'node-readme-'));
  vi.stubEnv('XDG_CONFIG_HOME', configHome); // createFileStores() writes under $XDG_CONFIG_HOME/mcp-oauth
  vi.stubGlobal('httpClient', httpClient);
});

afterAll(async () => {
  vi.unstubAllEnvs();
  vi.unstubAllGlobals();
  await demo?.close();
  await rm(configHome, { recursive: true, force: true });
});

it('the README example is src/readme.example.ts (down to its marker), in 15 lines or fewer', async () => {
  const [block] = tsBlocks(await read('../README.md'));
  const example = (await read('./readme.example.ts')).split(MARKER)[0];
  expect(block).toBe(example);
  expect(example!.trimEnd().split('\n').length).toBeLessThanOrEqual(15);
});

/** Calls the MCP server with the session's token: the HTTP status. */
async function listTools(example: Example): Promise<number> {
  const token = await example.session.getAccessToken();
  const response = await fetch(demo.mcpUrl, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
  });
  await response.body?.cancel();
  return response.status;
}

it('signs in through the callback server once; a second run on the same files asks nobody', async () => {
  const code = await read('./readme.example.ts');
  const first = await runExample<Example>(code, {
    server: demo,
    packageDirectory: new URL('../', import.meta.url),
  });
  try {
    const info = await first.session.authorize();
    expect(info).toMatchObject({ issuer: demo.issuer, resource: demo.mcpUrl, hasRefreshToken: true });
    expect(await listTools(first)).toBe(200);
  } finally {
    await first.callbacks.close();
  }
  const stored = join(configHome, 'mcp-oauth');
  expect((await readdir(join(stored, 'tokens'))).filter((name) => name.endsWith('.json'))).toHaveLength(1);

  const before = demo.stats();
  const second = await runExample<Example>(code, {
    server: demo,
    packageDirectory: new URL('../', import.meta.url),
  });
  try {
    expect(await listTools(second)).toBe(200);
  } finally {
    await second.callbacks.close();
  }
  const after = demo.stats();
  expect([
    after.authorize - before.authorize,
    after.token - before.token,
    after.registration - before.registration,
  ]).toEqual([0, 0, 0]);
});
