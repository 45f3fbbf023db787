/**
 * `pnpm --filter @mcp-oauth/demo-server start`: the demo server on its own, until Ctrl-C.
 */
import { parseCli, USAGE } from './cli.js';
import type { DemoRequestEvent } from './options.js';
import { startDemoServer } from './start.js';

function describeRequest(event: DemoRequestEvent): string {
  const server = event.server === 'mcp' ? 'mcp ' : 'auth';
  return `  ${server}  ${event.method.padEnd(6)} ${event.path.padEnd(52)} ${event.status}`;
}

async function main(): Promise<void> {
  let settings: ReturnType<typeof parseCli>;
  try {
    settings = parseCli(process.argv.slice(2), process.env);
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (settings.help) {
    console.log(USAGE);
    return;
  }
  const demo = await startDemoServer({
    ...settings.options,
    ...(settings.quiet
      ? {}
      : { onRequest: (event: DemoRequestEvent) => console.log(describeRequest(event)) }),
  });
  const { clientId, clientSecret } = demo.confidentialClient;
  console.log(`mcp-oauth demo server

  MCP server (protected resource)   ${demo.mcpUrl}
  Protected resource metadata       ${demo.resourceMetadataUrl}
  Authorization server (issuer)     ${demo.issuer}
  Authorization server metadata     ${demo.authorizationServerMetadataUrl}
  Device verification page          ${demo.issuer}/device

  Access token lifetime             ${demo.accessTokenLifetimeSeconds} s
  Consent                           ${demo.autoApprove ? 'auto-approved' : 'asked in the browser'}
  DPoP                              ${demo.dpop ? 'accepted (ES256)' : 'off'}
  client_credentials client         ${clientId} / ${clientSecret}  (a throwaway local secret)

Point an MCP client at ${demo.mcpUrl}. Ctrl-C stops the server.
`);
  const stop = () => {
    demo.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

await main();
