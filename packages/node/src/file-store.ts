/**
 * The engine's stores as JSON files, shared by every process of the user:
 *
 * ```
 * <directory>/
 *   discovery/<sha256(server URL)>.json    what discovery learned about one MCP server
 *   tokens/<sha256(token key)>.json        tokens for one (issuer, resource, client): one per server
 *   tokens/<sha256(token key)>.lock        present while a process renews those tokens
 *   clients/<sha256(issuer)>.json          the client registered with one authorization server
 *   pending/<sha256(state)>.json           an authorization in progress (minutes; removed when used)
 * ```
 *
 * Each file is `{ "version": 1, "key": …, "value": … }`; the key says which server it belongs to,
 * so `grep -l mcp.example.com tokens/*` finds a server's tokens. Files are 0600, directories 0700,
 * and a directory or file another user could have written is refused (see `permissions.ts`).
 */
import { createHash, randomBytes } from 'node:crypto';
import { readdir, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type {
  ClientInformation,
  DiscoveryRecord,
  OAuthStore,
  OAuthStores,
  PendingAuthorization,
  PendingAuthorizationStore,
  StoredTokens,
  TokenStore,
} from '@mcp-oauth/core';
import { KeyedQueue } from '@mcp-oauth/core/adapter';
import { storeFailed, systemErrorCode } from './errors.js';
import { withFileLock } from './file-lock.js';
import {
  checkDirectory,
  corruptFile,
  ensureDirectory,
  readJsonFile,
  removeFile,
  sweepTemporaryFiles,
  writeJsonFile,
} from './json-file.js';
import { resolvePrivateDirectory } from './permissions.js';
import { defaultStoreDirectory } from './store-directory.js';

export interface FileStoresOptions {
  /** Default: `mcp-oauth` in the user's configuration directory (see the README). */
  readonly directory?: string;
  /** How long `tokens.lock` waits for another process before `store_failed`. Default 10 minutes. */
  readonly lockTimeoutMs?: number;
  /** A lock its holder has not refreshed for this long is taken over. Default 60 s. */
  readonly staleLockMs?: number;
}

export interface FileStores extends OAuthStores {
  /** The directory the files are in. */
  readonly directory: string;
}

const FORMAT_VERSION = 1;
/** The longest an authorization may stay pending in core (its default TTL is 10 minutes). */
const DEFAULT_LOCK_TIMEOUT_MS = 10 * 60_000;
const DEFAULT_STALE_LOCK_MS = 60_000;
/** Pending files (and leftovers of interrupted writes) older than this are swept. */
const PENDING_MAX_AGE_MS = 24 * 60 * 60_000;

/** Stores for `OAuthSession` that persist to JSON files and share refreshes across processes. */
export function createFileStores(options: FileStoresOptions = {}): FileStores {
  const directory = options.directory ?? defaultStoreDirectory();
  const lock = {
    timeoutMs: options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
    staleMs: options.staleLockMs ?? DEFAULT_STALE_LOCK_MS,
  };
  const root = new StoreRoot(directory);
  return {
    directory,
    tokens: new FileTokenStore(root, 'tokens', lock),
    clients: new FileStore<ClientInformation>(root, 'clients'),
    discovery: new FileStore<DiscoveryRecord>(root, 'discovery'),
    pending: new FilePendingStore(root, 'pending'),
  };
}

/**
 * The store directory, shared by the four stores: created, resolved and checked with every
 * directory above it on first use; checked again (itself) before every operation.
 */
class StoreRoot {
  readonly #configured: string;
  #resolved: string | undefined;

  constructor(configured: string) {
    this.#configured = configured;
  }

  async path(): Promise<string> {
    if (this.#resolved === undefined) {
      this.#resolved = await resolvePrivateDirectory(this.#configured);
      return this.#resolved;
    }
    await ensureDirectory(this.#resolved);
    return this.#resolved;
  }
}

class FileStore<T> implements OAuthStore<T> {
  readonly #root: StoreRoot;
  readonly #name: string;
  #swept = false;

  constructor(root: StoreRoot, name: string) {
    this.#root = root;
    this.#name = name;
  }

  async get(key: string): Promise<T | undefined> {
    const directory = await this.directory();
    if (!(await checkDirectory(directory))) return undefined;
    const path = this.pathIn(directory, key);
    const content = await readJsonFile(path);
    return content === undefined ? undefined : unwrap<T>(content, key, path);
  }

  async set(key: string, value: T): Promise<void> {
    const directory = await this.directory();
    await ensureDirectory(directory);
    if (!this.#swept) {
      // Once per store: what an earlier process killed mid-write left behind (it may hold tokens).
      this.#swept = true;
      await sweepTemporaryFiles(directory);
    }
    await writeJsonFile(this.pathIn(directory, key), { version: FORMAT_VERSION, key, value });
  }

  async delete(key: string): Promise<void> {
    const directory = await this.directory();
    if (!(await checkDirectory(directory))) return;
    await removeFile(this.pathIn(directory, key));
  }

  /** This store's subdirectory of the checked store directory (itself checked by the caller). */
  protected async directory(): Promise<string> {
    return join(await this.#root.path(), this.#name);
  }

  protected pathIn(directory: string, key: string, extension = '.json'): string {
    return join(directory, `${createHash('sha256').update(key).digest('hex')}${extension}`);
  }
}

class FileTokenStore extends FileStore<StoredTokens> implements TokenStore {
  readonly #lock: { timeoutMs: number; staleMs: number };
  readonly #queue = new KeyedQueue();

  constructor(root: StoreRoot, name: string, lock: { timeoutMs: number; staleMs: number }) {
    super(root, name);
    this.#lock = lock;
  }

  /** Callers in this process queue here; other processes meet at the lock file. */
  lock<R>(key: string, task: () => Promise<R>): Promise<R> {
    // Queued by key: the path is only known once the store directory has been resolved.
    return this.#queue.run(key, async () => {
      const directory = await this.directory();
      await ensureDirectory(directory);
      return withFileLock(this.pathIn(directory, key, '.lock'), this.#lock, task);
    });
  }
}

class FilePendingStore extends FileStore<PendingAuthorization> implements PendingAuthorizationStore {
  override async set(key: string, value: PendingAuthorization): Promise<void> {
    await this.#sweep(await this.directory());
    await super.set(key, value);
  }

  /** Renames the file to a name only this caller knows before reading it: one taker wins. */
  async take(key: string): Promise<PendingAuthorization | undefined> {
    const directory = await this.directory();
    if (!(await checkDirectory(directory))) return undefined;
    const path = this.pathIn(directory, key);
    const taken = `${path}.${randomBytes(8).toString('hex')}.taken`;
    try {
      await rename(path, taken);
    } catch (error) {
      if (systemErrorCode(error) === 'ENOENT') return undefined;
      throw storeFailed(`the store file ${path} could not be taken`, error);
    }
    try {
      const content = await readJsonFile(taken);
      return content === undefined ? undefined : unwrap<PendingAuthorization>(content, key, path);
    } finally {
      await removeFile(taken).catch(() => {});
    }
  }

  /** Abandoned authorizations would otherwise stay on disk forever. */
  async #sweep(directory: string): Promise<void> {
    let names: string[];
    try {
      names = await readdir(directory);
    } catch {
      return;
    }
    const now = Date.now();
    await Promise.all(
      names.map(async (name) => {
        const path = join(directory, name);
        try {
          if (now - (await stat(path)).mtimeMs > PENDING_MAX_AGE_MS) await removeFile(path);
        } catch {
          // Taken or swept by another process meanwhile.
        }
      }),
    );
  }
}

function unwrap<T>(content: unknown, key: string, path: string): T {
  if (
    typeof content !== 'object' ||
    content === null ||
    (content as { version?: unknown }).version !== FORMAT_VERSION ||
    (content as { key?: unknown }).key !== key
  ) {
    throw corruptFile(path);
  }
  const value = (content as { value?: unknown }).value;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw corruptFile(path);
  return value as T;
}
