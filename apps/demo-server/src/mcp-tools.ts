/**
 * The MCP server itself, built with the official SDK: two tools, each needing a scope. The HTTP
 * layer already refused requests without the scope (with a challenge the client can act on);
 * the tools check again from the token the transport hands them.
 *
 * The same tools are served on both wires: the `initialize` handshake by the SDK's v1 server, the
 * 2026-07-28 stateless wire by its v2 server (`createModernMcpServer`).
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { McpServer as ModernMcpServer } from '@modelcontextprotocol/server';
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

const SERVER_INFO = { name: 'mcp-oauth-demo', version: '0.0.0' };
const ECHO = {
  title: 'Echo',
  description: `Returns the message it is given. Needs ${TOOLS_SCOPE}.`,
  input: { message: z.string().max(10_000) },
};
const ADMIN_STATS = {
  title: 'Admin statistics',
  description: `Requests served per endpoint since start. Needs ${ADMIN_SCOPE}.`,
};

function refusal(scope: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text: `this tool needs the ${scope} scope` }] };
}

function echo(message: string, scopes: readonly string[] | undefined): CallToolResult {
  if (!scopes?.includes(TOOLS_SCOPE)) return refusal(TOOLS_SCOPE);
  return { content: [{ type: 'text', text: message }] };
}

function adminStats(stats: () => DemoServerStats, scopes: readonly string[] | undefined): CallToolResult {
  if (!scopes?.includes(ADMIN_SCOPE)) return refusal(ADMIN_SCOPE);
  return { content: [{ type: 'text', text: JSON.stringify(stats()) }] };
}

/** The server for the `initialize` handshake (protocol revisions up to 2025-11-25). */
export function createMcpServer(stats: () => DemoServerStats): McpServer {
  const server = new McpServer(SERVER_INFO);
  server.registerTool(
    ECHO_TOOL,
    { title: ECHO.title, description: ECHO.description, inputSchema: ECHO.input },
    ({ message }, extra) => echo(message, extra.authInfo?.scopes),
  );
  server.registerTool(
    ADMIN_STATS_TOOL,
    { title: ADMIN_STATS.title, description: ADMIN_STATS.description },
    (extra) => adminStats(stats, extra.authInfo?.scopes),
  );
  return server;
}

/** The server for the 2026-07-28 stateless wire: one per request, as the v2 SDK serves it. */
export function createModernMcpServer(stats: () => DemoServerStats): ModernMcpServer {
  const server = new ModernMcpServer(SERVER_INFO);
  server.registerTool(
    ECHO_TOOL,
    { title: ECHO.title, description: ECHO.description, inputSchema: z.object(ECHO.input) },
    ({ message }, context) => echo(message, context.http?.authInfo?.scopes),
  );
  server.registerTool(
    ADMIN_STATS_TOOL,
    { title: ADMIN_STATS.title, description: ADMIN_STATS.description },
    (context) => adminStats(stats, context.http?.authInfo?.scopes),
  );
  return server;
}
