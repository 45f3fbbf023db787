/**
 * One process of a fleet: it builds an `OAuthSession` over the shared store (Redis or the file
 * store), reports `ready`, waits for `go`, then sends `calls` MCP requests at once through
 * `@mcp-oauth/fetch`'s `withOAuth` and reports how they ended.
 *
 * The harness bundles this file, this package's source and its dependencies into one script with
 * esbuild, so each of the many short-lived processes starts quickly and runs the code under test.
 */
import { Agent, request as httpRequest } from 'node:http';
import { isOAuthClientError, type OAuthHttpClient, OAuthSession } from '@mcp-oauth/core';
import { createFetchHttpClient, withOAuth } from '@mcp-oauth/fetch';
import { createFileStores } from '@mcp-oauth/node';
// node-redis without its modules (JSON, search…): the same client.
import { createClient } from '@redis/client';
import { createRedisStores } from '../index.js';
import {
  FLEET_CLIENT,
  type FromWorker,
  type ToWorker,
  type WorkerConfig,
  type WorkerResult,
} from './fleet-protocol.js';

/** The one adapter call: if the adapter's signature changes, only this line does. */
function authorizedFetch(session: OAuthSession, transport: typeof fetch): typeof fetch {
  return withOAuth(transport, session);
}

/**
 * The MCP calls' transport: HTTP/1.1 over a keep-alive pool of at most 32 connections, as an
 * HTTP client keeps. Without a bound, 8 × 250 simultaneous connects measure the test server's
 * accept queue (connections reset under load), not the client; every call is still in flight
 * through the session at once, only the sending below it queues. node:http rather than the global
 * fetch: each process makes its calls cold, and undici's fetch costs several times the CPU per call.
 */
function pooledTransport(): typeof fetch {
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  return (input, init = {}) =>
    new Promise<Response>((resolve, reject) => {
      const headers: Record<string, string> = {};
      new Headers(init.headers).forEach((value, name) => {
        headers[name] = value;
      });
      const sent = httpRequest(
        String(input),
        { method: init.method ?? 'GET', headers, agent, ...(init.signal ? { signal: init.signal } : {}) },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.once('error', reject);
          response.once('end', () => {
            const status = response.statusCode ?? 0;
            const received = new Headers();
            for (let index = 0; index + 1 < response.rawHeaders.length; index += 2) {
              received.append(response.rawHeaders[index]!, response.rawHeaders[index + 1]!);
            }
            const empty = status === 204 || status === 304;
            resolve(new Response(empty ? null : Buffer.concat(chunks), { status, headers: received }));
          });
        },
      );
      sent.once('error', reject);
      sent.end(typeof init.body === 'string' ? init.body : undefined);
    });
}

/**
 * Sends `message` to the harness; resolves once it is written (a channel disconnected with a write
 * pending drops it, and the harness then sees a worker that exited without a result).
 */
function send(message: FromWorker): Promise<void> {
  return new Promise((resolve) => process.send?.(message, () => resolve()) ?? resolve());
}

let nextId = 0;
const replies = new Map<number, (message: ToWorker) => void>();

/** Sends `message` (given a fresh id) and waits for the harness's answer to it. */
function ask(message: (id: number) => FromWorker): Promise<ToWorker> {
  const id = ++nextId;
  return new Promise((resolve) => {
    replies.set(id, (reply) => {
      replies.delete(id);
      resolve(reply);
    });
    send(message(id));
  });
}

/** The engine's HTTP client, telling the harness about each refresh grant when asked to. */
function reportingRefreshes(inner: OAuthHttpClient, enabled: boolean): OAuthHttpClient {
  if (!enabled) return inner;
  return {
    async send(request) {
      const refresh = typeof request.body === 'string' && request.body.includes('grant_type=refresh_token');
      if (!refresh) return inner.send(request);
      await ask((id) => ({ type: 'refresh', id, phase: 'before' }));
      const response = await inner.send(request);
      await ask((id) => ({ type: 'refresh', id, phase: 'after', status: response.status }));
      return response;
    },
  };
}

function count(table: Record<string, number>, name: string): void {
  table[name] = (table[name] ?? 0) + 1;
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '{}') as WorkerConfig;
  let go: () => void = () => {};
  const started = new Promise<void>((resolve) => {
    go = resolve;
  });
  process.on('message', (message: ToWorker) => {
    if (message.type === 'go') go();
    else replies.get(message.id)?.(message);
  });

  const redis =
    config.store.type === 'redis'
      ? await createClient({ url: config.store.url })
          .on('error', () => {
            // Reconnection is automatic; the stores bound and report what fails meanwhile.
          })
          .connect()
      : undefined;
  const stores =
    config.store.type === 'redis'
      ? createRedisStores({ client: redis!, prefix: config.store.prefix, leaseMs: config.store.leaseMs })
      : createFileStores({ directory: config.store.directory });

  const events: Record<string, number> = {};
  const session = new OAuthSession({
    serverUrl: config.serverUrl,
    httpClient: reportingRefreshes(createFetchHttpClient(), config.reportRefreshes),
    client: FLEET_CLIENT,
    stores,
    logger: { debug: (event) => count(events, event), warn: (event) => count(events, event) },
    // A person signing in again: the harness follows the authorization server's redirects.
    authorizationHandler: async ({ authorizationUrl }) => {
      const reply = await ask((id) => ({ type: 'authorize', id, authorizationUrl }));
      return reply.type === 'authorized' ? reply.callbackUrl : '';
    },
  });
  const mcpFetch = authorizedFetch(session, pooledTransport());

  const call = async (id: number): Promise<string | undefined> => {
    try {
      const response = await mcpFetch(config.serverUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': '2025-06-18',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/list' }),
      });
      const body = (await response.json().catch(() => ({}))) as { result?: unknown };
      return response.status === 200 && body.result !== undefined ? undefined : `http_${response.status}`;
    } catch (error) {
      if (isOAuthClientError(error)) return error.code;
      // A transport failure names its system error (ECONNRESET, …).
      const code = (error as { code?: unknown } | null)?.code;
      return `unexpected:${typeof code === 'string' ? code : (error as Error)?.name}`;
    }
  };

  send({ type: 'ready' });
  await started;
  const outcomes = await Promise.all(Array.from({ length: config.calls }, (_, index) => call(index + 1)));
  const failures: Record<string, number> = {};
  for (const outcome of outcomes) if (outcome !== undefined) count(failures, outcome);
  const result: WorkerResult = {
    succeeded: outcomes.filter((outcome) => outcome === undefined).length,
    failures,
    events,
  };
  await send({ type: 'done', result });
  redis?.destroy();
  process.disconnect();
}

main().catch((error: unknown) => {
  process.stderr.write(`fleet worker failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
