// The README example, verbatim down to the marker below: `tsc -p tsconfig.test.json` typechecks
// it and readme.test.ts checks that README.md still shows exactly this.
import { createAxiosHttpClient, installOAuth } from '@mcp-oauth/axios';
import { OAuthSession } from '@mcp-oauth/core';
import axios from 'axios';

const mcp = axios.create({ baseURL: 'https://mcp.example.com', timeout: 30_000 });
const session = new OAuthSession({
  serverUrl: 'https://mcp.example.com/mcp',
  httpClient: createAxiosHttpClient(mcp), // discovery and tokens over mcp's proxy, agents, timeout
  client: { clientName: 'My MCP client', redirectUris: ['http://127.0.0.1:33418/callback'] },
  authorizationHandler: ({ authorizationUrl }) => openBrowserAndWaitForRedirect(authorizationUrl),
});
installOAuth(mcp, session); // before your own interceptors

const { data } = await mcp.post('/mcp', { jsonrpc: '2.0', id: 1, method: 'tools/list' });

// ---- end of the README example; what it leaves to the reader:
declare function openBrowserAndWaitForRedirect(url: string): Promise<import('@mcp-oauth/core').CallbackInput>;

export { data, session };
