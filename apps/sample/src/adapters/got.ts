/**
 * got: `withOAuth` extends an instance with hooks that add the token and send a request once more
 * on a 401 or a 403 `insufficient_scope`; MCP is plain JSON-RPC POSTs, on either wire (`json-rpc.ts`).
 */
import { createGotHttpClient, withOAuth } from '@mcp-oauth/got';
import got from 'got';
import { createSession, type SampleOptions } from '../session.js';
import { createJsonRpcClient } from './json-rpc.js';
import type { McpClient } from './mcp-client.js';

export function connectWithGot(options: SampleOptions): McpClient {
  const app = got.extend({ timeout: { request: 30_000 } });
  const session = createSession(options, createGotHttpClient(app));
  const mcp = withOAuth(app, session);

  return createJsonRpcClient(session, options, async (message, headers) => {
    const response = await mcp.post(options.serverUrl, { json: message, headers, throwHttpErrors: false });
    return {
      status: response.statusCode,
      text: response.body,
      header: (name) => {
        const value = response.headers[name];
        return typeof value === 'string' ? value : undefined;
      },
    };
  });
}
