// The README's MCP SDK v2 `authProvider` blocks, verbatim (readme.test.ts checks they match):
// typechecked by `tsc -p tsconfig.test.json` and run by auth-provider.integration.test.ts against
// a real SDK server. Only the first two statements (the README's `session`, set by the test) and
// the export are extra.
import * as readme from './sdk-readme-session.js';

const { session } = readme;

import { createMcpAuthProvider } from '@mcp-oauth/fetch';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';

const authProvider = createMcpAuthProvider(session);
const client = new Client({ name: 'my-client', version: '1.0.0' });
await client.connect(new StreamableHTTPClientTransport(session.serverUrl, { authProvider }));
const { tools } = await client.listTools();

import { InsufficientScopeError } from '@modelcontextprotocol/client';

const callAdminTool = () => client.callTool({ name: 'admin_echo', arguments: { text: 'hi' } });
const result = await callAdminTool().catch(async (error: unknown) => {
  if (!(error instanceof InsufficientScopeError)) throw error;
  await authProvider.handleInsufficientScope(error); // the session steps up, or throws
  return callAdminTool();
});

export { client, result, tools };
