/**
 * Two real Node processes share one store directory and hold the same expired access token whose
 * refresh token rotates (each refresh token works once; a reused one gets `invalid_grant`). Both
 * ask for a token at the same moment. The file lock must let exactly one of them refresh; the other
 * must find the new token in the store and use it.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tokenKey } from '@mcp-oauth/core';
import { canonicalResourceUrl } from '@mcp-oauth/core/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { createFileStores } from './file-store.js';

const CHILD = fileURLToPath(new URL('./test-utils/refresh-child.mjs', import.meta.url));
/** Long enough that, without a lock, the second process reads the store before the first rewrites it. */
const TOKEN_RESPONSE_DELAY_MS = 300;

interface TokenServer {
  readonly origin: string;
  readonly refreshRequests: string[];
  readonly invalidGrants: number;
  close(): Promise<void>;
}

/** A token endpoint on 127.0.0.1 whose refresh tokens rotate: `refresh-N` works once, for `access-(N+1)`. */
async function startTokenServer(): Promise<TokenServer> {
  let generation = 0;
  let invalidGrants = 0;
  const refreshRequests: string[] = [];
  const server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => {
      body += chunk.toString('utf8');
    });
    request.on('end', () => {
      const form = new URLSearchParams(body);
      const reply = (status: number, json: object) => {
        response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        response.end(JSON.stringify(json));
      };
      if (
        request.method !== 'POST' ||
        request.url !== '/token' ||
        form.get('grant_type') !== 'refresh_token'
      ) {
        return reply(400, { error: 'unsupported_grant_type' });
      }
      const presented = form.get('refresh_token') ?? '';
      refreshRequests.push(presented);
      setTimeout(() => {
        if (presented !== `refresh-${generation}`) {
          invalidGrants++;
          return reply(400, { error: 'invalid_grant' });
        }
        generation++;
        reply(200, {
          access_token: `access-${generation}`,
          token_type: 'Bearer',
          expires_in: 3600,
          refresh_token: `refresh-${generation}`,
          scope: 'mcp',
        });
      }, TOKEN_RESPONSE_DELAY_MS);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    refreshRequests,
    get invalidGrants() {
      return invalidGrants;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** What a first run left in the store: a discovered server, a registered client, an expired token. */
async function seedStore(directory: string, origin: string): Promise<string> {
  const serverUrl = new URL(canonicalResourceUrl(`${origin}/mcp`)).href;
  const stores = createFileStores({ directory });
  const now = Date.now();
  await stores.discovery.set(serverUrl, {
    serverUrl,
    resource: serverUrl,
    issuer: origin,
    authorizationServerMetadata: {
      issuer: origin,
      authorization_endpoint: `${origin}/authorize`,
      token_endpoint: `${origin}/token`,
      response_types_supported: ['code'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      code_challenge_methods_supported: ['S256'],
    },
    metadataSource: 'oauth',
    discoveredAt: now,
    clientId: 'client-1',
  });
  await stores.clients.set(origin, {
    issuer: origin,
    clientId: 'client-1',
    tokenEndpointAuthMethod: 'none',
    redirectUris: ['http://127.0.0.1:33418/callback'],
    source: 'dynamic',
  });
  await stores.tokens.set(tokenKey(origin, serverUrl, 'client-1'), {
    accessToken: 'access-0',
    tokenType: 'Bearer',
    expiresAt: now - 60_000,
    refreshToken: 'refresh-0',
    grantedScopes: ['mcp'],
    requestedScopes: ['mcp'],
    issuedAt: now - 3_660_000,
  });
  return serverUrl;
}

type ChildMessage =
  | { type: 'ready' }
  | { type: 'done'; accessToken: string }
  | { type: 'failed'; code: string; message: string };

/** The child's next message; rejects (with its stderr) if it exits first. */
function nextMessage(child: ChildProcess, stderr: () => string): Promise<ChildMessage> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => {
      child.off('message', onMessage);
      reject(new Error(`child exited with ${code} before reporting:\n${stderr()}`));
    };
    const onMessage = (message: ChildMessage) => {
      child.off('exit', onExit);
      resolve(message);
    };
    child.once('message', onMessage);
    child.once('exit', onExit);
  });
}

const cleanups: Array<() => Promise<unknown> | unknown> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('two processes sharing a file store', () => {
  // Each child loads the TypeScript compiler for its module hooks: seconds on a busy machine.
  it('refresh a rotating refresh token exactly once and both use the new token', {
    timeout: 60_000,
  }, async () => {
    const directory = await mkdtemp(join(tmpdir(), 'mcp-oauth-two-processes-'));
    cleanups.push(() => rm(directory, { recursive: true, force: true }));
    const tokenServer = await startTokenServer();
    cleanups.push(() => tokenServer.close());
    const serverUrl = await seedStore(directory, tokenServer.origin);

    const children = [0, 1].map(() => {
      const child = fork(CHILD, [directory, serverUrl], {
        execArgv: [],
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      });
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString('utf8');
      });
      cleanups.push(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill();
      });
      return { child, stderr: () => stderr };
    });

    const ready = await Promise.all(children.map(({ child, stderr }) => nextMessage(child, stderr)));
    expect(ready).toEqual([{ type: 'ready' }, { type: 'ready' }]);
    // Both start at once: each has loaded nothing yet and will read the expired token.
    const results = children.map(({ child, stderr }) => nextMessage(child, stderr));
    for (const { child } of children) child.send('go');

    const outcomes = await Promise.all(results);
    expect(tokenServer.refreshRequests).toEqual(['refresh-0']);
    expect(tokenServer.invalidGrants).toBe(0);
    expect(outcomes).toEqual([
      { type: 'done', accessToken: 'access-1' },
      { type: 'done', accessToken: 'access-1' },
    ]);
    const stored = await createFileStores({ directory }).tokens.get(
      tokenKey(tokenServer.origin, serverUrl, 'client-1'),
    );
    expect(stored).toMatchObject({ accessToken: 'access-1', refreshToken: 'refresh-1' });
  });
});
