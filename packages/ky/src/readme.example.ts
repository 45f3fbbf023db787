// Every ```ts block of README.md, verbatim (readme.test.ts checks they match), so that
// `tsc -p tsconfig.test.json` typechecks the README. Only the declarations below are extra.
declare const dispatcher: object;
declare const clientSecret: string;

import { withOAuth } from '@mcp-oauth/ky';
import { createLoopbackAuthorizationHandler } from '@mcp-oauth/node';
import ky from 'ky';

const loopback = await createLoopbackAuthorizationHandler(); // opens the browser, waits on 127.0.0.1
const mcp = withOAuth(ky.create({ headers: { accept: 'application/json, text/event-stream' } }), {
  serverUrl: 'https://mcp.example.com/mcp',
  client: { clientName: 'My MCP client', redirectUris: [loopback.redirectUri] },
  authorizationHandler: loopback.handler,
});

const params = { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'me', version: '1' } };
const initialize = { jsonrpc: '2.0', id: 1, method: 'initialize', params };
const response = await mcp.post('https://mcp.example.com/mcp', { json: initialize });
const [initialized] = await messagesOf(response); // JSON or SSE: see "How do I…?"

async function messagesOf(response: Response): Promise<unknown[]> {
  const text = await response.text();
  if (!response.headers.get('content-type')?.startsWith('text/event-stream')) return [JSON.parse(text)];
  const events = text.split(/\r?\n\r?\n/).map((event) => event.split(/\r?\n/));
  const data = events.map((lines) => lines.filter((line) => line.startsWith('data:')));
  return data
    .filter((lines) => lines.length > 0)
    .map((lines) => JSON.parse(lines.map((line) => line.slice(5)).join('\n')));
}

const negotiated = (initialized as { result: { protocolVersion: string } }).result.protocolVersion;
const sessionId = response.headers.get('mcp-session-id');
const headers = { 'mcp-protocol-version': negotiated, ...(sessionId ? { 'mcp-session-id': sessionId } : {}) };
await mcp.post('https://mcp.example.com/mcp', {
  json: { jsonrpc: '2.0', method: 'notifications/initialized' },
  headers,
});
const listed = await mcp.post('https://mcp.example.com/mcp', {
  json: { jsonrpc: '2.0', id: 2, method: 'tools/list' },
  headers,
});
const [tools] = await messagesOf(listed);

const proxied = ky.create({ fetch: (input, init) => fetch(input, { ...init, dispatcher } as RequestInit) });
const proxiedMcp = withOAuth(proxied, {
  serverUrl: 'https://mcp.example.com/mcp',
  client: { redirectUris: [loopback.redirectUri] },
  authorizationHandler: loopback.handler,
});

const slow = withOAuth(ky.create({ timeout: 120_000 }), {
  serverUrl: 'https://mcp.example.com/mcp',
  client: { redirectUris: [loopback.redirectUri] },
  authorizationHandler: loopback.handler,
});
const fast = withOAuth(ky.create({ timeout: 5_000 }), slow.oauthSession);

const machine = withOAuth(ky, {
  serverUrl: 'https://mcp.example.com/mcp',
  grant: { type: 'client_credentials' },
  client: { preRegistered: [{ issuer: 'https://auth.example.com', clientId: 'ci', clientSecret }] },
});

export { fast, machine, proxiedMcp, tools };
