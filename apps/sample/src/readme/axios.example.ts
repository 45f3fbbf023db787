// The root README's "Use it in your stack" snippets, verbatim: the shared setup, then the axios one.
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

import { withOAuth } from '@mcp-oauth/axios';
import axios from 'axios';

const app = axios.create({ headers: { accept: 'application/json, text/event-stream' }, timeout: 30_000 });
const mcp = withOAuth(app, options); // the session's own requests go over app's transport too

const { data } = await mcp.post(serverUrl, { jsonrpc: '2.0', id: 1, method: 'tools/list' });

// The session withOAuth built from the options (for signOut, getTokenInfo, …).
const session = mcp.oauthSession;
const built = session instanceof OAuthSession;

export { built, data, loopback, session };
