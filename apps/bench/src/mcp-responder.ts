/**
 * A tiny stateless MCP server as a reply function for the testkit resource (`serveResource`):
 * JSON-RPC over Streamable HTTP with plain JSON responses, no session, no server-to-client stream.
 * Enough for the official SDK clients to connect, list tools and call `echo`.
 */
import type { RecordedRequest, Reply } from '@mcp-oauth/testkit';

const SERVER_INFO = { name: 'mcp-oauth-bench', version: '0.0.0' };
const TOOLS = [
  {
    name: 'echo',
    description: 'Returns its text',
    inputSchema: { type: 'object', properties: { text: { type: 'string' } } },
  },
];

interface JsonRpcMessage {
  readonly jsonrpc?: unknown;
  readonly id?: unknown;
  readonly method?: unknown;
  readonly params?: Record<string, unknown>;
}

const json = (body: unknown): Reply => ({
  status: 200,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

function result(message: JsonRpcMessage): unknown {
  switch (message.method) {
    case 'initialize':
      return {
        protocolVersion: message.params?.protocolVersion,
        capabilities: { tools: {} },
        serverInfo: SERVER_INFO,
      };
    case 'tools/list':
      return { tools: TOOLS };
    case 'tools/call': {
      const text = (message.params?.arguments as { text?: unknown } | undefined)?.text;
      return { content: [{ type: 'text', text: typeof text === 'string' ? text : '' }] };
    }
    default:
      return {};
  }
}

/** Answers one authorized request to the MCP endpoint. */
export function mcpReply(request: RecordedRequest): Reply {
  // No standalone server-to-client stream and no session to delete, as in a stateless server.
  if (request.method !== 'POST') return { status: 405, headers: { allow: 'POST' } };
  let message: JsonRpcMessage;
  try {
    message = JSON.parse(request.text) as JsonRpcMessage;
  } catch {
    return { status: 400, headers: { 'content-type': 'text/plain' }, body: 'not JSON' };
  }
  if (message.id === undefined || message.id === null) return { status: 202 };
  return json({ jsonrpc: '2.0', id: message.id, result: result(message) });
}
