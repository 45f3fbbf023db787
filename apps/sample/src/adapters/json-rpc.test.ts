import type { OAuthSession } from '@mcp-oauth/core';
import { describe, expect, it } from 'vitest';
import {
  createJsonRpcClient,
  eventData,
  headerValue,
  type JsonRpcMessage,
  type McpHttpResponse,
  readResult,
  STATELESS_PROTOCOL_VERSION,
} from './json-rpc.js';

function response(text: string, contentType = 'application/json', status = 200): McpHttpResponse {
  return { status, text, header: (name) => (name === 'content-type' ? contentType : undefined) };
}

describe('readResult', () => {
  it('reads a JSON body', () => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 3, result: { tools: [] } });
    expect(readResult(response(body), 3, 'tools/list')).toEqual({ tools: [] });
  });

  it('finds the answer to its id in an SSE stream, after notifications and across data lines', () => {
    const stream = [
      'event: message',
      'data: {"jsonrpc":"2.0","method":"notifications/progress","params":{}}',
      '',
      'id: 7',
      'data: {"jsonrpc":"2.0","id":4,',
      'data:  "result":{"ok":true}}',
      '',
      '',
    ].join('\r\n');
    expect(readResult(response(stream, 'text/event-stream'), 4, 'tools/call')).toEqual({ ok: true });
  });

  it('throws the JSON-RPC error, and when nothing answers', () => {
    const error = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      error: { code: -32601, message: 'Method not found' },
    });
    expect(() => readResult(response(error), 1, 'tools/list')).toThrow(
      'MCP tools/list failed: Method not found (-32601)',
    );
    expect(() => readResult(response(''), 1, 'tools/list')).toThrow(
      'MCP tools/list: no response to request 1',
    );
  });
});

it('eventData joins the data lines of each event', () => {
  expect(eventData('data: a\ndata: b\n\n: comment\n\ndata:c\n\n')).toEqual(['a\nb', 'c']);
});

describe('the 2026-07-28 stateless wire', () => {
  const session = {} as OAuthSession;
  const answer = (id: number, result: Record<string, unknown>, status = 200): McpHttpResponse =>
    response(
      JSON.stringify({ jsonrpc: '2.0', id, result: { resultType: 'complete', ...result } }),
      undefined,
      status,
    );

  it('sends no initialize: server/discover, then the version header, Mcp-Method, Mcp-Name and _meta on every request', async () => {
    const sent: Array<{ message: JsonRpcMessage; headers: Record<string, string> }> = [];
    const results = [
      { supportedVersions: ['2026-07-28'] },
      { tools: [{ name: 'echo' }] },
      { content: [{ type: 'text', text: 'hi' }] },
    ];
    const client = createJsonRpcClient(
      session,
      { clientName: 'test', protocolVersion: STATELESS_PROTOCOL_VERSION },
      async (message, headers) => {
        sent.push({ message, headers });
        return answer(message.id ?? 0, results[sent.length - 1] ?? {});
      },
    );
    await client.connect();
    expect(await client.listTools()).toEqual(['echo']);
    expect(await client.callTool('echo', { message: 'hi' })).toBe('hi');
    const meta = {
      'io.modelcontextprotocol/protocolVersion': '2026-07-28',
      'io.modelcontextprotocol/clientInfo': { name: 'test', version: '1.0.0' },
      'io.modelcontextprotocol/clientCapabilities': {},
    };
    expect(sent.map(({ message }) => message)).toEqual([
      { jsonrpc: '2.0', id: 1, method: 'server/discover', params: { _meta: meta } },
      { jsonrpc: '2.0', id: 2, method: 'tools/list', params: { _meta: meta } },
      {
        jsonrpc: '2.0',
        id: 3,
        method: 'tools/call',
        params: { name: 'echo', arguments: { message: 'hi' }, _meta: meta },
      },
    ]);
    const common = { accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2026-07-28' };
    expect(sent.map(({ headers }) => headers)).toEqual([
      { ...common, 'mcp-method': 'server/discover' },
      { ...common, 'mcp-method': 'tools/list' },
      { ...common, 'mcp-method': 'tools/call', 'mcp-name': 'echo' },
    ]);
  });

  it('fails connect, naming what the server speaks, when it does not speak 2026-07-28', async () => {
    const unsupported = (id: number) =>
      response(
        JSON.stringify({
          jsonrpc: '2.0',
          id,
          error: {
            code: -32022,
            message: 'Unsupported protocol version',
            data: { supported: ['2025-11-25'] },
          },
        }),
        undefined,
        400,
      );
    const client = createJsonRpcClient(
      session,
      { clientName: 'test', protocolVersion: '2026-07-28' },
      async (message) => unsupported(message.id ?? 0),
    );
    await expect(client.connect()).rejects.toThrow(
      'the server does not speak MCP 2026-07-28 (it offers: 2025-11-25)',
    );
  });

  it('refuses an input_required result (it declares no capability a server could ask for)', async () => {
    const client = createJsonRpcClient(
      session,
      { clientName: 'test', protocolVersion: '2026-07-28' },
      async (message) => answer(message.id ?? 0, { resultType: 'input_required', requestState: 'x' }),
    );
    await expect(client.listTools()).rejects.toThrow(
      'MCP tools/list: the server answered with a "input_required" result',
    );
  });

  it('reports an HTTP error that carries no JSON-RPC answer', async () => {
    const client = createJsonRpcClient(
      session,
      { clientName: 'test', protocolVersion: '2026-07-28' },
      async () => response('{"error":"insufficient_scope"}', undefined, 403),
    );
    await expect(client.listTools()).rejects.toThrow('MCP tools/list: HTTP 403');
  });
});

it.each([
  ['us-west1', 'us-west1'],
  ['a b', 'a b'],
  ['Hello, 世界', '=?base64?SGVsbG8sIOS4lueVjA==?='],
  [' padded ', '=?base64?IHBhZGRlZCA=?='],
  ['line1\nline2', '=?base64?bGluZTEKbGluZTI=?='],
  ['=?base64?literal?=', '=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?='],
  ['', '=?base64??='],
])('headerValue(%j) is %j (the Streamable HTTP value encoding)', (value, expected) => {
  expect(headerValue(value)).toBe(expected);
});
