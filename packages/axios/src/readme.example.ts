// The README example, verbatim down to the marker below: `tsc -p tsconfig.test.json` typechecks
// it, and readme.test.ts checks that README.md still shows exactly this and runs it against a
// real MCP server.
import { withOAuth } from '@mcp-oauth/axios';
import { createLoopbackAuthorizationHandler } from '@mcp-oauth/node';
import axios from 'axios';

const loopback = await createLoopbackAuthorizationHandler(); // opens the browser, waits on 127.0.0.1
const headers = { accept: 'application/json, text/event-stream' }; // what MCP servers ask for
const mcp = withOAuth(axios.create({ baseURL: 'https://mcp.example.com', headers }), {
  serverUrl: 'https://mcp.example.com/mcp',
  client: { clientName: 'My MCP client', redirectUris: [loopback.redirectUri] },
  authorizationHandler: loopback.handler,
});

const { data } = await mcp.post('/mcp', { jsonrpc: '2.0', id: 1, method: 'tools/list' });

// ---- end of the README example
export { data, loopback, mcp };
