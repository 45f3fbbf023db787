/**
 * Stored state with `@mcp-oauth/node` file stores. A real child process holds an expired access
 * token and a rotating refresh token; it is SIGKILLed between receiving the rotated refresh token
 * and storing it (at several points of the write). The store must never be left corrupt, and the
 * next process must start cleanly: the old refresh token is rejected, which leads to a new
 * authorization (a typed `authorization_required` in a headless process), never a crash.
 * A corrupt or truncated store file is a clear `store_failed`.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type StoredTokens, tokenKey } from '@mcp-oauth/core';
import { canonicalResourceUrl } from '@mcp-oauth/core/protocol';
import { createFileStores } from '@mcp-oauth/node';
import { afterEach, describe, expect, it } from 'vitest';
import { CANARY, expectOAuthError, rejection } from './canary.js';
import { type HostileServer, json, startHostileServer } from './hostile-server.js';
import { useScenarios } from './scenario.js';

const CHILD = fileURLToPath(new URL('./test-utils/store-child.mjs', import.meta.url));
const CLIENT = 'client-1';

type ChildMessage =
  | { type: 'ready' }
  | { type: 'done'; info: { hasRefreshToken: boolean } }
  | { type: 'failed'; code: string; name: string };

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function temporaryDirectory(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'mcp-oauth-security-'));
  cleanups.push(() => rm(directory, { recursive: true, force: true }));
  return directory;
}

interface TokenServer {
  readonly server: HostileServer;
  readonly serverUrl: string;
  /** The refresh tokens presented, in order. */
  readonly presented: string[];
  /** Called once a successful refresh response has been handed to the socket. */
  onRefreshed: (() => void) | undefined;
}

/** A token endpoint whose refresh tokens rotate: `refresh-SECRET-N` works once, for generation N+1. */
async function startTokenServer(): Promise<TokenServer> {
  const server = await startHostileServer();
  cleanups.push(() => server.close());
  let generation = 0;
  const state: TokenServer = {
    server,
    serverUrl: new URL(canonicalResourceUrl(server.url('/mcp'))).href,
    presented: [],
    onRefreshed: undefined,
  };
  server.route('POST', '/token', (request) => {
    const presented = request.form.get('refresh_token') ?? '';
    state.presented.push(presented);
    if (request.form.get('grant_type') !== 'refresh_token' || presented !== `refresh-SECRET-${generation}`) {
      return json(400, { error: 'invalid_grant' });
    }
    generation++;
    return {
      ...json(200, {
        access_token: `access-SECRET-${generation}`,
        token_type: 'Bearer',
        expires_in: 3600,
        refresh_token: `refresh-SECRET-${generation}`,
        scope: 'mcp',
      }),
      afterSend: () => state.onRefreshed?.(),
    };
  });
  return state;
}

