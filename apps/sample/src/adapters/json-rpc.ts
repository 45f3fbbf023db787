/**
 * MCP over Streamable HTTP as plain JSON-RPC POSTs, for the libraries that are not a `fetch`
 * (ky, axios, got): each adapter module supplies `post`, this file knows the messages. Enough of
 * the protocol for the demo: `initialize` (keeping `Mcp-Session-Id` when a server is stateful),
 * `notifications/initialized`, `tools/list`, `tools/call`; answers as JSON or as an SSE stream.
 */
import type { OAuthSession } from '@mcp-oauth/core';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { type McpClient, toolText } from './mcp-client.js';

export interface JsonRpcMessage {
  readonly jsonrpc: '2.0';
  readonly id?: number;
  readonly method: string;
  readonly params?: Record<string, unknown>;
}

/** The response to one POST: its body as text and a way to read a header. */
export interface McpHttpResponse {
  readonly text: string;
  header(name: string): string | undefined;
}

/** Sends one message with these headers (the library adds `content-type: application/json`). */
export type PostMessage = (
  message: JsonRpcMessage,
  headers: Record<string, string>,
) => Promise<McpHttpResponse>;

export function createJsonRpcClient(session: OAuthSession, clientName: string, post: PostMessage): McpClient {
  let nextId = 1;
  let sessionId: string | undefined;
  let protocolVersion: string | undefined;

  const headers = (): Record<string, string> => ({
    accept: 'application/json, text/event-stream',
    ...(sessionId === undefined ? {} : { 'mcp-session-id': sessionId }),
    ...(protocolVersion === undefined ? {} : { 'mcp-protocol-version': protocolVersion }),
  });

  const request = async (method: string, params: Record<string, unknown> = {}) => {
    const id = nextId++;
    const response = await post({ jsonrpc: '2.0', id, method, params }, headers());
    return { response, result: readResult(response, id, method) };
  };

  return {
    session,
    async connect() {
      const { response, result } = await request('initialize', {
        protocolVersion: LATEST_PROTOCOL_VERSION,
        capabilities: {},
        clientInfo: { name: clientName, version: '1.0.0' },
      });
      sessionId = response.header('mcp-session-id');
      protocolVersion = typeof result.protocolVersion === 'string' ? result.protocolVersion : undefined;
      await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, headers());
    },
    async listTools() {
      const { result } = await request('tools/list');
      const tools = Array.isArray(result.tools) ? (result.tools as Array<{ name?: unknown }>) : [];
      return tools.map((tool) => String(tool.name));
    },
    async callTool(name, args = {}) {
      const { result } = await request('tools/call', { name, arguments: args });
      return toolText(name, result);
    },
    async close() {},
  };
}

/** The `result` of the response to request `id`, from a JSON body or an SSE stream. */
export function readResult(response: McpHttpResponse, id: number, method: string): Record<string, unknown> {
  const isStream = (response.header('content-type') ?? '').startsWith('text/event-stream');
  const messages = isStream ? eventData(response.text) : [response.text];
  for (const data of messages) {
    let message: unknown;
    try {
      message = JSON.parse(data);
    } catch {
      continue;
    }
    const { id: answered, result, error } = (message ?? {}) as Record<string, unknown>;
    if (answered !== id) continue;
    if (error !== undefined) {
      const { code, message: text } = error as { code?: unknown; message?: unknown };
      throw new Error(`MCP ${method} failed: ${String(text)} (${String(code)})`);
    }
    if (typeof result === 'object' && result !== null) return result as Record<string, unknown>;
  }
  throw new Error(`MCP ${method}: no response to request ${id}`);
}

/** The `data` of each event of a `text/event-stream` body. */
export function eventData(text: string): string[] {
  return text
    .split(/\r?\n\r?\n/)
    .map((event) =>
      event
        .split(/\r?\n/)
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).replace(/^ /, ''))
        .join('\n'),
    )
    .filter((data) => data !== '');
}
