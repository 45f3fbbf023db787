/**
 * ky: `withOAuth` extends an instance so that each call runs through a fetch that adds the token
 * and sends the request once more on a 401 or a 403 `insufficient_scope`; MCP is plain JSON-RPC
 * POSTs, on either wire: JSON or an SSE stream, read as text (`json-rpc.ts`).
 */
import { createKyHttpClient, withOAuth } from '@mcp-oauth/ky';
import ky from 'ky';
import { createSession, type SampleOptions } from '../session.js';
import { createJsonRpcClient } from './json-rpc.js';
import type { McpClient } from './mcp-client.js';

export function connectWithKy(options: SampleOptions): McpClient {
  const app = ky.create({ timeout: 30_000 });
  const session = createSession(options, createKyHttpClient(app));
  const mcp = withOAuth(app, session);

  return createJsonRpcClient(session, options, async (message, headers) => {
    const response = await mcp.post(options.serverUrl, { json: message, headers, throwHttpErrors: false });
    return {
      status: response.status,
      text: await response.text(),
      header: (name) => response.headers.get(name) ?? undefined,
    };
  });
}
