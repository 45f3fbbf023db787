/**
 * `pnpm demo -- --server <url>`, in process: the sample pointed at an MCP server it did not start
 * (here a second demo server, auto-approving, so that no person is needed), with credentials in
 * file stores. The second run finds them and needs no authorization.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DemoServer, startDemoServer } from '@mcp-oauth/demo-server';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ADAPTER_NAMES } from './adapters/index.js';
import { approveHeadless } from './authorization.js';
import { runDemo } from './demo.js';
import type { Outcome } from './flow.js';

let server: DemoServer;
let storeDirectory: string;

beforeAll(async () => {
  server = await startDemoServer({ autoApprove: true });
  storeDirectory = await mkdtemp(join(tmpdir(), 'sample-stores-'));
});

afterAll(async () => {
  await server?.close();
  if (storeDirectory !== undefined) await rm(storeDirectory, { recursive: true, force: true });
});

async function runAgainstServer() {
  const lines: string[] = [];
  const result = await runDemo({
    adapters: ADAPTER_NAMES,
    serverUrl: server.mcpUrl,
    browser: true,
    open: approveHeadless,
    tokenLifetimeSeconds: 5,
    callbackPort: 0,
    storeDirectory,
    signOut: false,
    dpop: false,
    print: (line) => lines.push(line),
  });
  return { ...result, log: lines.join('\n') };
}

const outcomes = (steps: readonly { outcome: Outcome }[] | undefined) => steps?.map((step) => step.outcome);
const STORED: Outcome[] = [
  'skipped',
  'skipped',
  'skipped',
  'skipped',
  'passed',
  'passed',
  'skipped',
  'skipped',
  'skipped',
];

it('authorizes once, keeps the credentials in files, and the next run needs no authorization', async () => {
  const first = await runAgainstServer();
  expect(first.passed, first.log).toBe(true);
  // The first adapter goes through the whole flow (no waiting for expiry, no sign-out) …
  expect(outcomes(first.reports[0]?.steps)).toEqual([
    ...Array(7).fill('passed'),
    'skipped', // refresh: not waiting for this server's tokens to expire
    'skipped', // sign-out: credentials kept
  ]);
  // … and the others find its client, tokens and scopes in the store.
  for (const report of first.reports.slice(1)) expect(outcomes(report.steps)).toEqual(STORED);
  expect(first.log).toContain(`credentials kept in ${storeDirectory} for the next run`);
  expect(first.log).toContain('MCP requests are counted only at the embedded demo server.');
  expect(await readdir(join(storeDirectory, 'tokens'))).toHaveLength(1);
  expect(first.reports[0]?.requests).toEqual({
    prm: 1,
    asMetadata: 1,
    register: 1,
    authorize: 2,
    token: 2,
    revoke: 1,
    mcp: undefined,
  });

  const authorizationsBefore = server.stats().authorize;
  const second = await runAgainstServer();
  expect(second.passed, second.log).toBe(true);
  for (const report of second.reports) expect(outcomes(report.steps)).toEqual(STORED);
  expect(server.stats().authorize).toBe(authorizationsBefore);
  expect(second.log).not.toContain('authorization request with PKCE');
});
