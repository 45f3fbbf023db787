import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startDemoServer } from '@mcp-oauth/demo-server';
import { expect, it } from 'vitest';

const read = (path: string) => readFileSync(new URL(path, import.meta.url), 'utf8');
const example = read('./readme.example.ts').split('\n// ---- end of the README example')[0] ?? '';

it('README.md shows the example that readme.example.ts typechecks', () => {
  const shown = /```ts\n([\s\S]*?)```/.exec(read('../README.md'))?.[1];
  expect(shown).toBeDefined();
  expect(example.endsWith(shown ?? '\u0000')).toBe(true);
  expect(shown?.trim().split('\n').length).toBeLessThanOrEqual(15);
});

it('the README example lists the tools of a real MCP server (the SDK over Streamable HTTP)', async () => {
  const server = await startDemoServer({ autoApprove: true });
  // The example as written, pointed at the demo server, with a "browser" that approves at once.
  const directory = new URL('../.readme-run/', import.meta.url);
  const module = new URL('example.ts', directory);
  mkdirSync(directory, { recursive: true });
  writeFileSync(
    module,
    [
      `import { followAuthorization as openBrowserAndWaitForRedirect } from '@mcp-oauth/demo-server';`,
      example
        .replaceAll('https://mcp.example.com', new URL(server.mcpUrl).origin)
        .replace(`from '@mcp-oauth/axios'`, `from '../src/index.js'`),
      'export { data, mcp };',
    ].join('\n'),
  );
  try {
    const { data, mcp } = await import(/* @vite-ignore */ fileURLToPath(module));

    expect(data).toMatchObject({ jsonrpc: '2.0', id: 1, result: { tools: expect.any(Array) } });
    const names = (data.result.tools as { name: string }[]).map((tool) => tool.name);
    expect(names.length).toBeGreaterThan(0);
    expect(server.stats()).toMatchObject({ token: 1, mcp: 2 }); // a 401, then the authorized retry
    // The example's `accept` is what the SDK's server insists on: without it, 406.
    const refused = await mcp
      .post(
        '/mcp',
        { jsonrpc: '2.0', id: 2, method: 'tools/list' },
        { headers: { accept: 'application/json' } },
      )
      .catch((error: { response?: { status: number } }) => error.response?.status);
    expect(refused).toBe(406);
  } finally {
    rmSync(directory, { recursive: true, force: true });
    await server.close();
  }
});
