/**
 * The fleet harness: the demo MCP server and its oidc-provider (refresh tokens rotate, and a reused
 * one revokes the whole grant), a grant seeded into a shared store and made to look expired, and
 * worker processes that all call the MCP server at once. The fleet tests assert its counts; the
 * bench (apps/bench) reports its times.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { OAuthSession, type OAuthStores, type StoredTokens, tokenKey } from '@mcp-oauth/core';
import { type DemoServer, followAuthorization, startDemoServer } from '@mcp-oauth/demo-server';
import { createFetchHttpClient } from '@mcp-oauth/fetch';
import { createFileStores } from '@mcp-oauth/node';
import { build } from 'esbuild';
import { createClient } from 'redis';
import { createRedisStores } from '../index.js';
import {
  FLEET_CLIENT,
  type FleetStore,
  type FromWorker,
  type ToWorker,
  type WorkerConfig,
  type WorkerResult,
} from './fleet-protocol.js';
import { startTokenCheckingServer, type TokenCheckingServer } from './resource-server.js';

export type { FleetStore } from './fleet-protocol.js';

const PACKAGE_DIR = fileURLToPath(new URL('../../', import.meta.url));
/** Generated, so under node_modules (ignored by git), in the package it belongs to. */
const BUNDLE_DIR = fileURLToPath(new URL('../../node_modules/.cache/mcp-oauth-fleet/', import.meta.url));

export interface FleetServers {
  /** The authorization server (oidc-provider) and the demo's own MCP server. */
  readonly demo: DemoServer;
  /** The MCP endpoint the fleet calls; its resource identifier is what tokens are issued for. */
  readonly resource: TokenCheckingServer;
  /** Status of each token endpoint response since the last `resetCounts()`, in order. */
  tokenResponses(): number[];
  resetCounts(): void;
  close(): Promise<void>;
}

export async function startFleetServers(): Promise<FleetServers> {
  let tokens: number[] = [];
  const resource = await startTokenCheckingServer();
  const demo = await startDemoServer({
    autoApprove: true,
    // Long enough that no token renewed during a storm needs renewing again within it.
    accessTokenLifetimeSeconds: 600,
    otherResources: [resource.url],
    onRequest: (event) => {
      if (event.endpoint === 'token') tokens.push(event.status);
    },
  });
  resource.trust(demo.issuer);
  return {
    demo,
    resource,
    tokenResponses: () => [...tokens],
    resetCounts: () => {
      tokens = [];
      resource.resetCounts();
    },
    close: async () => {
      await Promise.all([demo.close(), resource.close()]);
    },
  };
}

/** The stores a fleet shares, opened in this process; `close` ends the Redis connection. */
export async function openStores(store: FleetStore): Promise<{ stores: OAuthStores; close(): void }> {
  if (store.type === 'file') return { stores: createFileStores({ directory: store.directory }), close() {} };
  const client = await createClient({ url: store.url })
    .on('error', () => {})
    .connect();
  return {
    stores: createRedisStores({ client, prefix: store.prefix, leaseMs: store.leaseMs }),
    close: () => client.destroy(),
  };
}

export interface SeededGrant {
  /** The engine's key of the grant's tokens. */
  readonly key: string;
  /** The client the user authorized (registered dynamically, public). */
  readonly clientId: string;
  /** The refresh token the store holds now (before the storm). */
  readonly refreshToken: string;
}

/**
 * A user authorizes once (the demo approves at once) into `store`; then the stored access token is
 * made to look expired, as it is for a fleet coming back after a while: every process must renew
 * it before its first call.
 */
export async function seedGrant(servers: FleetServers, store: FleetStore): Promise<SeededGrant> {
  const opened = await openStores(store);
  try {
    const session = new OAuthSession({
      serverUrl: servers.resource.url,
      httpClient: createFetchHttpClient(),
      client: FLEET_CLIENT,
      stores: opened.stores,
      authorizationHandler: ({ authorizationUrl }) => followAuthorization(authorizationUrl),
    });
    const info = await session.authorize();
    const key = tokenKey(info.issuer, info.resource, info.clientId);
    const stored = (await opened.stores.tokens.get(key))!;
    const expired: StoredTokens = {
      ...stored,
      issuedAt: Date.now() - 660_000,
      expiresAt: Date.now() - 60_000,
    };
    await opened.stores.tokens.set(key, expired);
    // The resource server agrees: the token has expired.
    servers.resource.expire(stored.accessToken);
    return { key, clientId: info.clientId, refreshToken: stored.refreshToken! };
  } finally {
    opened.close();
  }
}

