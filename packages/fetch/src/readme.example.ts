// Every ```ts block of README.md, verbatim (readme.test.ts checks they match), so that
// `tsc -p tsconfig.test.json` typechecks the README. Only the declarations below are extra.
declare const dispatcher: object;
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

const response = await authorizedFetch('https://mcp.example.com/mcp', {
  method: 'POST',
  headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
  body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
});
const session = authorizedFetch.oauthSession; // for status, sign-out, …

import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const transport = new StreamableHTTPClientTransport(new URL('https://mcp.example.com/mcp'), {
  fetch: withOAuth(fetch, session),
});

import { OAuthSession } from '@mcp-oauth/core';
import { createFetchHttpClient } from '@mcp-oauth/fetch';

const proxiedFetch: typeof fetch = (input, init) => fetch(input, { ...init, dispatcher } as RequestInit);
const proxiedSession = new OAuthSession({
  serverUrl: 'https://mcp.example.com/mcp',
  httpClient: createFetchHttpClient(proxiedFetch),
  authorizationHandler: loopback.handler,
});
const authorizedProxiedFetch = withOAuth(proxiedFetch, proxiedSession);

const fetchForBoth = withOAuth(withOAuth(fetch, session), otherSession);

const machineSession = new OAuthSession({
  serverUrl: 'https://mcp.example.com/mcp',
  httpClient: createFetchHttpClient(),
  grant: { type: 'client_credentials' },
  client: { preRegistered: [{ issuer: 'https://auth.example.com', clientId: 'ci', clientSecret }] },
});

export { authorizedProxiedFetch, fetchForBoth, machineSession, response, transport };
