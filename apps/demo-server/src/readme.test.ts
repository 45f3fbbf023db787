/**
 * The README's "Embed it" example, run: it starts its own demo server, and where it leaves a client
 * to the reader, a client (plain fetch, test-utils/oauth.ts) registers, sends the user through the
 * example's `authorizationHandler`, redeems the code and lists the tools.
 */
import { readFileSync } from 'node:fs';
import { afterEach, expect, it, vi } from 'vitest';
import { ECHO_TOOL } from './mcp-tools.js';
import { runExample, tsBlocks } from './readme.js';
import type { DemoServer } from './start.js';
import {
  authorizationUrl,
  bearer,
  CALLBACK,
  callMcp,
  createPkce,
  registerClient,
  stringField,
  tokenRequest,
} from './test-utils/oauth.js';

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

/** What "… run a client against demo.mcpUrl …" stands for: the names of the tools it listed. */
async function runClient(
  demo: DemoServer,
  authorizationHandler: (input: { authorizationUrl: string }) => Promise<string>,
): Promise<string[]> {
  const client = await registerClient(demo);
  const pkce = createPkce();
  const url = authorizationUrl(demo, {
    clientId: client.client_id,
    pkce,
    state: 'readme',
    resource: demo.mcpUrl,
  });
  const callback = new URL(await authorizationHandler({ authorizationUrl: url }));
  expect(callback.origin + callback.pathname).toBe(CALLBACK);
  expect(callback.searchParams.get('state')).toBe('readme');
  expect(callback.searchParams.get('iss')).toBe(demo.issuer);
  const token = await tokenRequest(demo, {
    grant_type: 'authorization_code',
    code: callback.searchParams.get('code') ?? '',
    redirect_uri: CALLBACK,
    client_id: client.client_id,
    code_verifier: pkce.verifier,
    resource: demo.mcpUrl,
  });
  expect(token.status).toBe(200);
  const listed = await callMcp(demo, { method: 'tools/list' }, bearer(token));
  expect(listed.status).toBe(200);
  const result = listed.body.result as { tools: Array<{ name: string }> };
  return result.tools.map((tool) => stringField(tool, 'name'));
}

it('the "Embed it" example starts the demo, approves headlessly, counts the requests and stops', async () => {
  const blocks = tsBlocks(readFileSync(new URL('../README.md', import.meta.url), 'utf8'));
  expect(blocks).toHaveLength(1);
  vi.stubGlobal('runClient', runClient);
  const printed = vi.spyOn(console, 'log').mockImplementation(() => {});
  const { demo, tools } = await runExample<{ demo: DemoServer; tools: string[] }>(
    `${blocks[0]}\nexport { demo, tools };\n`,
    {
      packageDirectory: new URL('../', import.meta.url),
      replace: [
        [
          '// … run a client against demo.mcpUrl …',
          'const tools = await runClient(demo, authorizationHandler);',
        ],
      ],
    },
  );
  expect(tools).toContain(ECHO_TOOL);
  expect(printed).toHaveBeenCalledTimes(1);
  expect(printed.mock.calls[0]![0]).toMatchObject({ registration: 1, authorize: 2, token: 1, mcp: 1 });
  // Closed: the example's last line stopped both servers.
  await expect(fetch(demo.mcpUrl)).rejects.toThrow();
});
