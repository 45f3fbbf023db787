import { readFileSync } from 'node:fs';
import { startDemoServer } from '@mcp-oauth/demo-server';
import { runExample, tsBlocks } from '@mcp-oauth/demo-server/readme';
import { expect, it } from 'vitest';

type Example = typeof import('./readme.example.js');

const read = (path: string) => readFileSync(new URL(path, import.meta.url), 'utf8');
const example = read('./readme.example.ts').split('\n// ---- end of the README example')[0] ?? '';

it('README.md shows the example that readme.example.ts typechecks', () => {
  const [shown] = tsBlocks(read('../README.md'));
  expect(shown).toBeDefined();
  expect(example.endsWith(shown ?? '\u0000')).toBe(true);
  expect(shown?.trim().split('\n').length).toBeLessThanOrEqual(15);
});

it('the README example lists the tools of a real MCP server (the SDK over Streamable HTTP)', async () => {
  const server = await startDemoServer({ autoApprove: true });
  // The example as written, pointed at the demo server, its loopback sign-in played headlessly.
  const { data, loopback, mcp } = await runExample<Example>(read('./readme.example.ts'), {
    server,
    packageDirectory: new URL('../', import.meta.url),
  });
  try {
    expect(data).toMatchObject({ jsonrpc: '2.0', id: 1, result: { tools: expect.any(Array) } });
    const names = (data.result.tools as { name: string }[]).map((tool) => tool.name);
    expect(names.length).toBeGreaterThan(0);
    // a 401, then the authorized retry; the "browser" went through the loopback callback server
    expect(server.stats()).toMatchObject({ registration: 1, token: 1, mcp: 2 });
    expect(mcp.oauthSession.getTokenInfo()?.issuer).toBe(server.issuer);
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
    await loopback.close();
    await server.close();
  }
});
