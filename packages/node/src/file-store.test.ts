import { spawnSync } from 'node:child_process';
import {
  chmod,
  chown,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type ClientInformation,
  type DiscoveryRecord,
  isOAuthClientError,
  type PendingAuthorization,
  type StoredTokens,
  tokenKey,
} from '@mcp-oauth/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFileStores, type FileStores } from './file-store.js';

const POSIX = process.platform !== 'win32';
/** Giving a file to another user takes root (the CI runs as root). */
const ROOT = POSIX && process.getuid?.() === 0;
const NOBODY = 65534;
const ISSUER = 'https://as.example';
const RESOURCE = 'https://mcp.example/mcp';
const KEY = tokenKey(ISSUER, RESOURCE, 'client-1');

const TOKENS: StoredTokens = {
  accessToken: 'access-SECRET',
  tokenType: 'Bearer',
  expiresAt: 2_000_000_000_000,
  refreshToken: 'refresh-SECRET',
  grantedScopes: ['mcp'],
  requestedScopes: ['mcp'],
  issuedAt: 1_700_000_000_000,
};

const CLIENT: ClientInformation = {
  issuer: ISSUER,
  clientId: 'client-1',
  tokenEndpointAuthMethod: 'none',
  redirectUris: ['http://127.0.0.1:33418/callback'],
  source: 'dynamic',
};

const DISCOVERY: DiscoveryRecord = {
  serverUrl: RESOURCE,
  resource: RESOURCE,
  issuer: ISSUER,
  authorizationServerMetadata: { issuer: ISSUER, token_endpoint: `${ISSUER}/token` },
  metadataSource: 'oauth',
  discoveredAt: 1_700_000_000_000,
  clientId: 'client-1',
};

function pending(state: string): PendingAuthorization {
  return {
    state,
    codeVerifier: 'verifier-SECRET',
    issuer: ISSUER,
    resource: RESOURCE,
    serverUrl: RESOURCE,
    clientId: 'client-1',
    redirectUri: 'http://127.0.0.1:33418/callback',
    scopes: ['mcp'],
    issParameterSupported: false,
    createdAt: 1_700_000_000_000,
    expiresAt: 2_000_000_000_000,
  };
}

let directory: string;
let stores: FileStores;

beforeEach(async () => {
  directory = join(await mkdtemp(join(tmpdir(), 'mcp-oauth-store-')), 'store');
  stores = createFileStores({ directory });
});

afterEach(async () => {
  await rm(join(directory, '..'), { recursive: true, force: true });
});

async function onlyFile(subdirectory: string): Promise<string> {
  const names = await readdir(join(directory, subdirectory));
  expect(names).toHaveLength(1);
  return join(directory, subdirectory, names[0]!);
}

