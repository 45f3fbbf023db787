// The root README's "Use it in your stack" snippets, verbatim: the shared setup, then the got one.
// Typechecked with the sample (never run); readme.test.ts keeps them equal to the README.
import { OAuthSession } from '@mcp-oauth/core';
import { createLoopbackAuthorizationHandler } from '@mcp-oauth/node';

const serverUrl = 'https://mcp.example.com/mcp';
const loopback = await createLoopbackAuthorizationHandler(); // opens the browser, waits on 127.0.0.1
const options = {
  serverUrl,
  client: { clientName: 'My MCP client', redirectUris: [loopback.redirectUri] },
  authorizationHandler: loopback.handler,
};

import { createGotHttpClient, withOAuth } from '@mcp-oauth/got';
import got from 'got';

const app = got.extend({ headers: { accept: 'application/json, text/event-stream' } });
const session = new OAuthSession({ ...options, httpClient: createGotHttpClient(app) });
const mcp = withOAuth(app, session);

const body = { jsonrpc: '2.0', id: 1, method: 'tools/list' };
const tools = await mcp.post(serverUrl, { json: body }).json();

export { tools };
