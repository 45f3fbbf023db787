/**
 * axios: `installOAuth` adds a request interceptor (the token) and a response interceptor (renew
 * and re-issue once on a 401 or a 403 `insufficient_scope`); MCP is plain JSON-RPC POSTs.
 */
import { createAxiosHttpClient, installOAuth } from '@mcp-oauth/axios';
import axios from 'axios';
import { createSession, type SampleOptions } from '../session.js';
import { createJsonRpcClient } from './json-rpc.js';
import type { McpClient } from './mcp-client.js';

export function connectWithAxios(options: SampleOptions): McpClient {
  const mcp = axios.create({ timeout: 30_000 });
  const session = createSession(options, createAxiosHttpClient(mcp));
  installOAuth(mcp, session);

  return createJsonRpcClient(session, options.clientName, async (message, headers) => {
    const response = await mcp.post<string>(options.serverUrl, message, { headers, responseType: 'text' });
    return {
      text: response.data,
      header: (name) => {
        const value = response.headers[name];
        return typeof value === 'string' ? value : undefined;
      },
    };
  });
}
