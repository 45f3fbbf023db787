// Test-only: what the MCP SDK scenarios (sdk.integration.test.ts, auth-provider.integration.test.ts)
// share: a user who approves everything, and readers for tool results and the server's records.
import { expect } from 'vitest';
import type { ResourceRequestRecord } from './sdk-mcp-server.js';

/** Registered with the authorization server; never listened on — the test reads the redirect itself. */
export const REDIRECT_URI = 'http://127.0.0.1:53682/callback';

/** A test user who approves everything: follow nothing, hand back where the server redirected to. */
export async function approve(authorizationUrl: string): Promise<string> {
  const response = await fetch(authorizationUrl, { redirect: 'manual' });
  await response.body?.cancel();
  const location = response.headers.get('location');
  if (response.status !== 302 || location === null) {
    throw new Error(`the authorization endpoint answered ${response.status} without a redirect`);
  }
  return location;
}

/** The text of a `CallToolResult` with one text block. */
export function textOf(result: unknown): string {
  const content = (result as { content?: unknown }).content;
  expect(content).toEqual([{ type: 'text', text: expect.any(String) }]);
  return (content as [{ text: string }])[0].text;
}

export function bearer(record: ResourceRequestRecord): string | undefined {
  return /^Bearer (\S+)$/.exec(record.authorization ?? '')?.[1];
}

/** POSTs to /mcp only: the client's optional GET stream is opened in the background, in no fixed order. */
export function posts(records: readonly ResourceRequestRecord[]) {
  return records
    .filter((record) => record.httpMethod === 'POST')
    .map((record) => ({
      rpc: record.tool === undefined ? record.rpcMethod : `${record.rpcMethod} ${record.tool}`,
      token: bearer(record),
      active: record.tokenActive,
      status: record.status,
    }));
}

export const sorted = (values: readonly string[]) => [...values].sort();
