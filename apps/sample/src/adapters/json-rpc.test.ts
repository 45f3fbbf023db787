import { describe, expect, it } from 'vitest';
import { eventData, type McpHttpResponse, readResult } from './json-rpc.js';

function response(text: string, contentType = 'application/json'): McpHttpResponse {
  return { text, header: (name) => (name === 'content-type' ? contentType : undefined) };
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
