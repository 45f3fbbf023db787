/**
 * MCP over Streamable HTTP as plain JSON-RPC POSTs, for the libraries that are not a `fetch`
 * (ky, axios, got): each adapter module supplies `post`, this file knows the messages. Enough of
 * the protocol for the demo, on either wire:
 *
 * - the `initialize` handshake (protocol revisions up to 2025-11-25, the default): `initialize`
 *   (keeping `Mcp-Session-Id` when a server is stateful), `notifications/initialized`, then
 *   `tools/list` and `tools/call` with the negotiated `MCP-Protocol-Version`;
 * - the 2026-07-28 stateless wire (`protocolVersion: '2026-07-28'`): no handshake; every request
 *   carries the `MCP-Protocol-Version` and `Mcp-Method` headers (`Mcp-Name` for `tools/call`) and
 *   `params._meta` with the protocol version, the client's identity and its capabilities;
 *   `connect` asks `server/discover` whether the server speaks that revision.
 *
 * Answers are read as JSON or as an SSE stream.
 */
import type { OAuthSession } from '@mcp-oauth/core';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { type McpClient, toolText } from './mcp-client.js';

/** The revision of the stateless wire (SEP-2575): no `initialize`, metadata on every request. */
export const STATELESS_PROTOCOL_VERSION = '2026-07-28';
const STATELESS_VERSIONS = new Set([STATELESS_PROTOCOL_VERSION]);
const META = {
  protocolVersion: 'io.modelcontextprotocol/protocolVersion',
  clientInfo: 'io.modelcontextprotocol/clientInfo',
  clientCapabilities: 'io.modelcontextprotocol/clientCapabilities',
} as const;
/** JSON-RPC error: the server does not speak the requested revision (`data.supported` lists its own). */
const UNSUPPORTED_PROTOCOL_VERSION = -32022;

export interface JsonRpcMessage {
  readonly jsonrpc: '2.0';
  readonly id?: number;
  readonly method: string;
  readonly params?: Record<string, unknown>;
}

/** The response to one POST: its status, its body as text and a way to read a header. */
export interface McpHttpResponse {
  readonly status: number;
  readonly text: string;
  header(name: string): string | undefined;
}

/**
 * Sends one message with these headers (the library adds `content-type: application/json`) and
 * resolves with the response whatever its status: a JSON-RPC error comes with a 4xx on the
 * stateless wire (an unsupported revision is a 400 naming the ones the server speaks).
 */
export type PostMessage = (
  message: JsonRpcMessage,
  headers: Record<string, string>,
) => Promise<McpHttpResponse>;

export interface JsonRpcClientOptions {
  readonly clientName: string;
  /** `2026-07-28` for the stateless wire; default: the `initialize` handshake at the SDK's latest revision. */
  readonly protocolVersion?: string | undefined;
}

/** A JSON-RPC error answer, with its code and data (an HTTP 4xx may carry one). */
export class JsonRpcError extends Error {
  constructor(
    readonly method: string,
    readonly code: unknown,
    message: string,
    readonly data: unknown,
  ) {
    super(`MCP ${method} failed: ${message} (${String(code)})`);
    this.name = 'JsonRpcError';
  }
}

export function createJsonRpcClient(
  session: OAuthSession,
  options: JsonRpcClientOptions,
  post: PostMessage,
): McpClient {
  const version = options.protocolVersion;
  return version !== undefined && STATELESS_VERSIONS.has(version)
    ? statelessClient(session, options.clientName, version, post)
    : handshakeClient(session, options.clientName, post);
}

/** Protocol revisions up to 2025-11-25: `initialize`, then requests under the negotiated version. */
function handshakeClient(session: OAuthSession, clientName: string, post: PostMessage): McpClient {
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
    listTools: async () => toolNames((await request('tools/list')).result),
    async callTool(name, args = {}) {
      const { result } = await request('tools/call', { name, arguments: args });
      return toolText(name, result);
    },
    async close() {},
  };
}

/**
 * The 2026-07-28 wire: each request stands alone. The client declares no capabilities, so a
 * server may not ask it for input (an `input_required` result is an error here).
 */
function statelessClient(
  session: OAuthSession,
  clientName: string,
  protocolVersion: string,
  post: PostMessage,
): McpClient {
  let nextId = 1;
  const request = async (method: string, params: Record<string, unknown> = {}, name?: string) => {
    const id = nextId++;
    const meta = {
      [META.protocolVersion]: protocolVersion,
      [META.clientInfo]: { name: clientName, version: '1.0.0' },
      [META.clientCapabilities]: {},
    };
    const headers: Record<string, string> = {
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': protocolVersion,
      'mcp-method': method,
      ...(name === undefined ? {} : { 'mcp-name': headerValue(name) }),
    };
    const response = await post({ jsonrpc: '2.0', id, method, params: { ...params, _meta: meta } }, headers);
    const result = readResult(response, id, method);
    const resultType = result.resultType ?? 'complete';
    if (resultType !== 'complete') {
      throw new Error(`MCP ${method}: the server answered with a "${String(resultType)}" result`);
    }
    return result;
  };

  return {
    session,
    async connect() {
      let supported: unknown;
      try {
        ({ supportedVersions: supported } = await request('server/discover'));
      } catch (error) {
        if (!(error instanceof JsonRpcError) || error.code !== UNSUPPORTED_PROTOCOL_VERSION) throw error;
        supported = (error.data as { supported?: unknown } | undefined)?.supported;
      }
      if (!Array.isArray(supported) || !supported.includes(protocolVersion)) {
        const offered = Array.isArray(supported) ? supported.join(', ') : 'none named';
        throw new Error(`the server does not speak MCP ${protocolVersion} (it offers: ${offered})`);
      }
    },
    listTools: async () => toolNames(await request('tools/list')),
    async callTool(name, args = {}) {
      return toolText(name, await request('tools/call', { name, arguments: args }, name));
    },
    async close() {},
  };
}

function toolNames(result: Record<string, unknown>): string[] {
  const tools = Array.isArray(result.tools) ? (result.tools as Array<{ name?: unknown }>) : [];
  return tools.map((tool) => String(tool.name));
}

/**
 * A value as an HTTP header: as is when it is visible ASCII without surrounding whitespace, else in
 * the `=?base64?…?=` form of the Streamable HTTP transport (also for a value that looks like it).
 */
export function headerValue(value: string): string {
  const plain = /^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/.test(value);
  const sentinel = value.startsWith('=?base64?') && value.endsWith('?=');
  return plain && !sentinel ? value : `=?base64?${Buffer.from(value, 'utf8').toString('base64')}?=`;
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
      const { code, message: text, data } = error as { code?: unknown; message?: unknown; data?: unknown };
      throw new JsonRpcError(method, code, String(text), data);
    }
    if (typeof result === 'object' && result !== null) return result as Record<string, unknown>;
  }
  if (response.status >= 400) throw new Error(`MCP ${method}: HTTP ${response.status}`);
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
