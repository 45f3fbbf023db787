/**
 * Command-line flags and environment variables of the standalone server. Flags win over the
 * environment; anything malformed is an error, not a silent default.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_ACCESS_TOKEN_LIFETIME_SECONDS, type DemoServerOptions } from './options.js';

export const USAGE = `Usage: pnpm --filter @mcp-oauth/demo-server start [options]

  --as-port <port>          authorization server port on 127.0.0.1     env DEMO_AS_PORT     (default: any free port)
  --mcp-port <port>         MCP server port on 127.0.0.1               env DEMO_MCP_PORT    (default: any free port)
  --token-lifetime <secs>   access token lifetime in seconds           env DEMO_TOKEN_LIFETIME (default: ${DEFAULT_ACCESS_TOKEN_LIFETIME_SECONDS})
  --auto-approve            grant every request without the consent page  env DEMO_AUTO_APPROVE=1
  --no-dpop                 no DPoP at either server                   env DEMO_DPOP=0
  --client-secret <secret>  secret of the client_credentials client "demo-service"  env DEMO_CLIENT_SECRET
  --quiet                   do not print one line per request
  --help                    print this text`;

export interface CliSettings {
  readonly options: DemoServerOptions;
  readonly quiet: boolean;
  readonly help: boolean;
}

function integer(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^\d+$/.test(value)) throw new Error(`${name} must be a whole number`);
  return Number(value);
}

function flag(value: string | undefined, name: string): boolean | undefined {
  if (value === undefined || value === '') return undefined;
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw new Error(`${name} must be 1 or 0`);
}

export function parseCli(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): CliSettings {
  const { values } = parseArgs({
    // `pnpm start -- --flag` passes the `--` on.
    args: args[0] === '--' ? args.slice(1) : [...args],
    strict: true,
    allowPositionals: false,
    options: {
      'as-port': { type: 'string' },
      'mcp-port': { type: 'string' },
      'token-lifetime': { type: 'string' },
      'auto-approve': { type: 'boolean' },
      'no-dpop': { type: 'boolean' },
      'client-secret': { type: 'string' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  const authorizationServerPort = integer(values['as-port'] ?? env.DEMO_AS_PORT, '--as-port');
  const mcpPort = integer(values['mcp-port'] ?? env.DEMO_MCP_PORT, '--mcp-port');
  const accessTokenLifetimeSeconds = integer(
    values['token-lifetime'] ?? env.DEMO_TOKEN_LIFETIME,
    '--token-lifetime',
  );
  const autoApprove = values['auto-approve'] ?? flag(env.DEMO_AUTO_APPROVE, 'DEMO_AUTO_APPROVE');
  const dpop = values['no-dpop'] === true ? false : flag(env.DEMO_DPOP, 'DEMO_DPOP');
  const clientSecret = values['client-secret'] ?? env.DEMO_CLIENT_SECRET;
  const options: DemoServerOptions = {
    ...(authorizationServerPort === undefined ? {} : { authorizationServerPort }),
    ...(mcpPort === undefined ? {} : { mcpPort }),
    ...(accessTokenLifetimeSeconds === undefined ? {} : { accessTokenLifetimeSeconds }),
    ...(autoApprove === undefined ? {} : { autoApprove }),
    ...(dpop === undefined ? {} : { dpop }),
    ...(clientSecret === undefined || clientSecret === ''
      ? {}
      : { confidentialClient: { clientId: 'demo-service', clientSecret } }),
  };
  return { options, quiet: values.quiet === true, help: values.help === true };
}
