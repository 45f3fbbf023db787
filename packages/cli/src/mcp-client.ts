/**
 * An MCP client session over Streamable HTTP with the CLI's OAuth fetch, for `tools` and `call`:
 * the official SDK's `Client` and transport, so the protocol (initialize, versions, JSON or SSE
 * responses, `Mcp-Session-Id`) is the SDK's, and authorization is ours.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { oauthFetch } from './oauth-fetch.js';
import type { LoginMethod } from './servers.js';
import { findServer } from './servers.js';
import { type CliContext, type Interaction, openSession, VERSION } from './session.js';

export interface ConnectedClient {
  readonly client: Client;
  close(): Promise<void>;
}

/** The grant a command uses for `serverUrl`: `--device`, else how the user signed in, else the browser. */
export async function methodFor(directory: string, serverUrl: string, device: boolean): Promise<LoginMethod> {
  if (device) return 'device';
  return (await findServer(directory, serverUrl))?.method ?? 'browser';
}

export async function connectClient(
  context: CliContext,
  serverUrl: string,
  method: LoginMethod,
  interaction: Interaction = 'interactive',
): Promise<ConnectedClient> {
  const opened = await openSession(context, serverUrl, method, interaction);
  const transport = new StreamableHTTPClientTransport(new URL(serverUrl), {
    fetch: oauthFetch(opened.session, context.log),
  });
  const client = new Client({ name: 'mcp-oauth', version: VERSION });
  try {
    await client.connect(transport);
  } catch (error) {
    await opened.close();
    throw error;
  }
  return {
    client,
    async close() {
      // End the server's session (stateful servers), then the transport; failures change nothing.
      await transport.terminateSession().catch(() => {});
      await client.close().catch(() => {});
      await opened.close();
    },
  };
}