async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe('createFileStores', () => {
  it('round-trips every store and reads a missing record as undefined', async () => {
    expect(await stores.tokens.get(KEY)).toBeUndefined();
    await stores.tokens.set(KEY, TOKENS);
    await stores.clients.set(ISSUER, CLIENT);
    await stores.discovery.set(RESOURCE, DISCOVERY);
    await stores.pending.set('state-1', pending('state-1'));

    // A second instance (another process, a restart) reads the same records.
    const again = createFileStores({ directory });
    expect(again.directory).toBe(directory);
    expect(await again.tokens.get(KEY)).toEqual(TOKENS);
    expect(await again.clients.get(ISSUER)).toEqual(CLIENT);
    expect(await again.discovery.get(RESOURCE)).toEqual(DISCOVERY);
    expect(await again.pending.get('state-1')).toEqual(pending('state-1'));

    await again.tokens.delete(KEY);
    await again.tokens.delete(KEY);
    expect(await stores.tokens.get(KEY)).toBeUndefined();
  });

  it('keeps one file per record, named by the SHA-256 of its key, holding the key', async () => {
    await stores.tokens.set(KEY, TOKENS);
    await stores.discovery.set(RESOURCE, DISCOVERY);
    const file = await onlyFile('tokens');
    expect(file).toMatch(/[/\\][0-9a-f]{64}\.json$/);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ version: 1, key: KEY, value: TOKENS });
    expect(await readFile(await onlyFile('discovery'), 'utf8')).toContain(RESOURCE);
  });

  it.runIf(POSIX)('creates files 0600 and directories 0700', async () => {
    await stores.tokens.set(KEY, TOKENS);
    await stores.tokens.set(KEY, { ...TOKENS, accessToken: 'rotated' });
    expect((await stat(await onlyFile('tokens'))).mode & 0o777).toBe(0o600);
    expect((await stat(directory)).mode & 0o777).toBe(0o700);
    expect((await stat(join(directory, 'tokens'))).mode & 0o777).toBe(0o700);
  });

  it('writes atomically: overwrites leave no temporary files behind', async () => {
    await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        stores.tokens.set(KEY, { ...TOKENS, accessToken: `a${index}` }),
      ),
    );
    const file = await onlyFile('tokens');
    expect(JSON.parse(await readFile(file, 'utf8')).value.accessToken).toMatch(/^a\d+$/);
  });

  it('removes temporary files a killed writer left behind, but not ones being written now', async () => {
    const tokens = join(directory, 'tokens');
    await mkdir(tokens, { recursive: true });
    const abandoned = join(tokens, '.abc.json.0123456789abcdef.tmp');
    const fresh = join(tokens, '.abc.json.fedcba9876543210.tmp');
    await writeFile(abandoned, '{"refreshToken":"half-written');
    await writeFile(fresh, '{');
    const old = new Date(Date.now() - 10 * 60_000);
    await utimes(abandoned, old, old);
    await createFileStores({ directory }).tokens.set(KEY, TOKENS);
    const names = await readdir(tokens);
    expect(names).not.toContain('.abc.json.0123456789abcdef.tmp');
    expect(names).toContain('.abc.json.fedcba9876543210.tmp');
  });

  it('a failed write leaves no temporary file and reports store_failed', async () => {
    await stores.tokens.set(KEY, TOKENS);
    const target = await onlyFile('tokens');
    await rm(target);
    await mkdir(target); // rename over a directory fails
    const error = await errorOf(stores.tokens.set(KEY, TOKENS));
    expect(isOAuthClientError(error, 'store_failed')).toBe(true);
    expect(await readdir(join(directory, 'tokens'))).toHaveLength(1);
  });

  it.each([
    ['truncated', '{"version":1,"key":'],
    ['empty', ''],
    ['not JSON', 'garbage'],
    ['another format', '{"accessToken":"x"}'],
    ['a value that is not an object', `{"version":1,"key":${JSON.stringify(KEY)},"value":"x"}`],
  ])('a %s file gives store_failed naming the file and the fix', async (_name, content) => {
    await stores.tokens.set(KEY, TOKENS);
    const file = await onlyFile('tokens');
    await writeFile(file, content);
    const error = await errorOf(stores.tokens.get(KEY));
    expect(isOAuthClientError(error, 'store_failed')).toBe(true);
    expect((error as Error).message).toContain(file);
    expect((error as Error).message).toContain('delete it');
    expect(await readFile(file, 'utf8')).toBe(content);
  });

  it('a file holding another key is not returned', async () => {
    await stores.clients.set(ISSUER, CLIENT);
    const file = await onlyFile('clients');
    await writeFile(file, JSON.stringify({ version: 1, key: 'https://other.example', value: CLIENT }));
    expect(isOAuthClientError(await errorOf(stores.clients.get(ISSUER)), 'store_failed')).toBe(true);
  });

  it('never writes a secret into an error', async () => {
    await stores.tokens.set(KEY, TOKENS);
    await writeFile(
      await onlyFile('tokens'),
      '{"version":1,"key":"x","value":{"accessToken":"access-SECRET"',
    );
    const error = await errorOf(stores.tokens.get(KEY));
    expect(`${(error as Error).message} ${JSON.stringify(error)}`).not.toContain('SECRET');
  });
});