/** What a first run left behind: a discovered server, a registered client, an expired token. */
async function seedStore(directory: string, tokens: TokenServer): Promise<string> {
  const issuer = tokens.server.origin;
  const serverUrl = tokens.serverUrl;
  const stores = createFileStores({ directory });
  const now = Date.now();
  await stores.discovery.set(serverUrl, {
    serverUrl,
    resource: serverUrl,
    issuer,
    authorizationServerMetadata: {
      issuer,
      authorization_endpoint: `${issuer}/authorize`,
      token_endpoint: `${issuer}/token`,
      response_types_supported: ['code'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      code_challenge_methods_supported: ['S256'],
    },
    metadataSource: 'oauth',
    discoveredAt: now,
    clientId: CLIENT,
  });
  await stores.clients.set(issuer, {
    issuer,
    clientId: CLIENT,
    tokenEndpointAuthMethod: 'none',
    redirectUris: ['http://127.0.0.1:9/callback'],
    source: 'dynamic',
  });
  const key = tokenKey(issuer, serverUrl, CLIENT);
  await stores.tokens.set(key, {
    accessToken: 'access-SECRET-0',
    tokenType: 'Bearer',
    expiresAt: now - 60_000,
    refreshToken: 'refresh-SECRET-0',
    grantedScopes: ['mcp'],
    requestedScopes: ['mcp'],
    issuedAt: now - 3_660_000,
  });
  return key;
}

interface Child {
  readonly process: ChildProcess;
  next(): Promise<ChildMessage>;
  readonly exited: Promise<[number | null, NodeJS.Signals | null]>;
  stderr(): string;
}

async function startChild(directory: string, serverUrl: string, dieAt: string): Promise<Child> {
  const child = fork(CHILD, [directory, serverUrl, dieAt], {
    execArgv: [],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const messages: ChildMessage[] = [];
  const waiting: Array<(message: ChildMessage) => void> = [];
  child.on('message', (message: ChildMessage) => {
    const resolve = waiting.shift();
    if (resolve === undefined) messages.push(message);
    else resolve(message);
  });
  const next = () =>
    messages.length > 0
      ? Promise.resolve(messages.shift()!)
      : Promise.race([
          new Promise<ChildMessage>((resolve) => waiting.push(resolve)),
          exited.then(([code, signal]) => {
            throw new Error(`child exited (${code ?? signal}) before reporting:\n${stderr}`);
          }),
        ]);
  expect(await next()).toEqual({ type: 'ready' });
  return { process: child, next, exited, stderr: () => stderr };
}

/** Every store file parses and has the store's envelope; returns the token records. */
async function readStoreStrictly(
  directory: string,
): Promise<{ tokens: StoredTokens[]; leftovers: string[] }> {
  const tokens: StoredTokens[] = [];
  const leftovers: string[] = [];
  for (const store of ['discovery', 'clients', 'tokens']) {
    for (const name of await readdir(join(directory, store))) {
      if (!name.endsWith('.json')) {
        leftovers.push(`${store}/${name}`);
        continue;
      }
      const content = JSON.parse(await readFile(join(directory, store, name), 'utf8')) as {
        version: number;
        value: unknown;
      };
      expect(content.version).toBe(1);
      if (store === 'tokens') tokens.push(content.value as StoredTokens);
    }
  }
  return { tokens, leftovers };
}

describe('a crash between receiving a rotated refresh token and storing it', () => {
  it.each([
    ['as the session is about to store it', 'before-set', 'none'],
    ['halfway through writing the new token file', 'mid-write', 'torn'],
    ['after writing the new file, before it replaces the old one', 'before-rename', 'complete'],
  ] as const)(
    'SIGKILL %s: the store keeps the old state; the next process re-authorizes cleanly',
    async (_, dieAt, temporary) => {
      const directory = await temporaryDirectory();
      const tokens = await startTokenServer();
      await seedStore(directory, tokens);

      const crashing = await startChild(directory, tokens.serverUrl, dieAt);
      crashing.process.send('go');
      const [code, signal] = await crashing.exited;
      expect({ code, signal }).toEqual({ code: null, signal: 'SIGKILL' });
      // The server rotated: refresh-SECRET-0 is spent and refresh-SECRET-1 died with the process.
      expect(tokens.presented).toEqual(['refresh-SECRET-0']);

      const { tokens: stored, leftovers } = await readStoreStrictly(directory);
      expect(stored).toHaveLength(1);
      expect(stored[0]).toMatchObject({ accessToken: 'access-SECRET-0', refreshToken: 'refresh-SECRET-0' });
      // The process died holding the lock, and where it was told to: the temporary file it left
      // (none, torn, or complete with the new tokens) is never read as state.
      expect(leftovers.filter((name) => name.endsWith('.lock'))).toHaveLength(1);
      const temporaries = leftovers.filter((name) => name.endsWith('.tmp'));
      expect(leftovers).toHaveLength(1 + temporaries.length);
      if (temporary === 'none') expect(temporaries).toEqual([]);
      else {
        expect(temporaries).toHaveLength(1);
        const text = await readFile(join(directory, temporaries[0]!), 'utf8');
        if (temporary === 'torn') expect(() => JSON.parse(text)).toThrow();
        else expect(JSON.parse(text)).toMatchObject({ value: { refreshToken: 'refresh-SECRET-1' } });
      }

      const next = await startChild(directory, tokens.serverUrl, 'none');
      next.process.send('go');
      expect(await next.next()).toEqual({
        type: 'failed',
        code: 'authorization_required',
        name: 'OAuthClientError',
      });
      expect(await next.exited).toEqual([0, null]);
      expect(tokens.presented).toEqual(['refresh-SECRET-0', 'refresh-SECRET-0']);
      // The lock of the dead process was taken over and released.
      expect((await readdir(join(directory, 'tokens'))).filter((name) => name.endsWith('.lock'))).toEqual([]);
      expect(next.stderr()).toBe('');
    },
  );

  it('SIGKILL by the token endpoint right after it sent the response: old or new state, never corrupt', async () => {
    const directory = await temporaryDirectory();
    const tokens = await startTokenServer();
    await seedStore(directory, tokens);

    const crashing = await startChild(directory, tokens.serverUrl, 'none');
    tokens.onRefreshed = () => crashing.process.kill('SIGKILL');
    crashing.process.send('go');
    const [, signal] = await crashing.exited;
    expect(signal).toBe('SIGKILL');
    tokens.onRefreshed = undefined;

    const { tokens: stored } = await readStoreStrictly(directory);
    expect(stored).toHaveLength(1);
    const kept = stored[0]?.refreshToken;
    expect(['refresh-SECRET-0', 'refresh-SECRET-1']).toContain(kept);

    const next = await startChild(directory, tokens.serverUrl, 'none');
    next.process.send('go');
    const outcome = await next.next();
    if (kept === 'refresh-SECRET-1') {
      expect(outcome).toEqual({ type: 'done', info: expect.objectContaining({ hasRefreshToken: true }) });
    } else {
      expect(outcome).toEqual({ type: 'failed', code: 'authorization_required', name: 'OAuthClientError' });
    }
    expect(await next.exited).toEqual([0, null]);
  });
});

/** Ways a token file can be damaged, each applied to the file's current text. */
const CORRUPTIONS: ReadonlyArray<readonly [string, (text: string) => string]> = [
  ['truncated halfway', (text) => text.slice(0, Math.floor(text.length / 2))],
  ['empty', () => ''],
  ['binary garbage', () => '\u0000\u0001\u0002SECRET\u00ff'],
  ['JSON null', () => 'null'],
  ['a JSON array', () => '[1,2,3]'],
  ['another format version', (text) => JSON.stringify({ ...JSON.parse(text), version: 2 })],
  ['another key', (text) => JSON.stringify({ ...JSON.parse(text), key: 'someone else' })],
  ['a string value', (text) => JSON.stringify({ ...JSON.parse(text), value: 'access-SECRET-1' })],
];

describe('a corrupt or truncated store file', () => {
  const start = useScenarios();

  for (const store of ['tokens', 'discovery', 'clients'] as const) {
    it.each(CORRUPTIONS)(
      `a ${store} file %s → store_failed, with no secret in the error`,
      async (_, corrupt) => {
        const s = await start();
        const directory = await temporaryDirectory();
        await s.authorize(s.session({ stores: createFileStores({ directory }) }));
        const [name] = (await readdir(join(directory, store))).filter((file) => file.endsWith('.json'));
        const path = join(directory, store, name!);
        const damaged = corrupt(await readFile(path, 'utf8'));
        await writeFile(path, damaged);

        const session = s.session({ stores: createFileStores({ directory }) });
        const requestsBefore = s.authorizationServer.requests.length;
        for (let attempt = 0; attempt < 2; attempt++) {
          const error = await rejection(s.fetchFor(session)(s.mcpUrl));
          expectOAuthError(error, 'store_failed', s.logger, s.wireSecrets());
          expect((error as Error).message).toMatch(/corrupt or truncated/);
          expect((error as Error).message).toContain(name);
        }
        expect(await readFile(path, 'utf8')).toBe(damaged);
        // Nothing was overwritten or re-registered on the strength of a file it could not read.
        expect(s.authorizationServer.requests.length).toBe(requestsBefore);
      },
    );
  }

  it('in a separate process: a truncated token file → store_failed reported, the process exits normally', async () => {
    const directory = await temporaryDirectory();
    const tokens = await startTokenServer();
    await seedStore(directory, tokens);
    const [name] = (await readdir(join(directory, 'tokens'))).filter((file) => file.endsWith('.json'));
    const path = join(directory, 'tokens', name!);
    await truncate(path, 40);

    const child = await startChild(directory, tokens.serverUrl, 'none');
    child.process.send('go');
    expect(await child.next()).toEqual({ type: 'failed', code: 'store_failed', name: 'OAuthClientError' });
    expect(await child.exited).toEqual([0, null]);
    expect(child.stderr()).not.toContain(CANARY);
    expect(tokens.presented).toEqual([]);
  });
});
