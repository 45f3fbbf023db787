// The README example, verbatim down to the marker below: `tsc -p tsconfig.test.json` typechecks
// it, and readme.test.ts checks that README.md still shows exactly this and runs it against a
// real MCP server.
import { withOAuth } from '@mcp-oauth/axios';
import axios from 'axios';

const headers = { accept: 'application/json, text/event-stream' }; // what MCP servers ask for
const mcp = withOAuth(axios.create({ baseURL: 'https://mcp.example.com', headers }), {
  serverUrl: 'https://mcp.example.com/mcp',
  client: { clientName: 'My MCP client', redirectUris: ['http://127.0.0.1:33418/callback'] },
  authorizationHandler: ({ authorizationUrl }) => openBrowserAndWaitForRedirect(authorizationUrl),
});

const { data } = await mcp.post('/mcp', { jsonrpc: '2.0', id: 1, method: 'tools/list' });

// ---- end of the README example; what it leaves to the reader:
declare function openBrowserAndWaitForRedirect(url: string): Promise<import('@mcp-oauth/core').CallbackInput>;

export { data };
