/**
 * The stdio ↔ Streamable HTTP bridge: an MCP host that only spawns stdio servers (a desktop
 * client, the Inspector) talks JSON-RPC lines to this process, and each message goes to the
 * remote server through the OAuth fetch; what the server sends back (JSON or SSE, on the POST or
 * on its GET stream) goes to stdout.
 *
 * Both ends are the official MCP SDK's transports: `StdioServerTransport` frames and validates
 * the lines, `StreamableHTTPClientTransport` speaks the HTTP side (`Mcp-Session-Id`, the
 * protocol version header, SSE parsing and resumption, the optional GET stream). The bridge adds
 * three things: the protocol version it reads from the `initialize` result, a JSON-RPC error for a
 * request the server could not be asked (so the host never waits forever), and a clean shutdown
 * when stdin ends. stdout carries protocol messages only; everything else goes to stderr.
 */
import { isOAuthClientError } from '@mcp-oauth/core';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { DebugLog } from './log.js';

/** JSON-RPC "server error" (the implementation-defined range) for a request the bridge could not forward. */
export const BRIDGE_ERROR_CODE = -32000;

export interface ProxyOptions {
  readonly serverUrl: string;
  /** The OAuth fetch every request to the server goes through. */
  readonly fetch: typeof fetch;
  readonly stdin: NodeJS.ReadableStream;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly log: DebugLog;
  /** Stops the bridge (Ctrl-C, SIGTERM). */
  readonly signal: AbortSignal;
}

type RequestId = string | number;

function requestId(message: JSONRPCMessage): RequestId | undefined {
  const candidate = message as { id?: unknown; method?: unknown };
  if (typeof candidate.method !== 'string') return undefined;
  return typeof candidate.id === 'string' || typeof candidate.id === 'number' ? candidate.id : undefined;
}

function methodOf(message: JSONRPCMessage): string | undefined {
  const method = (message as { method?: unknown }).method;
  return typeof method === 'string' ? method : undefined;
}

/** A message for the host: the engine's message and code, or the HTTP status the transport saw. */
function bridgeErrorMessage(error: unknown): { message: string; data: Record<string, unknown> } {
  if (isOAuthClientError(error)) {
    return { message: `mcp-oauth: ${error.message}`, data: { code: error.code } };
  }
  const status = (error as { code?: unknown } | null)?.code;
  if (typeof status === 'number' && status >= 100 && status < 600) {
    return { message: `mcp-oauth: the MCP server answered HTTP ${status}`, data: { status } };
  }
  return { message: 'mcp-oauth: the request could not be sent to the MCP server', data: {} };
}

/** Runs the bridge until stdin ends or `signal` aborts. Resolves with the exit code. */
export async function runProxy(options: ProxyOptions): Promise<number> {
  const { log } = options;
  const remote = new StreamableHTTPClientTransport(new URL(options.serverUrl), { fetch: options.fetch });
  const local = new StdioServerTransport(
    options.stdin as ConstructorParameters<typeof StdioServerTransport>[0],
    options.stdout as ConstructorParameters<typeof StdioServerTransport>[1],
  );
  const initializeIds = new Set<RequestId>();
  let closing = false;

  const toHost = (message: JSONRPCMessage) => {
    if (closing) return;
    local.send(message).catch(() => {});
  };

  remote.onmessage = (message) => {
    const id = (message as { id?: unknown }).id;
    const result = (message as { result?: { protocolVersion?: unknown } }).result;
    if ((typeof id === 'string' || typeof id === 'number') && initializeIds.delete(id)) {
      if (typeof result?.protocolVersion === 'string') remote.setProtocolVersion(result.protocolVersion);
    }
    log.write('debug', 'proxy.to_host', {
      method: methodOf(message),
      id: typeof id === 'object' ? undefined : id,
    });
    toHost(message);
  };
  remote.onerror = (error) => {
    // The GET stream and resumption report here; a failed POST also rejects its send (below).
    log.write('warn', 'proxy.remote_error', { error: bridgeErrorMessage(error).message });
  };

  local.onmessage = (message) => {
    const id = requestId(message);
    const method = methodOf(message);
    if (method === 'initialize' && id !== undefined) initializeIds.add(id);
    log.write('debug', 'proxy.to_server', { method, id });
    remote.send(message).catch((error: unknown) => {
      const { message: text, data } = bridgeErrorMessage(error);
      options.stderr.write(`${text}${isOAuthClientError(error) ? ` (${error.code})` : ''}\n`);
      if (id === undefined) return;
      initializeIds.delete(id);
      toHost({
        jsonrpc: '2.0',
        id,
        error: { code: BRIDGE_ERROR_CODE, message: text, data },
      } as JSONRPCMessage);
    });
  };
  local.onerror = (error) => {
    options.stderr.write(`mcp-oauth: ignored a line on stdin that is not a JSON-RPC message\n`);
    log.write('warn', 'proxy.bad_line', { error: error.name });
  };

  await remote.start();
  await local.start();
  log.write('debug', 'proxy.started', { server: options.serverUrl });

  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    options.stdin.once('end', stop);
    options.stdin.once('close', stop);
    if (options.signal.aborted) stop();
    options.signal.addEventListener('abort', stop, { once: true });
  });

  closing = true;
  log.write('debug', 'proxy.stopping', {});
  // A stateful server's session ends with the bridge; a server without sessions answers 405.
  if (remote.sessionId !== undefined) await remote.terminateSession().catch(() => {});
  await remote.close().catch(() => {});
  await local.close().catch(() => {});
  return 0;
}