describe('refuses what another user could have written (ssh StrictModes)', () => {
  /** Every operation of every store fails with store_failed naming `path` and `problem`. */
  async function expectRefused(of: FileStores, path: string, problem: string): Promise<void> {
    const operations: Array<[string, () => Promise<unknown>]> = [
      ['tokens.get', () => of.tokens.get(KEY)],
      ['tokens.set', () => of.tokens.set(KEY, TOKENS)],
      ['tokens.lock', () => of.tokens.lock!(KEY, async () => 'ran')],
      ['clients.get', () => of.clients.get(ISSUER)],
      ['discovery.set', () => of.discovery.set(RESOURCE, DISCOVERY)],
      ['pending.take', () => of.pending.take('state-1')],
    ];
    for (const [name, run] of operations) {
      const error = await errorOf(run());
      expect(isOAuthClientError(error, 'store_failed'), `${name}: ${String(error)}`).toBe(true);
      expect((error as Error).message, name).toContain(path);
      expect((error as Error).message, name).toContain(problem);
      expect(JSON.stringify(error)).not.toContain('SECRET');
    }
  }

  it.runIf(POSIX)('creates the store directory and its missing parents 0700', async () => {
    const nested = join(directory, 'a', 'b');
    await createFileStores({ directory: nested }).tokens.set(KEY, TOKENS);
    for (const path of [directory, join(directory, 'a'), nested, join(nested, 'tokens')]) {
      expect((await stat(path)).mode & 0o777, path).toBe(0o700);
    }
  });

  it.runIf(POSIX)(
    'an existing store directory writable by others (0777) is refused, and nothing is written',
    async () => {
      await mkdir(directory, { mode: 0o700 });
      await chmod(directory, 0o777);
      await expectRefused(stores, directory, 'writable by group or others (mode 0777)');
      expect(await readdir(directory)).toEqual([]);
    },
  );

  it.runIf(POSIX)('a group-writable store directory (0770) is refused', async () => {
    await mkdir(directory, { mode: 0o700 });
    await chmod(directory, 0o770);
    await expectRefused(stores, directory, 'chmod 700');
  });

  it.runIf(POSIX)('a store directory made writable after first use is refused from then on', async () => {
    await stores.tokens.set(KEY, TOKENS);
    await chmod(directory, 0o777);
    await expectRefused(stores, directory, 'writable by group or others');
  });

  it.runIf(POSIX)('a subdirectory writable by others is refused', async () => {
    await stores.tokens.set(KEY, TOKENS);
    await chmod(join(directory, 'tokens'), 0o777);
    const error = await errorOf(stores.tokens.get(KEY));
    expect(isOAuthClientError(error, 'store_failed')).toBe(true);
    expect((error as Error).message).toContain(join(directory, 'tokens'));
    expect(await stores.clients.get(ISSUER)).toBeUndefined();
  });

  it.runIf(POSIX)(
    'a store file that group or others can read or write is refused, and left as it is',
    async () => {
      for (const mode of [0o644, 0o660, 0o606, 0o640]) {
        await stores.tokens.set(KEY, TOKENS);
        const file = await onlyFile('tokens');
        await chmod(file, mode);
        const error = await errorOf(stores.tokens.get(KEY));
        expect(isOAuthClientError(error, 'store_failed')).toBe(true);
        expect((error as Error).message).toContain(file);
        expect((error as Error).message).toContain(`(mode 0${mode.toString(8)}); run chmod 600`);
        expect(`${(error as Error).message} ${JSON.stringify(error)}`).not.toContain('SECRET');
        expect((await stat(file)).mode & 0o777).toBe(mode);
        await chmod(file, 0o600);
        expect(await stores.tokens.get(KEY)).toEqual(TOKENS);
      }
    },
  );

  it.runIf(POSIX)(
    'a directory above the store that others can write is refused, unless it is sticky like /tmp',
    async () => {
      const parent = join(directory, 'shared');
      await mkdir(parent, { recursive: true, mode: 0o700 });
      await chmod(parent, 0o777);
      const inside = createFileStores({ directory: join(parent, 'store') });
      const error = await errorOf(inside.tokens.set(KEY, TOKENS));
      expect(isOAuthClientError(error, 'store_failed')).toBe(true);
      expect((error as Error).message).toContain(`the directory ${parent}, above the store directory`);
      expect((error as Error).message).toContain('without the sticky bit');

      await chmod(parent, 0o1777);
      await createFileStores({ directory: join(parent, 'store') }).tokens.set(KEY, TOKENS);
    },
  );

  it.runIf(ROOT)('a store directory owned by another user is refused', async () => {
    await mkdir(directory, { mode: 0o700 });
    await chown(directory, NOBODY, NOBODY);
    await expectRefused(stores, directory, `owned by another user (uid ${NOBODY}`);
  });

  it.runIf(ROOT)('a store file owned by another user is refused', async () => {
    await stores.clients.set(ISSUER, CLIENT);
    const file = await onlyFile('clients');
    await chown(file, NOBODY, NOBODY);
    const error = await errorOf(stores.clients.get(ISSUER));
    expect(isOAuthClientError(error, 'store_failed')).toBe(true);
    expect((error as Error).message).toContain(file);
    expect((error as Error).message).toContain(`owned by another user (uid ${NOBODY}`);
  });

  it.runIf(ROOT)('a directory above the store owned by another user is refused', async () => {
    const parent = join(directory, 'theirs');
    await mkdir(parent, { recursive: true, mode: 0o755 });
    await chown(parent, NOBODY, NOBODY);
    const error = await errorOf(createFileStores({ directory: join(parent, 'store') }).tokens.get(KEY));
    expect(isOAuthClientError(error, 'store_failed')).toBe(true);
    expect((error as Error).message).toContain(`the directory ${parent}, above the store directory`);
  });

  it.runIf(ROOT)(
    'a link to a directory another user owns is refused (the link is resolved once)',
    async () => {
      const theirs = join(directory, 'theirs');
      await mkdir(theirs, { recursive: true, mode: 0o700 });
      await chown(theirs, NOBODY, NOBODY);
      const link = join(directory, 'link');
      await symlink(theirs, link);
      const error = await errorOf(createFileStores({ directory: link }).tokens.set(KEY, TOKENS));
      expect(isOAuthClientError(error, 'store_failed')).toBe(true);
      expect((error as Error).message).toContain(theirs);
      expect(await readdir(theirs)).toEqual([]);
    },
  );
});

