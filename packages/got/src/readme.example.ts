// Every ```ts block of README.md, verbatim (readme.test.ts checks they match), so that
// `tsc -p tsconfig.test.json` typechecks the README. Only the declarations below are extra.
declare function openBrowserAndWaitForRedirect(url: string): Promise<string>;
declare const proxyAgent: import('node:https').Agent;
declare const otherSession: OAuthSession;
declare const clientSecret: string;

import { OAuthSession } from '@mcp-oauth/core';
import { createGotHttpClient, withOAuth } from '@mcp-oauth/got';
import got from 'got';

const session = new OAuthSession({
  serverUrl: 'https://mcp.example.com/mcp',
  httpClient: createGotHttpClient(got),
  client: { clientName: 'My MCP client', redirectUris: ['http://127.0.0.1:33418/callback'] },
  authorizationHandler: ({ authorizationUrl }) => openBrowserAndWaitForRedirect(authorizationUrl),
});
const mcp = withOAuth(got.extend({ headers: { accept: 'application/json, text/event-stream' } }), session);

const body = { jsonrpc: '2.0', id: 1, method: 'tools/list' };
const tools = await mcp.post('https://mcp.example.com/mcp', { json: body }).json();

const proxied = got.extend({ agent: { https: proxyAgent } });
const proxiedSession = new OAuthSession({
  serverUrl: 'https://mcp.example.com/mcp',
  httpClient: createGotHttpClient(proxied),
  authorizationHandler: ({ authorizationUrl }) => openBrowserAndWaitForRedirect(authorizationUrl),
});
const proxiedMcp = withOAuth(proxied, proxiedSession);

const forBoth = withOAuth(withOAuth(got, session), otherSession);

const machineSession = new OAuthSession({
  serverUrl: 'https://mcp.example.com/mcp',
  httpClient: createGotHttpClient(got),
  grant: { type: 'client_credentials' },
  client: { preRegistered: [{ issuer: 'https://auth.example.com', clientId: 'ci', clientSecret }] },
});

export { forBoth, machineSession, proxiedMcp, tools };
