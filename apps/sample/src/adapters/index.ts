import { connectWithAxios } from './axios.js';
import { connectWithFetch } from './fetch.js';
import { connectWithGot } from './got.js';
import { connectWithKy } from './ky.js';
import type { ConnectAdapter } from './mcp-client.js';

export type { ConnectAdapter, McpClient } from './mcp-client.js';

/** The adapters in the order the demo runs them, each with the one line that says how it is wired. */
export const ADAPTERS = {
  fetch: {
    connect: connectWithFetch,
    wiring: 'MCP SDK Client + StreamableHTTPClientTransport({ fetch: withOAuth(session) })',
  },
  ky: { connect: connectWithKy, wiring: 'withOAuth(ky.create(), session), JSON-RPC POSTs' },
  axios: { connect: connectWithAxios, wiring: 'withOAuth(axios.create(), session), JSON-RPC POSTs' },
  got: { connect: connectWithGot, wiring: 'withOAuth(got.extend(), session), JSON-RPC POSTs' },
} as const satisfies Record<string, { connect: ConnectAdapter; wiring: string }>;

export type AdapterName = keyof typeof ADAPTERS;

export const ADAPTER_NAMES = Object.keys(ADAPTERS) as AdapterName[];