export interface GrantCheck {
  /** The stored access token sent to the MCP server. */
  readonly mcpStatus: number;
  /** The stored refresh token redeemed at the token endpoint (it rotates; the grant goes on). */
  readonly refreshStatus: number;
  /** The refresh token the store held, to compare with the seeded one. */
  readonly refreshToken: string | undefined;
}

/** Whether the grant in the store still works: its access token, then its refresh token. */
export async function checkGrant(
  servers: FleetServers,
  store: FleetStore,
  grant: SeededGrant,
): Promise<GrantCheck> {
  const opened = await openStores(store);
  let stored: StoredTokens | undefined;
  try {
    stored = await opened.stores.tokens.get(grant.key);
  } finally {
    opened.close();
  }
  if (stored === undefined) return { mcpStatus: 0, refreshStatus: 0, refreshToken: undefined };
  const mcp = await fetch(servers.resource.url, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${stored.accessToken}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
  });
  await mcp.body?.cancel();
  const refresh = await fetch(`${servers.demo.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: stored.refreshToken ?? '',
      client_id: grant.clientId,
    }),
  });
  await refresh.body?.cancel();
  return { mcpStatus: mcp.status, refreshStatus: refresh.status, refreshToken: stored.refreshToken };
}

/** What the harness does when a worker is about to send, or has just received, a refresh grant. */
export type RefreshPolicy = (event: {
  readonly worker: number;
  readonly phase: 'before' | 'after';
  readonly status?: number;
}) => Promise<'continue' | 'kill'>;

export interface StormOptions {
  readonly store: FleetStore;
  readonly processes: number;
  readonly callsPerProcess: number;
  /** Consulted at each refresh grant; without it workers do not stop there. */
  readonly onRefresh?: RefreshPolicy;
  /** The whole storm is abandoned (workers killed, an error thrown) after this long. Default 60 s. */
  readonly timeoutMs?: number;
}

export interface StormResult {
  /** Calls answered 200 with a JSON-RPC result, over the processes that were not killed. */
  readonly succeeded: number;
  readonly failed: number;
  readonly failures: Readonly<Record<string, number>>;
  /** Engine log events, summed over the surviving processes. */
  readonly events: Readonly<Record<string, number>>;
  readonly killed: number;
  /** Times the user was asked to sign in again. */
  readonly authorizations: number;
  /** Status of each token endpoint response during the storm, in order. */
  readonly tokenResponses: readonly number[];
  /** MCP responses during the storm, by status. */
  readonly mcpResponses: Readonly<Record<number, number>>;
  /** Distinct access tokens the MCP endpoint accepted during the storm. */
  readonly accessTokensUsed: number;
  /** From `go` until the last surviving process reported. */
  readonly drainMs: number;
}

interface Worker {
  readonly index: number;
  readonly child: ChildProcess;
  stderr: string;
  killed: boolean;
  result?: WorkerResult;
}

export async function runStorm(servers: FleetServers, options: StormOptions): Promise<StormResult> {
  const script = await bundleWorker();
  const config: WorkerConfig = {
    store: options.store,
    serverUrl: servers.resource.url,
    calls: options.callsPerProcess,
    reportRefreshes: options.onRefresh !== undefined,
  };
  let authorizations = 0;
  const workers: Worker[] = Array.from({ length: options.processes }, (_, index) => {
    const child = fork(script, [JSON.stringify(config)], {
      cwd: PACKAGE_DIR,
      execArgv: [],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    const worker: Worker = { index, child, stderr: '', killed: false };
    child.stderr?.on('data', (chunk: Buffer) => {
      worker.stderr = (worker.stderr + chunk.toString('utf8')).slice(-4000);
    });
    return worker;
  });
  const reply = (worker: Worker, message: ToWorker) => {
    if (!worker.killed && worker.child.connected) worker.child.send(message);
  };
  const kill = (worker: Worker) => {
    worker.killed = true;
    worker.child.kill('SIGKILL');
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const ready = workers.map((worker) => until(worker, (message) => message.type === 'ready'));
    const finished = workers.map(
      (worker) =>
        new Promise<void>((resolve, reject) => {
          worker.child.on('message', (message: FromWorker) => {
            if (message.type === 'done') {
              worker.result = message.result;
              resolve();
            } else if (message.type === 'refresh') {
              void options
                .onRefresh?.({
                  worker: worker.index,
                  phase: message.phase,
                  ...(message.status === undefined ? {} : { status: message.status }),
                })
                .then(
                  (decision) =>
                    decision === 'kill' ? kill(worker) : reply(worker, { type: 'continue', id: message.id }),
                  reject,
                );
            } else if (message.type === 'authorize') {
              authorizations++;
              followAuthorization(message.authorizationUrl).then(
                (callbackUrl) => reply(worker, { type: 'authorized', id: message.id, callbackUrl }),
                reject,
              );
            }
          });
          // `close`, not `exit`: `exit` can come before the worker's last messages (its result) are
          // read from the IPC channel; `close` comes after the channel and stdio are drained.
          worker.child.once('close', (code, signal) => {
            if (worker.killed) resolve();
            else if (worker.result === undefined) {
              reject(
                new Error(`fleet worker ${worker.index} exited with ${code ?? signal}:\n${worker.stderr}`),
              );
            }
          });
        }),
    );
    const limit = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the storm did not finish within ${options.timeoutMs ?? 60_000} ms`)),
        options.timeoutMs ?? 60_000,
      );
    });
    await Promise.race([Promise.all(ready), limit]);
    servers.resetCounts();
    const begin = performance.now();
    for (const worker of workers) reply(worker, { type: 'go' });
    await Promise.race([Promise.all(finished), limit]);
    const drainMs = performance.now() - begin;
    const survivors = workers.filter((worker) => !worker.killed);
    const failures: Record<string, number> = {};
    const events: Record<string, number> = {};
    for (const { result } of survivors) {
      for (const [name, n] of Object.entries(result!.failures)) failures[name] = (failures[name] ?? 0) + n;
      for (const [name, n] of Object.entries(result!.events)) events[name] = (events[name] ?? 0) + n;
    }
    const failed = Object.values(failures).reduce((sum, n) => sum + n, 0);
    return {
      succeeded: survivors.reduce((sum, { result }) => sum + result!.succeeded, 0),
      failed,
      failures,
      events,
      killed: workers.length - survivors.length,
      authorizations,
      tokenResponses: servers.tokenResponses(),
      mcpResponses: { ...servers.resource.counts.statuses },
      accessTokensUsed: servers.resource.counts.tokens.size,
      drainMs,
    };
  } finally {
    clearTimeout(timer);
    for (const worker of workers) {
      if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
    }
  }
}

