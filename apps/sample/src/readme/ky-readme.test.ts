/**
 * The ky package README's example, run: its first three code blocks (connect and `initialize`,
 * `messagesOf`, the next requests) against real MCP servers, with only the server URL and the
 * browser replaced. The demo server (official MCP SDK behind oidc-provider) answers with JSON; the
 * fetch package's SDK test servers (`McpServer` behind the SDK's `requireBearerAuth`) answer
 * with an SSE stream.
 */
import { readFileSync } from 'node:fs';
import { followAuthorization, startDemoServer } from '@mcp-oauth/demo-server';
import { withOAuth } from '@mcp-oauth/ky';
import ky from 'ky';
import ts from 'typescript';
import { expect, it } from 'vitest';
// Test-only helpers of another package, taken as they are: an SDK server that answers with SSE.
import { startSdkAuthorizationServer } from '../../../../packages/fetch/src/sdk-authorization-server.js';
import { startSdkMcpServer, TOOLS_SCOPE } from '../../../../packages/fetch/src/sdk-mcp-server.js';

const readme = readFileSync(new URL('../../../../packages/ky/README.md', import.meta.url), 'utf8');
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1] ?? '');

/** The blocks as the body of an async function of the names their imports and declarations give. */
function compile(
  code: string,
  serverUrl: string,
): (...values: unknown[]) => Promise<Record<string, unknown>> {
  const imports = /^import .*;\n/gm;
  expect(code.match(imports)).toEqual([
    "import { withOAuth } from '@mcp-oauth/ky';\n",
    "import { createLoopbackAuthorizationHandler } from '@mcp-oauth/node';\n",
    "import ky from 'ky';\n",
  ]);
  const source = `${code.replace(imports, '').replaceAll("'https://mcp.example.com/mcp'", JSON.stringify(serverUrl))}
return { initialized, tools };`;
  const body = ts.transpileModule(source, { compilerOptions: { target: ts.ScriptTarget.ES2022 } }).outputText;
  const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (
    ...parameters: string[]
  ) => (...values: unknown[]) => Promise<Record<string, unknown>>;
  return new AsyncFunction('withOAuth', 'ky', 'createLoopbackAuthorizationHandler', body);
}

async function runExample(serverUrl: string, approve: (authorizationUrl: string) => Promise<string>) {
  const run = compile(blocks.slice(0, 3).join('\n'), serverUrl);
  // The browser is played headlessly: the handler brings back where the authorization server redirected.
  const loopback = async () => ({
    redirectUri: 'http://127.0.0.1:9/callback',
    handler: ({ authorizationUrl }: { authorizationUrl: string }) => approve(authorizationUrl),
  });
  const { initialized, tools } = await run(withOAuth, ky, loopback);
  expect(initialized).toMatchObject({
    jsonrpc: '2.0',
    id: 1,
    result: { protocolVersion: expect.any(String) },
  });
  return (tools as { result: { tools: Array<{ name: string }> } }).result.tools.map((tool) => tool.name);
}

it('the ky README example initializes and lists the tools of the demo server (JSON answers)', async () => {
  const demo = await startDemoServer({ autoApprove: true, dpop: false, onRequest: () => {} });
  try {
    expect((await runExample(demo.mcpUrl, followAuthorization)).length).toBeGreaterThan(0);
  } finally {
    await demo.close();
  }
});

it('the ky README example initializes and lists the tools of an SDK server answering with SSE', async () => {
  const authorizationServer = await startSdkAuthorizationServer({ scopesSupported: [TOOLS_SCOPE] });
  const mcp = await startSdkMcpServer(authorizationServer);
  try {
    const approve = async (authorizationUrl: string) => {
      const response = await fetch(authorizationUrl, { redirect: 'manual' });
      await response.body?.cancel();
      return response.headers.get('location') ?? '';
    };
    expect((await runExample(mcp.mcpUrl.href, approve)).sort()).toEqual(['admin_echo', 'echo']);
    expect(mcp.requests.map((record) => [record.rpcMethod, record.status])).toEqual([
      ['initialize', 401],
      ['initialize', 200],
      ['notifications/initialized', 202],
      ['tools/list', 200],
    ]);
  } finally {
    await mcp.close();
    await authorizationServer.close();
  }
});
