// Every ```ts block of README.md, verbatim (readme.test.ts checks they match), so that
// `tsc -p tsconfig.test.json` typechecks the README, and readme.test.ts runs it against the demo
// server. Only the declarations and the export below are extra: the test provides the names.
import type { OAuthSession } from '@mcp-oauth/core';

declare const otherSession: OAuthSession;
declare const clientSecret: string;

import { withOAuth } from '@mcp-oauth/fetch';
import { createLoopbackAuthorizationHandler } from '@mcp-oauth/node';

const loopback = await createLoopbackAuthorizationHandler(); // opens the browser, waits on 127.0.0.1
const authorizedFetch = withOAuth(fetch, {
  serverUrl: 'https://mcp.example.com/mcp',
  client: { clientName: 'My MCP client', redirectUris: [loopback.redirectUri] },
  authorizationHandler: loopback.handler,
});

const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
const response = await authorizedFetch('https://mcp.example.com/mcp', { method: 'POST', headers, body });
const session = authorizedFetch.oauthSession; // for status, sign-out, …

import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const transport = new StreamableHTTPClientTransport(new URL('https://mcp.example.com/mcp'), {
  fetch: withOAuth(fetch, session),
});

import { createEnvironmentProxyFetch } from '@mcp-oauth/node';

const proxiedFetch = createEnvironmentProxyFetch(); // the global fetch when no proxy is named
const authorizedProxiedFetch = withOAuth(proxiedFetch, {
  serverUrl: 'https://mcp.example.com/mcp',
  client: { clientName: 'My MCP client', redirectUris: [loopback.redirectUri] },
  authorizationHandler: loopback.handler,
});

const fetchForBoth = withOAuth(withOAuth(fetch, session), otherSession);

const machineFetch = withOAuth(fetch, {
  serverUrl: 'https://mcp.example.com/mcp',
  grant: { type: 'client_credentials' },
  client: { preRegistered: [{ issuer: 'https://auth.example.com', clientId: 'ci', clientSecret }] },
});

export { authorizedProxiedFetch, fetchForBoth, loopback, machineFetch, response, session, transport };
