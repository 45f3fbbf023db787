/**
 * axios: `withOAuth` puts an adapter before axios's transport that sends each request as the
 * session says (the token, one retry after a renewal on a 401 or a 403 `insufficient_scope`, each
 * redirect hop); MCP is plain JSON-RPC POSTs, on either wire (`json-rpc.ts`).
 */
import { createAxiosHttpClient, withOAuth } from '@mcp-oauth/axios';
import axios from 'axios';
import { createSession, type SampleOptions } from '../session.js';
import { createJsonRpcClient } from './json-rpc.js';
import type { McpClient } from './mcp-client.js';

export function connectWithAxios(options: SampleOptions): McpClient {
  const app = axios.create({ timeout: 30_000 });
  const session = createSession(options, createAxiosHttpClient(app));
  const mcp = withOAuth(app, session);

  return createJsonRpcClient(session, options, async (message, headers) => {
    const response = await mcp.post<string>(options.serverUrl, message, {
      headers,
      responseType: 'text',
      validateStatus: () => true,
    });
    return {
      status: response.status,
      text: response.data,
      header: (name) => {
        const value = response.headers[name];
        return typeof value === 'string' ? value : undefined;
      },
    };
  });
}
