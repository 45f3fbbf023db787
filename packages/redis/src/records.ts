/**
 * Where each record lives in Redis and how it is written there.
 *
 * ```
 * <prefix>:tokens:{<sha256(token key)>}         tokens for one (issuer, resource, client)
 * <prefix>:tokens:{<sha256(token key)>}:lease   present while a process renews those tokens
 * <prefix>:tokens:{<sha256(token key)>}:fence   the number of the last lease granted on them
 * <prefix>:clients:<sha256(issuer)>             the client registered with one authorization server
 * <prefix>:discovery:<sha256(server URL)>       what discovery learned about one MCP server
 * <prefix>:pending:<sha256(state)>              an authorization in progress; expires with it
 * ```
 *
 * Each value is JSON: `{ "v": 1, "key": …, "value": … }`, or with encryption
 * `{ "v": 1, "key": …, "sealed": "<key id>.<iv>.<ciphertext>" }` for tokens, clients and pending
 * authorizations (discovery records are public metadata and stay readable). `key` is the engine's
 * key (issuer, resource and client; an issuer; a server URL; a state's hash for pending records),
 * so a record says what it belongs to.
 */
import { createHash } from 'node:crypto';
import type { Sealer } from './encryption.js';
import { storeFailed } from './errors.js';

export type RecordKind = 'tokens' | 'clients' | 'discovery' | 'pending';

const FORMAT_VERSION = 1;
const SECRET_KINDS: ReadonlySet<RecordKind> = new Set(['tokens', 'clients', 'pending']);

export function hashOf(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

export interface TokenKeys {
  readonly record: string;
  readonly lease: string;
  readonly fence: string;
}

export class KeySpace {
  readonly prefix: string;

  constructor(prefix: string) {
    this.prefix = prefix;
  }

  of(kind: RecordKind, key: string): string {
    const hash = hashOf(key);
    return kind === 'tokens' ? `${this.prefix}:tokens:{${hash}}` : `${this.prefix}:${kind}:${hash}`;
  }

  tokens(key: string): TokenKeys {
    const record = this.of('tokens', key);
    return { record, lease: `${record}:lease`, fence: `${record}:fence` };
  }

  /** The pattern of one kind's records (SCAN), and whether a key found by it is a record. */
  pattern(kind: RecordKind): string {
    return `${this.prefix}:${kind}:*`;
  }

  isRecord(kind: RecordKind, redisKey: string): boolean {
    return kind !== 'tokens' || !(redisKey.endsWith(':lease') || redisKey.endsWith(':fence'));
  }
}

interface Envelope {
  readonly v: typeof FORMAT_VERSION;
  readonly key: string;
  readonly value?: unknown;
  readonly sealed?: string;
}

/** Turns records into Redis values and back, sealing the secret kinds when a sealer is given. */
export class RecordCodec {
  readonly #sealer: Sealer | undefined;

  constructor(sealer: Sealer | undefined) {
    this.#sealer = sealer;
  }

  get encrypts(): boolean {
    return this.#sealer !== undefined;
  }

  async encode(kind: RecordKind, key: string, value: unknown): Promise<string> {
    const recordKey = kind === 'pending' ? hashOf(key) : key;
    if (this.#sealer === undefined || !SECRET_KINDS.has(kind)) {
      return JSON.stringify({ v: FORMAT_VERSION, key: recordKey, value } satisfies Envelope);
    }
    const sealed = await this.#sealer.seal(JSON.stringify(value), context(kind, recordKey));
    return JSON.stringify({ v: FORMAT_VERSION, key: recordKey, sealed } satisfies Envelope);
  }

  /** The record; `store_failed` naming `where` (the Redis key) when it is damaged or foreign. */
  async decode<T>(kind: RecordKind, key: string, text: string, where: string): Promise<T> {
    const recordKey = kind === 'pending' ? hashOf(key) : key;
    const envelope = parseEnvelope(text);
    if (envelope === undefined || envelope.key !== recordKey) throw corrupt(where);
    let value: unknown = envelope.value;
    if (SECRET_KINDS.has(kind) && this.#sealer !== undefined) {
      if (typeof envelope.sealed !== 'string') {
        throw storeFailed(
          `the record ${where} is not encrypted although encryption is configured; ` +
            'run reencrypt() once to encrypt the records written before',
        );
      }
      const plaintext = await this.#sealer.open(envelope.sealed, context(kind, recordKey), where);
      try {
        value = JSON.parse(plaintext);
      } catch {
        throw corrupt(where);
      }
    } else if (envelope.sealed !== undefined) {
      throw storeFailed(`the record ${where} is encrypted, but no encryption keys are configured`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw corrupt(where);
    return value as T;
  }

  /**
   * For `reencrypt`: the value sealed with the current key, or `undefined` when it already is.
   * Throws like `decode` for records that cannot be read.
   */
  async reseal(kind: RecordKind, text: string, where: string): Promise<string | undefined> {
    const sealer = this.#sealer;
    if (sealer === undefined || !SECRET_KINDS.has(kind)) return undefined;
    const envelope = parseEnvelope(text);
    if (envelope === undefined) throw corrupt(where);
    if (typeof envelope.sealed === 'string' && sealer.isCurrent(envelope.sealed)) return undefined;
    const value =
      typeof envelope.sealed === 'string'
        ? await sealer.open(envelope.sealed, context(kind, envelope.key), where)
        : JSON.stringify(envelope.value);
    const sealed = await sealer.seal(value, context(kind, envelope.key));
    return JSON.stringify({ v: FORMAT_VERSION, key: envelope.key, sealed } satisfies Envelope);
  }
}

function parseEnvelope(text: string): Envelope | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { v, key, value, sealed } = parsed as Record<string, unknown>;
  if (v !== FORMAT_VERSION || typeof key !== 'string') return undefined;
  if ((value === undefined) === (sealed === undefined)) return undefined;
  if (sealed !== undefined && typeof sealed !== 'string') return undefined;
  return { v, key, value, ...(sealed === undefined ? {} : { sealed }) } as Envelope;
}

/** Binds a sealed value to its place: the same ciphertext under another key does not open. */
function context(kind: RecordKind, recordKey: string): string {
  return `@mcp-oauth/redis\n${FORMAT_VERSION}\n${kind}\n${recordKey}`;
}

function corrupt(where: string) {
  return storeFailed(`the Redis record ${where} is corrupt or belongs to another key; delete it`);
}
