/** The command line of `pnpm demo`. */
import { parseArgs } from 'node:util';
import { ADAPTER_NAMES, type AdapterName } from './adapters/index.js';
import type { DemoOptions } from './demo.js';

export const USAGE = `Usage: pnpm demo [-- options]

  (no option)            the embedded demo server, consent auto-approved, every adapter
  --browser              authorize in the browser: the consent page waits for you
  --server <url>         any MCP server instead (browser authorization, credentials in files)
  --adapter <name>       only this adapter (fetch, ky, axios, got); may be repeated
  --token-lifetime <s>   access-token lifetime at the demo server (default 5)
  --callback-port <n>    loopback callback port (default: any; 33418 with --server)
  --store <dir>          with --server: where credentials are kept (default ~/.config/mcp-oauth)
  --sign-out             with --server: sign out and revoke at the end
  --dpop                 DPoP-bound tokens when the authorization server offers them
  --help                 this text`;

export type CliResult =
  | { readonly help: true }
  | { readonly help: false; readonly options: Omit<DemoOptions, 'print'> };

/** Parses `argv` (without node and the script); throws a `TypeError` with a one-line message. */
export function parseCommandLine(argv: readonly string[]): CliResult {
  // `pnpm demo -- --browser` passes the `--` through.
  const args = argv[0] === '--' ? argv.slice(1) : [...argv];
  const { values } = parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      browser: { type: 'boolean', default: false },
      server: { type: 'string' },
      adapter: { type: 'string', multiple: true },
      'token-lifetime': { type: 'string', default: '5' },
      'callback-port': { type: 'string' },
      store: { type: 'string' },
      'sign-out': { type: 'boolean', default: false },
      dpop: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return { help: true };
  const adapters = values.adapter ?? ADAPTER_NAMES;
  for (const adapter of adapters) {
    if (!(ADAPTER_NAMES as string[]).includes(adapter)) {
      throw new TypeError(`unknown adapter "${adapter}" (choose from ${ADAPTER_NAMES.join(', ')})`);
    }
  }
  const server = values.server;
  if (server !== undefined && !URL.canParse(server)) throw new TypeError('--server needs an absolute URL');
  const tokenLifetimeSeconds = integer(values['token-lifetime'], '--token-lifetime', 1);
  const callbackPort =
    values['callback-port'] === undefined
      ? server === undefined
        ? 0
        : 33418
      : integer(values['callback-port'], '--callback-port', 0);
  return {
    help: false,
    options: {
      adapters: adapters as AdapterName[],
      ...(server === undefined ? {} : { serverUrl: server }),
      browser: values.browser || server !== undefined,
      tokenLifetimeSeconds,
      callbackPort,
      ...(values.store === undefined ? {} : { storeDirectory: values.store }),
      signOut: values['sign-out'],
      dpop: values.dpop,
    },
  };
}

function integer(value: string, flag: string, minimum: number): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < minimum || number > 65_535) {
    throw new TypeError(`${flag} needs a whole number from ${minimum}`);
  }
  return number;
}
