/**
 * The engine's four stores on Redis, shared by every process that reaches the same Redis and
 * prefix: on one machine or on many. Token renewals happen under a lease (see lease.ts), so an
 * authorization server that rotates refresh tokens sees each one used once.
 */
import {
  type ClientInformation,
  type DiscoveryRecord,
  OAuthClientError,
  type OAuthStore,
  type OAuthStores,
  type PendingAuthorization,
  type PendingAuthorizationStore,
  type StoredTokens,
  type TokenStore,
} from '@mcp-oauth/core';
import { KeyedQueue } from '@mcp-oauth/core/adapter';
import { type RedisClient, RedisCommands, replyInteger, replyText } from './commands.js';
import { type RedisEncryptionOptions, Sealer } from './encryption.js';
import { storeFailed } from './errors.js';
import { fencedWrite, heldLease, type LeaseOptions, withLease } from './lease.js';
import { KeySpace, RecordCodec, type RecordKind } from './records.js';
import { REPLACE_IF_UNCHANGED } from './scripts.js';

export interface RedisStoresOptions {
  /** A connected client: node-redis's `await createClient({ url }).connect()`, or see {@link RedisClient}. */
  readonly client: RedisClient;
  /** Namespace of every key, one per application (or tenant). Default `mcp-oauth`. */
  readonly prefix?: string;
  /**
   * How long a refresh lease outlives a holder that stops renewing it (a crashed process): others
   * wait at most this long after a crash. The holder renews it every third of it. Default 10 s.
   */
  readonly leaseMs?: number;
  /**
   * How long `tokens.lock` waits for another holder before `store_failed`. The engine holds the
   * lock while the user signs in, so size it like a pending authorization. Default 10 minutes.
   */
  readonly lockTimeoutMs?: number;
  /** How long one store operation may take, retries after a lost connection included. Default 5 s. */
  readonly operationTimeoutMs?: number;
  /** Encrypt tokens, client registrations and pending authorizations (AES-256-GCM). Default off. */
  readonly encryption?: RedisEncryptionOptions;
}

export interface ReencryptResult {
  /** Records sealed again with the first key (or sealed for the first time). */
  readonly rewritten: number;
  /** Records already sealed with the first key. */
  readonly current: number;
  /** Records that could not be read (the Redis keys; no content): a key is missing, or damage. */
  readonly unreadable: readonly string[];
}

export interface RedisStores extends OAuthStores {
  readonly prefix: string;
  /**
   * Seals every token, client and pending record with the first encryption key: run it after
   * adding a new first key (then the old key can go) or after turning encryption on.
   */
  reencrypt(): Promise<ReencryptResult>;
}

const DEFAULT_PREFIX = 'mcp-oauth';
const DEFAULT_LEASE_MS = 10_000;
const DEFAULT_LOCK_TIMEOUT_MS = 10 * 60_000;
const DEFAULT_OPERATION_TIMEOUT_MS = 5_000;
const PREFIX = /^[A-Za-z0-9._:/-]{1,100}$/;

/** Stores for `OAuthSession` in Redis, sharing tokens and refreshes across processes and machines. */
export function createRedisStores(options: RedisStoresOptions): RedisStores {
  if (typeof options?.client?.sendCommand !== 'function') {
    throw invalid('client must be a Redis client with sendCommand (node-redis createClient)');
  }
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  if (typeof prefix !== 'string' || !PREFIX.test(prefix)) {
    throw invalid('prefix must be 1 to 100 of letters, digits and "._:/-" (no braces or spaces)');
  }
  const lease: LeaseOptions = {
    leaseMs: duration(options.leaseMs, DEFAULT_LEASE_MS, 'leaseMs', 100),
    timeoutMs: duration(options.lockTimeoutMs, DEFAULT_LOCK_TIMEOUT_MS, 'lockTimeoutMs', 1),
  };
  const commands = new RedisCommands(
    options.client,
    duration(options.operationTimeoutMs, DEFAULT_OPERATION_TIMEOUT_MS, 'operationTimeoutMs', 1),
  );
  const context: StoreContext = {
    commands,
    keys: new KeySpace(prefix),
    codec: new RecordCodec(options.encryption === undefined ? undefined : new Sealer(options.encryption)),
  };
  return {
    prefix,
    tokens: new RedisTokenStore(context, lease),
    clients: new RedisStore<ClientInformation>(context, 'clients'),
    discovery: new RedisStore<DiscoveryRecord>(context, 'discovery'),
    pending: new RedisPendingStore(context),
    reencrypt: () => reencrypt(context),
  };
}

interface StoreContext {
  readonly commands: RedisCommands;
  readonly keys: KeySpace;
  readonly codec: RecordCodec;
}

const NAMES: Record<RecordKind, string> = {
  tokens: 'token record',
  clients: 'client registration',
  discovery: 'discovery record',
  pending: 'pending authorization',
};

class RedisStore<T> implements OAuthStore<T> {
  protected readonly context: StoreContext;
  protected readonly kind: RecordKind;

  constructor(context: StoreContext, kind: RecordKind) {
    this.context = context;
    this.kind = kind;
  }

  async get(key: string): Promise<T | undefined> {
    const where = this.redisKey(key);
    const operation = `reading the ${NAMES[this.kind]} ${where}`;
    const text = replyText(await this.context.commands.call(['GET', where], operation), operation);
    return text === undefined ? undefined : this.context.codec.decode<T>(this.kind, key, text, where);
  }

  async set(key: string, value: T): Promise<void> {
    const where = this.redisKey(key);
    const payload = await this.context.codec.encode(this.kind, key, value);
    await this.context.commands.call(['SET', where, payload], `writing the ${NAMES[this.kind]} ${where}`);
  }

