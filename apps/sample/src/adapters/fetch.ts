/**
 * fetch, through the MCP SDK: the SDK's `Client` over its Streamable HTTP transport, given
 * `withOAuth(fetch, session)` as its `fetch`. The SDK speaks MCP; the wrapped fetch adds the token and
 * retries once on a 401 or a 403 `insufficient_scope`.
 */
import { createFetchHttpClient, withOAuth } from '@mcp-oauth/fetch';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createSession, type SampleOptions } from '../session.js';
import { type McpClient, toolText } from './mcp-client.js';

export function connectWithFetch(options: SampleOptions): McpClient {
  const session = createSession(options, createFetchHttpClient());
  const transport = new StreamableHTTPClientTransport(new URL(options.serverUrl), {
    fetch: withOAuth(fetch, session),
  });
  const client = new Client({ name: options.clientName, version: '1.0.0' });

  return {
    session,
    connect: () => client.connect(transport),
    listTools: async () => (await client.listTools()).tools.map((tool) => tool.name),
    callTool: async (name, args = {}) => toolText(name, await client.callTool({ name, arguments: args })),
    close: () => client.close(),
  };
}