/** The first message matching `accept`; rejects (with the worker's stderr) if it exits first. */
function until(worker: Worker, accept: (message: FromWorker) => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: FromWorker) => {
      if (!accept(message)) return;
      worker.child.off('message', onMessage);
      worker.child.off('close', onExit);
      resolve();
    };
    const onExit = (code: number | null) => {
      worker.child.off('message', onMessage);
      reject(
        new Error(`fleet worker ${worker.index} exited with ${code} before it was ready:\n${worker.stderr}`),
      );
    };
    worker.child.on('message', onMessage);
    worker.child.once('close', onExit);
  });
}

let bundled: Promise<string> | undefined;

/**
 * fleet-worker.ts with everything it imports in one CommonJS script: this package's source, and the
 * other packages as they are built (`@mcp-oauth/core` and the rest resolve to their `dist`).
 */
function bundleWorker(): Promise<string> {
  bundled ??= (async () => {
    const result = await build({
      entryPoints: [fileURLToPath(new URL('./fleet-worker.ts', import.meta.url))],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      write: false,
      logLevel: 'error',
    });
    const text = result.outputFiles[0]!.text;
    const path = `${BUNDLE_DIR}worker-${createHash('sha256').update(text).digest('hex').slice(0, 16)}.cjs`;
    await mkdir(BUNDLE_DIR, { recursive: true });
    // Renamed into place: another run (the bench, another test file) may be starting it right now.
    const temporary = `${path}.${process.pid}.tmp`;
    await writeFile(temporary, text);
    await rename(temporary, path);
    return path;
  })();
  return bundled;
}
