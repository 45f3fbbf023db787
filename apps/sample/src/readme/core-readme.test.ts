/**
 * packages/core/README.md's examples, typechecked (readme/core*.example.ts, with the sample) and run
 * against the demo server (the MCP SDK's server behind oidc-provider). They live here, not in core,
 * because they use @mcp-oauth/fetch and @mcp-oauth/node, which depend on core. The ID-JAG block
 * needs an identity provider: apps/conformance-client runs it against the conformance suite's.
 */
import { readFileSync } from 'node:fs';
import {
  ADMIN_SCOPE,
  ADMIN_STATS_TOOL,
  type DemoServer,
  decideDeviceAuthorization,
  ECHO_TOOL,
  startDemoServer,
} from '@mcp-oauth/demo-server';
import { runExample, tsBlocks } from '@mcp-oauth/demo-server/readme';
import { createFetchHttpClient } from '@mcp-oauth/fetch';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

type CoreExample = typeof import('./core.example.js');
type DeviceExample = typeof import('./core-device.example.js');

const read = (path: string) => readFileSync(new URL(path, import.meta.url), 'utf8');
/** A block as written in the Markdown, without the indentation of the list item it may be in. */
const dedent = (block: string) => {
  const indent = /^ */.exec(block)?.[0].length ?? 0;
  return block.replace(new RegExp(`^ {${indent}}`, 'gm'), '');
};
const blocks = tsBlocks(read('../../../../packages/core/README.md')).map(dedent);
const packageDirectory = new URL('../../', import.meta.url);

it('each ts block of the core README is verbatim in its readme/core*.example.ts; the first in 15 lines', () => {
  expect(blocks).toHaveLength(4);
  const [session, requests, enterprise, device] = blocks;
  expect(read('./core.example.ts')).toContain(`${session}\n${requests}`);
  expect(read('./core-enterprise.example.ts')).toContain(enterprise);
  expect(read('./core-device.example.ts')).toContain(device);
  expect(session!.trimEnd().split('\n').length).toBeLessThanOrEqual(15);
  expect(requests!.trimEnd().split('\n').length).toBeLessThanOrEqual(20);
});

describe('against the demo server', () => {
  let demo: DemoServer;
  beforeAll(async () => {
    demo = await startDemoServer({ autoApprove: true, devicePollIntervalSeconds: 1 });
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    vi.unstubAllGlobals();
    await demo?.close();
  });

  /** A JSON-RPC message through the example's `callMcp`: the status and the answer. */
  async function call(example: CoreExample, message: object) {
    const response = await example.callMcp(JSON.stringify({ jsonrpc: '2.0', id: 1, ...message }));
    return { status: response.status, body: (await response.json()) as { result: Record<string, unknown> } };
  }

  it('the session and callMcp: a sign-in, tools/list, then a step-up for the admin tool', async () => {
    const example = await runExample<CoreExample>(read('./core.example.ts'), {
      server: demo,
      packageDirectory,
    });
    try {
      const listed = await call(example, { method: 'tools/list' });
      expect(listed.status).toBe(200);
      const tools = listed.body.result.tools as Array<{ name: string }>;
      expect(tools.map((tool) => tool.name)).toContain(ECHO_TOOL);
      expect(demo.stats()).toMatchObject({ registration: 1, token: 1 });

      // 403 insufficient_scope: the loop sends again what the session says after it stepped up.
      const before = demo.stats();
      const admin = await call(example, {
        method: 'tools/call',
        params: { name: ADMIN_STATS_TOOL, arguments: {} },
      });
      expect(admin.status).toBe(200);
      expect(admin.body.result.isError).not.toBe(true);
      expect(demo.stats().token - before.token).toBe(1);
      expect(example.session.getTokenInfo()?.grantedScopes).toContain(ADMIN_SCOPE);
    } finally {
      await example.loopback.close();
    }
  });

  it('the device flow: the user reads the code on stderr and confirms it on another device', async () => {
    vi.stubGlobal('httpClient', createFetchHttpClient());
    // The person: reads the line the example prints, opens the page and enters the code. If that
    // fails, the example would wait for the code's expiry: the test fails at once instead.
    let person: Promise<void> | undefined;
    let failed: (error: unknown) => void = () => {};
    const personFailed = new Promise<never>((_, reject) => {
      failed = reject;
    });
    const printed = vi.spyOn(console, 'error').mockImplementation((line: unknown) => {
      const shown = /^Open (\S+) and enter (\S+)$/.exec(String(line));
      if (shown === null) return;
      const page = new URL(shown[1]!);
      page.searchParams.set('user_code', shown[2]!);
      person = decideDeviceAuthorization(page.href);
      person.catch(failed);
    });
    const signedIn = runExample<DeviceExample>(read('./core-device.example.ts'), {
      server: demo,
      packageDirectory,
    });
    const example = await Promise.race([signedIn, personFailed]);
    await person;
    expect(printed).toHaveBeenCalledTimes(1);
    expect(example.session.getTokenInfo()).toMatchObject({ issuer: demo.issuer, resource: demo.mcpUrl });
  });
});