  async delete(key: string): Promise<void> {
    const where = this.redisKey(key);
    await this.context.commands.call(['DEL', where], `deleting the ${NAMES[this.kind]} ${where}`);
  }

  protected redisKey(key: string): string {
    return this.context.keys.of(this.kind, key);
  }
}

class RedisTokenStore extends RedisStore<StoredTokens> implements TokenStore {
  readonly #lease: LeaseOptions;
  readonly #queue = new KeyedQueue();

  constructor(context: StoreContext, lease: LeaseOptions) {
    super(context, 'tokens');
    this.#lease = lease;
  }

  /** Callers in this process queue here; other processes, here or elsewhere, meet at the lease. */
  lock<R>(key: string, task: () => Promise<R>): Promise<R> {
    return this.#queue.run(key, () =>
      withLease(this.context.commands, this, key, this.context.keys.tokens(key), this.#lease, task),
    );
  }

  /** Inside `lock`, compare-and-set on the lease's fencing token; elsewhere a plain write. */
  override async set(key: string, value: StoredTokens): Promise<void> {
    const lease = heldLease(this, key);
    if (lease === undefined) return super.set(key, value);
    const payload = await this.context.codec.encode('tokens', key, value);
    if (!(await fencedWrite(this.context.commands, lease, payload))) throw this.#fencedOff(lease.keys.record);
  }

  override async delete(key: string): Promise<void> {
    const lease = heldLease(this, key);
    if (lease === undefined) return super.delete(key);
    if (!(await fencedWrite(this.context.commands, lease, undefined)))
      throw this.#fencedOff(lease.keys.record);
  }

  #fencedOff(where: string): OAuthClientError {
    return storeFailed(
      `the refresh lease on ${where} passed to another process before this one stored its result ` +
        `(it held the lease past leaseMs = ${this.#lease.leaseMs} ms without renewing it); ` +
        "the other process's tokens are kept",
    );
  }
}

class RedisPendingStore extends RedisStore<PendingAuthorization> implements PendingAuthorizationStore {
  constructor(context: StoreContext) {
    super(context, 'pending');
  }

  /** Expires in Redis when the authorization does (`PX`): nothing abandoned stays behind. */
  override async set(key: string, value: PendingAuthorization): Promise<void> {
    const where = this.redisKey(key);
    const expiresAt = (value as { expiresAt?: unknown }).expiresAt;
    if (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt)) {
      throw storeFailed(`a pending authorization without a valid "expiresAt" cannot be stored in ${where}`);
    }
    const ttl = Math.max(1, Math.ceil(expiresAt - Date.now()));
    const payload = await this.context.codec.encode('pending', key, value);
    await this.context.commands.call(
      ['SET', where, payload, 'PX', String(ttl)],
      `writing the pending authorization ${where}`,
    );
  }

  /** GETDEL: of two processes taking the same `state`, one gets it. Never sent twice. */
  async take(key: string): Promise<PendingAuthorization | undefined> {
    const where = this.redisKey(key);
    const operation = `taking the pending authorization ${where}`;
    // Not retried: a first GETDEL whose reply was lost has already removed the record.
    const reply = await this.context.commands.call(['GETDEL', where], operation, { retry: false });
    const text = replyText(reply, operation);
    return text === undefined
      ? undefined
      : this.context.codec.decode<PendingAuthorization>('pending', key, text, where);
  }
}

async function reencrypt(context: StoreContext): Promise<ReencryptResult> {
  if (!context.codec.encrypts) throw invalid('reencrypt() needs encryption keys');
  let rewritten = 0;
  let current = 0;
  const unreadable: string[] = [];
  for (const kind of ['tokens', 'clients', 'pending'] as const) {
    for await (const where of scan(context, kind)) {
      const operation = `re-encrypting ${where}`;
      const text = replyText(await context.commands.call(['GET', where], operation), operation);
      if (text === undefined) continue; // deleted or expired meanwhile
      let next: string | undefined;
      try {
        next = await context.codec.reseal(kind, text, where);
      } catch {
        unreadable.push(where);
        continue;
      }
      if (next === undefined) {
        current++;
        continue;
      }
      // Changed meanwhile (a refresh wrote it): the new value was sealed with the first key anyway.
      const replaced = await context.commands.eval(REPLACE_IF_UNCHANGED, [where], [text, next], operation);
      if (replyInteger(replaced, operation) === 1) rewritten++;
      else current++;
    }
  }
  return { rewritten, current, unreadable };
}

async function* scan(context: StoreContext, kind: RecordKind): AsyncGenerator<string> {
  let cursor = '0';
  do {
    const operation = `listing the ${NAMES[kind]}s`;
    const reply = await context.commands.call(
      ['SCAN', cursor, 'MATCH', context.keys.pattern(kind), 'COUNT', '200'],
      operation,
    );
    if (!Array.isArray(reply) || reply.length !== 2 || !Array.isArray(reply[1])) {
      throw storeFailed(`${operation} failed: Redis answered with an unexpected reply`);
    }
    cursor = replyText(reply[0], operation) ?? '0';
    for (const entry of reply[1] as unknown[]) {
      const where = replyText(entry, operation);
      if (where !== undefined && context.keys.isRecord(kind, where)) yield where;
    }
  } while (cursor !== '0');
}

function duration(value: number | undefined, fallback: number, name: string, minimum: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < minimum) {
    throw invalid(`${name} must be an integer of at least ${minimum} (milliseconds)`);
  }
  return value;
}

function invalid(message: string): OAuthClientError {
  return new OAuthClientError('invalid_options', message);
}
