/**
 * The MCP server itself, built with the official SDK: two tools, each needing a scope. The HTTP
 * layer already refused requests without the scope (with a challenge the client can act on);
 * the tools check again from the token the transport hands them.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { ADMIN_SCOPE, TOOLS_SCOPE } from './scopes.js';
import type { DemoServerStats } from './stats.js';

export const ECHO_TOOL = 'echo';
export const ADMIN_STATS_TOOL = 'admin_stats';

/** The scopes each tool needs. A tool not listed needs {@link TOOLS_SCOPE} only. */
export const TOOL_SCOPES: Readonly<Record<string, readonly string[]>> = {
  [ECHO_TOOL]: [TOOLS_SCOPE],
  [ADMIN_STATS_TOOL]: [TOOLS_SCOPE, ADMIN_SCOPE],
};

function refusal(scope: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text: `this tool needs the ${scope} scope` }] };
}

export function createMcpServer(stats: () => DemoServerStats): McpServer {
  const server = new McpServer({ name: 'mcp-oauth-demo', version: '0.0.0' });

  server.registerTool(
    ECHO_TOOL,
    {
      title: 'Echo',
      description: `Returns the message it is given. Needs ${TOOLS_SCOPE}.`,
      inputSchema: { message: z.string().max(10_000) },
    },
    ({ message }, extra) => {
      if (!extra.authInfo?.scopes.includes(TOOLS_SCOPE)) return refusal(TOOLS_SCOPE);
      return { content: [{ type: 'text', text: message }] };
    },
  );

  server.registerTool(
    ADMIN_STATS_TOOL,
    {
      title: 'Admin statistics',
      description: `Requests served per endpoint since start. Needs ${ADMIN_SCOPE}.`,
    },
    (extra) => {
      if (!extra.authInfo?.scopes.includes(ADMIN_SCOPE)) return refusal(ADMIN_SCOPE);
      return { content: [{ type: 'text', text: JSON.stringify(stats()) }] };
    },
  );

  return server;
}
