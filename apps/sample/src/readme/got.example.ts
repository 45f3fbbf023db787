// The root README's "Use it in your stack" snippets, verbatim: the shared setup, then the got one.
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

import { withOAuth } from '@mcp-oauth/got';
import got from 'got';

const mcp = withOAuth(got.extend({ headers: { accept: 'application/json, text/event-stream' } }), options);

const params = { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'me', version: '1' } };
// The answer is JSON, or an SSE stream: packages/got/README.md reads both.
const { body } = await mcp.post(serverUrl, { json: { jsonrpc: '2.0', id: 1, method: 'initialize', params } });

// The shared setup imports OAuthSession for the snippets that build one; this one passes options.
export { body, loopback, OAuthSession };
