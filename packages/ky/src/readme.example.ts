// Every ```ts block of README.md, verbatim (readme.test.ts checks they match), so that
// `tsc -p tsconfig.test.json` typechecks the README. Only the declarations below are extra.
declare function openBrowserAndWaitForRedirect(url: string): Promise<string>;
declare const dispatcher: object;
declare const otherSession: OAuthSession;
declare const clientSecret: string;

import { OAuthSession } from '@mcp-oauth/core';
import { createKyHttpClient, withOAuth } from '@mcp-oauth/ky';
import ky from 'ky';

const app = ky.create({ headers: { accept: 'application/json, text/event-stream' }, timeout: 30_000 });
const session = new OAuthSession({
  serverUrl: 'https://mcp.example.com/mcp',
  httpClient: createKyHttpClient(app), // discovery and tokens through app's fetch and timeout
  client: { clientName: 'My MCP client', redirectUris: ['http://127.0.0.1:33418/callback'] },
  authorizationHandler: ({ authorizationUrl }) => openBrowserAndWaitForRedirect(authorizationUrl),
});
const mcp = withOAuth(app, session);

const listed = { jsonrpc: '2.0', id: 1, method: 'tools/list' };
const tools = await mcp.post('https://mcp.example.com/mcp', { json: listed }).json();

const proxied = ky.create({ fetch: (input, init) => fetch(input, { ...init, dispatcher } as RequestInit) });
const proxiedSession = new OAuthSession({
  serverUrl: 'https://mcp.example.com/mcp',
  httpClient: createKyHttpClient(proxied),
  authorizationHandler: ({ authorizationUrl }) => openBrowserAndWaitForRedirect(authorizationUrl),
});
const proxiedMcp = withOAuth(proxied, proxiedSession);

const api = withOAuth(withOAuth(app, session), otherSession);

const machineSession = new OAuthSession({
  serverUrl: 'https://mcp.example.com/mcp',
  httpClient: createKyHttpClient(app),
  grant: { type: 'client_credentials' },
  client: { preRegistered: [{ issuer: 'https://auth.example.com', clientId: 'ci', clientSecret }] },
});

export { api, machineSession, proxiedMcp, tools };
