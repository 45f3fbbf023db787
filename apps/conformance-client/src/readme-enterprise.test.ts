/**
 * packages/core/README.md's enterprise-managed authorization (ID-JAG) example, run against the MCP
 * project's own servers for it: the conformance suite's `auth/cross-app-access-complete-flow`
 * scenario (an IdP that exchanges the ID token for an ID-JAG, an authorization server that takes
 * it in a jwt-bearer grant, an MCP server). The client the suite starts is the README block as
 * written, with only its example URLs and ids replaced by the scenario's, then an MCP SDK client
 * that lists the tools through `withOAuth(fetch, session)`. The suite judges every request.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareExample, tsBlocks } from '@mcp-oauth/demo-server/readme';
import { afterAll, expect, it } from 'vitest';

const APP_DIRECTORY = fileURLToPath(new URL('..', import.meta.url));
const NODE_22 = 'node_modules/node/bin/node'; // relative: the suite splits its --command on spaces
const SUITE_CLI = join(APP_DIRECTORY, 'node_modules/@modelcontextprotocol/conformance/dist/index.js');
const PRELOAD = join(APP_DIRECTORY, 'src/bind-loopback.mjs');
const SCENARIO = 'auth/cross-app-access-complete-flow';

const readme = readFileSync(new URL('../../../packages/core/README.md', import.meta.url), 'utf8');
const block = tsBlocks(readme).find((code) => code.includes('createIdJagAssertion'));

/**
 * The client: what the README leaves to the reader, from the suite's context (its IdP client has
 * no secret: the IdP ignores one), the README block, then an MCP request with the session.
 */
function clientSource(code: string): string {
  const prelude = `
import { createFetchHttpClient, withOAuth } from '@mcp-oauth/fetch';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';

const serverUrl = process.argv[2]!;
const context = JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT ?? '{}');
const httpClient = createFetchHttpClient();
const idpSecret = 'not-checked-by-the-suite-idp';
const currentUser = { idToken: context.idp_id_token };
const { client_id: clientId, client_secret: clientSecret } = context;
// The authorization server the MCP server names (the README knows its issuer ahead of time).
const resourceMetadataUrl = new URL('/.well-known/oauth-protected-resource' + new URL(serverUrl).pathname, serverUrl);
const [authorizationServer] = (await (await fetch(resourceMetadataUrl)).json()).authorization_servers;
`;
  const example = prepareExample(code, {
    replace: [
      ["'https://acme.idp.example'", 'context.idp_issuer'],
      ["'idp-client-id'", 'context.idp_client_id'],
      ["'https://mcp.chat.example/mcp'", 'serverUrl'],
      ["'https://auth.chat.example'", 'authorizationServer'],
    ],
  });
  const request = `
const mcp = new Client({ name: 'readme', version: '1.0.0' });
await mcp.connect(new StreamableHTTPClientTransport(new URL(serverUrl), { fetch: withOAuth(fetch, session) }));
const { tools } = await mcp.listTools();
await mcp.close();
if (tools.length === 0) throw new Error('the server listed no tools');
`;
  return `${prelude}${example}${request}`;
}

/** Runs the suite's scenario with `command` as the client, in its own process group. */
function runScenario(
  command: string,
  outputDirectory: string,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      NODE_22,
      [
        '--import',
        PRELOAD,
        SUITE_CLI,
        'client',
        '--command',
        command,
        '--scenario',
        SCENARIO,
        '--timeout',
        '30000',
        '--output-dir',
        outputDirectory,
      ],
      { cwd: APP_DIRECTORY, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on('close', (code) => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL'); // nothing it started lingers
      } catch {
        // the group is gone already
      }
      resolve({ code, output });
    });
  });
}

const cleanups: Array<() => void> = [];
afterAll(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

it('the ID-JAG example signs in at the suite’s IdP and authorization server and lists the tools', async () => {
  expect(block).toBeDefined();
  const directory = join(APP_DIRECTORY, '.readme-run');
  mkdirSync(directory, { recursive: true });
  const script = join(directory, `readme-enterprise-${randomUUID().slice(0, 8)}.ts`);
  writeFileSync(script, clientSource(block!));
  const outputDirectory = mkdtempSync(join(tmpdir(), 'readme-enterprise-'));
  cleanups.push(
    () => rmSync(script, { force: true }),
    () => rmSync(outputDirectory, { recursive: true, force: true }),
  );

  const { code, output } = await runScenario(
    `${NODE_22} .readme-run/${script.split('/').at(-1)}`,
    outputDirectory,
  );

  const file = readdirSync(outputDirectory, { recursive: true, encoding: 'utf8' }).find((name) =>
    name.endsWith('checks.json'),
  );
  expect(file, output).toBeDefined();
  const checks = JSON.parse(readFileSync(join(outputDirectory, file!), 'utf8')) as Array<{
    id: string;
    status: string;
    description: string;
  }>;
  expect(checks.filter((check) => check.status === 'FAILURE' || check.status === 'WARNING')).toEqual([]);
  const succeeded = new Set(checks.filter((check) => check.status === 'SUCCESS').map((check) => check.id));
  for (const id of ['complete-flow-token-exchange', 'complete-flow-jwt-bearer', 'valid-bearer-token']) {
    expect(succeeded, id).toContain(id);
  }
  expect(checks.map((check) => check.description)).toContain(
    'Received POST request for /mcp (method: tools/list)',
  );
  expect(code, output).toBe(0);
});
