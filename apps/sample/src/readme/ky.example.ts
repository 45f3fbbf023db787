// The root README's "Use it in your stack" snippets, verbatim: the shared setup, then the ky one.
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

import { createKyHttpClient, withOAuth } from '@mcp-oauth/ky';
import ky from 'ky';

const app = ky.create({ headers: { accept: 'application/json, text/event-stream' } });
const mcp = withOAuth(app, new OAuthSession({ ...options, httpClient: createKyHttpClient(app) }));

const params = { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'me', version: '1' } };
const response = await mcp.post(serverUrl, { json: { jsonrpc: '2.0', id: 1, method: 'initialize', params } });
const answer = await response.text(); // one JSON message, or an SSE stream: see the ky README

export { answer };
