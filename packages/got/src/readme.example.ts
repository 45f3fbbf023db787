// Every ```ts block of README.md, verbatim (readme.test.ts checks they match), so that
// `tsc -p tsconfig.test.json` typechecks the README, and readme.test.ts runs it against real MCP
// servers. Only the declarations and the export below are extra: the test provides the names.
import type { OAuthSession } from '@mcp-oauth/core';

declare const proxyAgent: import('node:https').Agent;
declare const clientSecret: string;
declare const githubSession: OAuthSession;
declare const linearSession: OAuthSession;

import { withOAuth } from '@mcp-oauth/got';
import { createLoopbackAuthorizationHandler } from '@mcp-oauth/node';
import got from 'got';

const serverUrl = 'https://mcp.example.com/mcp';
const loopback = await createLoopbackAuthorizationHandler(); // opens the browser, waits on 127.0.0.1
const mcp = withOAuth(got.extend({ headers: { accept: 'application/json, text/event-stream' } }), {
  serverUrl,
  client: { clientName: 'My MCP client', redirectUris: [loopback.redirectUri] },
  authorizationHandler: loopback.handler,
});

const clientInfo = { name: 'my-client', version: '1.0.0' };
const init = await rpc('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo });
const headers = { ...init.headers, 'mcp-protocol-version': init.result.protocolVersion };
await mcp.post(serverUrl, { headers, json: { jsonrpc: '2.0', method: 'notifications/initialized' } });
const { tools } = (await rpc('tools/list', {}, headers)).result;

async function rpc(method: string, params: object, headers: Record<string, string> = {}) {
  const response = await mcp.post(serverUrl, { headers, json: { jsonrpc: '2.0', id: 1, method, params } });
  // An event stream carries each JSON-RPC message in a `data:` field.
  const sse = String(response.headers['content-type']).startsWith('text/event-stream');
  const texts = sse
    ? [...response.body.matchAll(/^data: ?(\S.*)$/gm)].map((match) => match[1]!)
    : [response.body];
  const message = texts.map((text) => JSON.parse(text)).find((each) => each.id === 1);
  if (message?.result === undefined) throw new Error(`MCP ${method} failed: ${message?.error?.message}`);
  const sessionId = response.headers['mcp-session-id'];
  const next = typeof sessionId === 'string' ? { ...headers, 'mcp-session-id': sessionId } : headers;
  return { result: message.result, headers: next };
}

const proxied = withOAuth(got.extend({ agent: { https: proxyAgent } }), {
  serverUrl: 'https://mcp.example.com/mcp',
  client: { clientName: 'My MCP client', redirectUris: [loopback.redirectUri] },
  authorizationHandler: loopback.handler,
});

const [github, linear] = [githubSession, linearSession].map((session) => withOAuth(got, session));

const machine = withOAuth(got, {
  serverUrl: 'https://mcp.example.com/mcp',
  grant: { type: 'client_credentials' },
  client: { preRegistered: [{ issuer: 'https://auth.example.com', clientId: 'ci', clientSecret }] },
});

export { github, linear, loopback, machine, proxied, tools };