describe('pending.take', () => {
  it('returns the record once and deletes the file', async () => {
    await stores.pending.set('state-1', pending('state-1'));
    expect(await stores.pending.take('state-1')).toEqual(pending('state-1'));
    expect(await stores.pending.take('state-1')).toBeUndefined();
    expect(await readdir(join(directory, 'pending'))).toEqual([]);
  });

  it('is single-use across concurrent takers in separate store instances', async () => {
    for (let round = 0; round < 10; round++) {
      const state = `state-${round}`;
      await stores.pending.set(state, pending(state));
      const takers = Array.from({ length: 4 }, () => createFileStores({ directory }).pending.take(state));
      const results = await Promise.all(takers);
      expect(results.filter((result) => result !== undefined)).toEqual([pending(state)]);
    }
    expect(await readdir(join(directory, 'pending'))).toEqual([]);
  });

  it('sweeps pending files abandoned for more than a day', async () => {
    await stores.pending.set('old', pending('old'));
    const old = await onlyFile('pending');
    const twoDaysAgo = new Date(Date.now() - 2 * 24 * 60 * 60_000);
    await utimes(old, twoDaysAgo, twoDaysAgo);
    await stores.pending.set('new', pending('new'));
    expect(await stores.pending.take('old')).toBeUndefined();
    expect(await stores.pending.take('new')).toEqual(pending('new'));
  });
});

