/**
 * The ky, axios and got modules on both MCP wires, against the demo server (the MCP SDK's servers:
 * v1 for the `initialize` handshake, v2 for the 2026-07-28 stateless wire) and its oidc-provider:
 * each authorizes, lists the tools and calls one. The requests the server answered show which wire
 * was spoken: the handshake costs `initialize` and `notifications/initialized`, the stateless wire
 * one `server/discover`.
 */
import { type DemoRequestEvent, type DemoServer, ECHO_TOOL, startDemoServer } from '@mcp-oauth/demo-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approveHeadless, type LoopbackAuthorization, startLoopbackAuthorization } from '../authorization.js';
import { connectWithAxios } from './axios.js';
import { connectWithGot } from './got.js';
import { STATELESS_PROTOCOL_VERSION } from './json-rpc.js';
import { connectWithKy } from './ky.js';
import type { ConnectAdapter } from './mcp-client.js';

const ADAPTERS: ReadonlyArray<[string, ConnectAdapter]> = [
  ['ky', connectWithKy],
  ['axios', connectWithAxios],
  ['got', connectWithGot],
];

let server: DemoServer;
let authorization: LoopbackAuthorization;
const events: DemoRequestEvent[] = [];

beforeAll(async () => {
  server = await startDemoServer({ autoApprove: true, onRequest: (event) => events.push(event) });
  authorization = await startLoopbackAuthorization({ open: approveHeadless });
});

afterAll(async () => {
  await authorization?.close();
  await server?.close();
});

/** MCP POSTs answered since `from`, as `status` numbers in order. */
function mcpPosts(from: number): number[] {
  return events
    .slice(from)
    .filter((event) => event.endpoint === 'mcp' && event.method === 'POST')
    .map((event) => event.status);
}

describe.each(ADAPTERS)('%s', (_name, connect) => {
  it.each([
    // 401, initialize, notifications/initialized (202), tools/list, tools/call
    ['the initialize handshake', undefined, [401, 200, 202, 200, 200]],
    // 401, server/discover, tools/list, tools/call
    ['the 2026-07-28 stateless wire', STATELESS_PROTOCOL_VERSION, [401, 200, 200, 200]],
  ] as const)('speaks %s', async (_wire, protocolVersion, expectedPosts) => {
    const from = events.length;
    const client = connect({
      serverUrl: server.mcpUrl,
      clientName: 'wires test',
      authorization,
      ...(protocolVersion === undefined ? {} : { protocolVersion }),
    });
    await client.connect();
    expect(await client.listTools()).toContain(ECHO_TOOL);
    expect(await client.callTool(ECHO_TOOL, { message: 'over the wire' })).toBe('over the wire');
    await client.close();
    expect(mcpPosts(from)).toEqual(expectedPosts);
  });
});
