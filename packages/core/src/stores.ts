import type {
  AuthorizationServerMetadata,
  ClientInformation,
  PendingAuthorization,
  ProtectedResourceMetadata,
  TokenSet,
} from './types.js';
import type { JsonWebKey } from './web-crypto.js';

/**
 * A tiny async key-value store of JSON-serialisable records. Every engine store is one of these, so
 * a file, Redis or database backend implements three methods (plus `lock` to share refreshes).
 */
export interface OAuthStore<T> {
  get(key: string): Promise<T | undefined>;
  set(key: string, value: T): Promise<void>;
  delete(key: string): Promise<void>;
}

/** Token records also carry the DPoP key the tokens are bound to, when DPoP is in use. */
export interface StoredTokens extends TokenSet {
  readonly dpopKey?: { readonly publicJwk: JsonWebKey; readonly privateJwk: JsonWebKey };
}

export interface TokenStore extends OAuthStore<StoredTokens> {
  /**
   * Runs `task` while holding an exclusive lock on `key`, so refreshes sharing this store (other
   * sessions, other processes) happen one at a time. The engine re-reads the store inside the
   * lock, so a refresh done by another holder is reused, not repeated. The lock is held for the
   * whole operation, which for an interactive authorization lasts until the user answers (minutes,
   * up to the pending-authorization lifetime): size lock timeouts for that.
   */
  lock?<R>(key: string, task: () => Promise<R>): Promise<R>;
}

export interface PendingAuthorizationStore extends OAuthStore<PendingAuthorization> {
  /** Reads and deletes in one step, so a `state` can be used once only. */
  take(key: string): Promise<PendingAuthorization | undefined>;
}

/** What discovery learned about one MCP server, so a restarted client need not ask again. */
export interface DiscoveryRecord {
  readonly serverUrl: string;
  readonly resource: string;
  readonly resourceMetadataUrl?: string;
  readonly resourceMetadata?: ProtectedResourceMetadata;
  readonly issuer: string;
  readonly authorizationServerMetadata: AuthorizationServerMetadata;
  readonly metadataSource: 'oauth' | 'openid' | 'fallback' | 'configured';
  readonly discoveredAt: number;
  /** The client the session used with this server, to find its tokens after a restart. */
  readonly clientId?: string;
}

export interface OAuthStores {
  readonly tokens: TokenStore;
  /** Client registrations, keyed by issuer. */
  readonly clients: OAuthStore<ClientInformation>;
  /** Discovery results, keyed by MCP server URL. */
  readonly discovery: OAuthStore<DiscoveryRecord>;
  /** Pending authorizations, keyed by `state`. */
  readonly pending: PendingAuthorizationStore;
}

/** Key of a token record: tokens belong to one issuer, one resource and one client. */
export function tokenKey(issuer: string, resource: string, clientId: string): string {
  return JSON.stringify([issuer, resource, clientId]);
}

export class MemoryStore<T> implements OAuthStore<T> {
  protected readonly entries = new Map<string, T>();

  async get(key: string): Promise<T | undefined> {
    return this.entries.get(key);
  }

  async set(key: string, value: T): Promise<void> {
    this.entries.set(key, value);
  }

  async delete(key: string): Promise<void> {
    this.entries.delete(key);
  }
}

/** Runs tasks one at a time per key, in the order they arrive; a failed task does not block the next. */
export class KeyedQueue {
  readonly #tails = new Map<string, Promise<unknown>>();

  async run<R>(key: string, task: () => Promise<R>): Promise<R> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const run = previous.then(task);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(key, tail);
    try {
      return await run;
    } finally {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }
}

/** In-memory token store whose `lock` serialises refreshes of sessions in this process. */
export class MemoryTokenStore extends MemoryStore<StoredTokens> implements TokenStore {
  readonly #queue = new KeyedQueue();

  lock<R>(key: string, task: () => Promise<R>): Promise<R> {
    return this.#queue.run(key, task);
  }
}

export class MemoryPendingAuthorizationStore
  extends MemoryStore<PendingAuthorization>
  implements PendingAuthorizationStore
{
  async take(key: string): Promise<PendingAuthorization | undefined> {
    const value = this.entries.get(key);
    this.entries.delete(key);
    return value;
  }
}

export function createMemoryStores(): OAuthStores {
  return {
    tokens: new MemoryTokenStore(),
    clients: new MemoryStore<ClientInformation>(),
    discovery: new MemoryStore<DiscoveryRecord>(),
    pending: new MemoryPendingAuthorizationStore(),
  };
}
