import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { Agent } from 'node:https';
import type { AddressInfo } from 'node:net';
import { ECHO_TOOL, followAuthorization, startDemoServer } from '@mcp-oauth/demo-server';
import { closeServer } from '@mcp-oauth/testkit';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { afterEach, expect, it, vi } from 'vitest';

// The README's examples are typechecked as src/readme.example.ts (tsc -p tsconfig.test.json);
// this keeps the two from drifting apart.
it('every ts block of README.md appears verbatim in readme.example.ts', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const example = readFileSync(new URL('./readme.example.ts', import.meta.url), 'utf8');
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]!);
  expect(blocks.length).toBeGreaterThan(0);
  for (const block of blocks) expect(example).toContain(block);
});

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  vi.unstubAllEnvs();
  vi.unstubAllGlobals();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Runs readme.example.ts (the README's code) against `serverUrl`: the names of the tools it listed. */
async function runExample(serverUrl: string): Promise<string[]> {
  vi.stubEnv('MCP_SERVER_URL', serverUrl);
  vi.stubGlobal('openBrowserAndWaitForRedirect', (url: string) => followAuthorization(url));
  vi.stubGlobal('proxyAgent', new Agent());
  vi.stubGlobal('clientSecret', 'unused');
  for (const name of ['githubSession', 'linearSession']) vi.stubGlobal(name, { beginRequest() {} });
  vi.resetModules();
  const { tools } = (await import('./readme.example.js')) as { tools: Array<{ name: string }> };
  return tools.map((tool) => tool.name);
}

it('the README example lists the tools of the demo server: OAuth, then JSON answers', async () => {
  const demo = await startDemoServer({ autoApprove: true });
  cleanups.push(() => demo.close());
  expect(await runExample(demo.mcpUrl)).toContain(ECHO_TOOL);
  const stats = demo.stats();
  expect(stats.token).toBe(1);
  expect(stats.mcp).toBeGreaterThanOrEqual(4); // the 401, initialize, initialized, tools/list
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
  expect(await runExample(`http://127.0.0.1:${port}/mcp`)).toEqual(['shout']);
  expect(seen[0]?.contentType).toBe('text/event-stream');
  expect(seen.at(-1)).toEqual({ contentType: 'text/event-stream', sessionId: transport.sessionId });
});
