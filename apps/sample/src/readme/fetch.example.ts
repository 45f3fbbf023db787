// The root README's "Use it in your stack" snippets, verbatim: the shared setup, then the fetch one.
// Typechecked with the sample; readme.test.ts keeps them equal to the README and runs them.
import { OAuthSession } from '@mcp-oauth/core';
import { createLoopbackAuthorizationHandler } from '@mcp-oauth/node';

const serverUrl = 'https://mcp.example.com/mcp';
const loopback = await createLoopbackAuthorizationHandler(); // opens the browser, waits on 127.0.0.1
const options = {
  serverUrl,
  client: { clientName: 'My MCP client', redirectUris: [loopback.redirectUri] },
  authorizationHandler: loopback.handler,
};

import { withOAuth } from '@mcp-oauth/fetch';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const transport = new StreamableHTTPClientTransport(new URL(serverUrl), { fetch: withOAuth(fetch, options) });
const client = new Client({ name: 'my-client', version: '1.0.0' });
await client.connect(transport);
const { tools } = await client.listTools();

// The shared setup imports OAuthSession for the snippets that build one; this one passes options.
export { client, loopback, OAuthSession, tools };
