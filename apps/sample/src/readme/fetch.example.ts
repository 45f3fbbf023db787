// The root README's "Use it in your stack" snippets, verbatim: the shared setup, then the fetch one.
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

import { createFetchHttpClient, withOAuth } from '@mcp-oauth/fetch';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const session = new OAuthSession({ ...options, httpClient: createFetchHttpClient() });
const transport = new StreamableHTTPClientTransport(new URL(serverUrl), { fetch: withOAuth(fetch, session) });
const client = new Client({ name: 'my-client', version: '1.0.0' });
await client.connect(transport);
const { tools } = await client.listTools();

export { tools };