describe('tokens.lock', () => {
  /** Runs `count` overlapping tasks through `lock` and reports the most that ever ran at once. */
  async function maxConcurrency(locks: Array<FileStores['tokens']>, count: number): Promise<number> {
    let running = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: count }, (_, index) =>
        locks[index % locks.length]!.lock!(KEY, async () => {
          running++;
          most = Math.max(most, running);
          await new Promise((resolve) => setTimeout(resolve, 5));
          running--;
        }),
      ),
    );
    return most;
  }

  it('serialises callers in one process and across store instances sharing the directory', async () => {
    expect(await maxConcurrency([stores.tokens], 5)).toBe(1);
    const instances = Array.from({ length: 3 }, () => createFileStores({ directory }).tokens);
    expect(await maxConcurrency(instances, 9)).toBe(1);
  });

  it('returns the task result, releases on failure, and leaves no lock file', async () => {
    expect(await stores.tokens.lock!(KEY, async () => 42)).toBe(42);
    await expect(
      stores.tokens.lock!(KEY, async () => {
        throw new Error('task failed');
      }),
    ).rejects.toThrow('task failed');
    expect(await createFileStores({ directory }).tokens.lock!(KEY, async () => 'next')).toBe('next');
    expect((await readdir(join(directory, 'tokens'))).filter((name) => name.endsWith('.lock'))).toEqual([]);
  });

  async function plantLock(owner: object, ageMs = 0): Promise<string> {
    // The lock's name is the token file's name with `.lock`.
    await stores.tokens.set(KEY, TOKENS);
    const path = (await onlyFile('tokens')).replace(/\.json$/, '.lock');
    await writeFile(path, JSON.stringify(owner));
    const time = new Date(Date.now() - ageMs);
    await utimes(path, time, time);
    return path;
  }

  it('takes over a lock whose process is gone', async () => {
    const exited = spawnSync(process.execPath, ['-e', '']);
    const path = await plantLock({ pid: exited.pid, hostname: hostname(), id: 'dead' });
    expect(await stores.tokens.lock!(KEY, async () => 'took over')).toBe('took over');
    await expect(stat(path)).rejects.toThrow();
  });

  it('takes over a lock not refreshed for longer than staleLockMs, even from another host', async () => {
    await plantLock({ pid: 1, hostname: 'elsewhere', id: 'old' }, 120_000);
    expect(await stores.tokens.lock!(KEY, async () => 'took over')).toBe('took over');
  });

  it('takes over an empty lock file once it is stale', async () => {
    await plantLock({}, 120_000);
    expect(await stores.tokens.lock!(KEY, async () => 'took over')).toBe('took over');
  });

  it('waits for a live holder at most lockTimeoutMs, then store_failed naming the holder', async () => {
    await plantLock({ pid: process.pid, hostname: hostname(), id: 'alive' });
    const impatient = createFileStores({ directory, lockTimeoutMs: 100 });
    let ran = false;
    const error = await errorOf(
      impatient.tokens.lock!(KEY, async () => {
        ran = true;
      }),
    );
    expect(ran).toBe(false);
    expect(isOAuthClientError(error, 'store_failed')).toBe(true);
    expect((error as Error).message).toContain(`process ${process.pid}`);
    expect((error as Error).message).toContain('.lock');
  });

  it('refreshes a held lock so waiters do not take it over', async () => {
    const holder = createFileStores({ directory, staleLockMs: 100 }).tokens;
    await holder.lock!(KEY, async () => {
      const path = (await readdir(join(directory, 'tokens'))).find((name) => name.endsWith('.lock'));
      const lock = join(directory, 'tokens', path!);
      const anHourAgo = new Date(Date.now() - 3_600_000);
      await utimes(lock, anHourAgo, anHourAgo);
      // The heartbeat (every staleLockMs / 4) makes it recent again.
      const deadline = Date.now() + 5_000;
      while ((await stat(lock)).mtimeMs < Date.now() - 60_000) {
        if (Date.now() > deadline) throw new Error('the lock was never refreshed');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    });
  });
});
