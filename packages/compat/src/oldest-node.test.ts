/**
 * The published packages under the oldest Node version their `engines` claims, run by that
 * version's binary (the `node` dev dependency of this package). vitest itself cannot run there,
 * so the test servers stay in this process and a plain script drives the built packages in a
 * child process: CommonJS (require) and ES modules (import), every adapter, a full authorization
 * and a refresh each. See oldest-node/flows.cjs.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { copyFileSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestServer, type TestServer } from '@mcp-oauth/testkit';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { installPacked, moduleFolder, PACKAGES_DIRECTORY, PUBLISHED, removePacks } from './packed.js';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const ADAPTERS = ['fetch', 'ky', 'axios', 'got'] as const;

function readJson(path: string): { engines?: { node?: string }; bin?: Record<string, string> } {
  return JSON.parse(readFileSync(path, 'utf8'));
}

/** `>=20` → `v20.0.0`: the oldest version a `>=` range admits. */
function oldestVersion(range: string): string {
  const match = /^>=\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(range.trim());
  if (match === null) throw new Error(`engines.node "${range}" is not of the form ">=X[.Y[.Z]]"`);
  return `v${match[1]}.${match[2] ?? 0}.${match[3] ?? 0}`;
}

const ranges = PUBLISHED.map(
  (name) => readJson(join(PACKAGES_DIRECTORY, name, 'package.json')).engines?.node ?? '(none)',
);
const nodePackage = require.resolve('node/package.json');
const OLDEST_NODE = join(dirname(nodePackage), readJson(nodePackage).bin?.node ?? 'bin/node');

interface Summary {
  readonly method: string;
  readonly path: string;
  readonly scheme: string;
  readonly body: string;
}
interface SmokeOutput {
  readonly node: string;
  readonly results: readonly { adapter: string; first: Summary; second: Summary }[];
}

let servers: TestServer[] = [];
let project: string | undefined;
let running: ChildProcess | undefined;
afterEach(async () => {
  if (running !== undefined && running.exitCode === null) running.kill();
  running = undefined;
  await Promise.all(servers.map((server) => server.close()));
  servers = [];
  if (project !== undefined) rmSync(project, { recursive: true, force: true });
  project = undefined;
});
afterAll(removePacks);

/**
 * Runs `script` under the oldest Node, in a project where the packed packages are installed with
 * the newest ky and got that support that Node (ky 1, got 14: ky 2 and got 15 need Node 22),
 * against one fresh test server per adapter.
 */
async function runSmoke(script: string) {
  project = installPacked({
    ky: moduleFolder('ky'),
    got: moduleFolder('got'),
    axios: moduleFolder('axios'),
    redis: moduleFolder('redis', 'redis'),
  });
  for (const file of ['flows.cjs', script])
    copyFileSync(join(here, 'oldest-node', file), join(project, file));
  const byAdapter = Object.fromEntries(
    await Promise.all(ADAPTERS.map(async (name) => [name, await startTestServer()] as const)),
  ) as Record<(typeof ADAPTERS)[number], TestServer>;
  servers = Object.values(byAdapter);
  const { NODE_OPTIONS: _, ...env } = process.env; // options of this Node may not exist in that one
  const child = spawn(OLDEST_NODE, [script], {
    cwd: project,
    env: {
      ...env,
      SMOKE_SERVERS: JSON.stringify(Object.fromEntries(servers.map((s, i) => [ADAPTERS[i], s.mcpUrl]))),
    },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  running = child;
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk) => (stdout += chunk));
  child.stderr?.on('data', (chunk) => (stderr += chunk));
  child.on('message', (message: { revokeAccessTokens: (typeof ADAPTERS)[number] }) => {
    byAdapter[message.revokeAccessTokens].revokeAllAccessTokens();
    child.send({ revoked: message.revokeAccessTokens });
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`${script} under ${OLDEST_NODE} exited with ${code}:\n${stderr}`);
  return { output: JSON.parse(stdout) as SmokeOutput, byAdapter };
}

describe('the oldest Node version the packages claim', () => {
  it('runs the packed command line', () => {
    project = installPacked({});
    const cli = join(project, 'node_modules', '@mcp-oauth', 'cli', 'package.json');
    const bin = readJson(cli).bin?.['mcp-oauth'];
    expect(bin).toBeDefined();
    const help = execFileSync(OLDEST_NODE, [join(dirname(cli), bin ?? ''), '--help'], { encoding: 'utf8' });
    expect(help).toMatch(/^Usage: mcp-oauth <command>/m);
  });

  it('is the same for every published package, and is the binary this test runs', () => {
    expect(new Set(ranges).size, `engines.node differ: ${ranges.join(', ')}`).toBe(1);
    const version = execFileSync(OLDEST_NODE, ['--version'], { encoding: 'utf8' }).trim();
    expect(version, 'the "node" dev dependency of @mcp-oauth/compat').toBe(oldestVersion(ranges[0] ?? ''));
  });

  it.each(['smoke.cjs', 'smoke.mjs'])('%s: every adapter authorizes, calls and refreshes', async (script) => {
    const { output, byAdapter } = await runSmoke(script);
    expect(output.node).toBe(oldestVersion(ranges[0] ?? ''));
    const call = {
      method: 'POST',
      path: '/mcp',
      scheme: 'Bearer',
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    };
    expect(output.results).toEqual(ADAPTERS.map((adapter) => ({ adapter, first: call, second: call })));
    for (const adapter of ADAPTERS) {
      const server = byAdapter[adapter];
      expect(
        server.issuedTokens.map((token) => token.grantType),
        adapter,
      ).toEqual(['authorization_code', 'refresh_token']);
      expect(server.counts(), adapter).toMatchObject({
        'POST /register': 1,
        'GET /authorize': 1,
        'POST /token': 2,
        'POST /mcp': 4, // 401, retry; 401 once revoked, retry after the refresh
      });
    }
  });
});
