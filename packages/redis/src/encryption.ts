/**
 * Optional encryption of the records that hold secrets (tokens, client registrations, pending
 * authorizations) with AES-256-GCM through WebCrypto. A sealed value is
 * `<key id>.<iv>.<ciphertext and tag>` (base64url), so each record names the key it needs and the
 * application can rotate keys: the first key seals, every listed key opens. The record's store and
 * key are the additional authenticated data, so a sealed value moved to another key does not open.
 */
import { OAuthClientError } from '@mcp-oauth/core';

/**
 * The environment's `CryptoKey` where its types declare one (`lib: dom`, or Node types with the
 * global), else the structure of one: the declarations then compile without `lib: dom`.
 */
type CryptoKey = typeof globalThis extends { readonly CryptoKey: { readonly prototype: infer Key } }
  ? Key
  : {
      readonly type: 'private' | 'public' | 'secret';
      readonly extractable: boolean;
      readonly algorithm: { readonly name: string };
      readonly usages: readonly string[];
    };

export interface RedisEncryptionKey {
  /** Names the key inside each sealed value: 1–64 of `A–Z a–z 0–9 . _ -`. Never reuse an id. */
  readonly id: string;
  /** 32 random bytes (AES-256), or an AES-GCM `CryptoKey` allowed to encrypt and decrypt. */
  readonly key: Uint8Array | CryptoKey;
}

export interface RedisEncryptionOptions {
  /** The first key seals new records; all of them open existing ones. At least one. */
  readonly keys: readonly RedisEncryptionKey[];
}

const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;
const IV_BYTES = 12;
const SEALED = /^([A-Za-z0-9._-]{1,64})\.([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{22,})$/;

export class Sealer {
  readonly #keys: ReadonlyMap<string, Uint8Array | CryptoKey>;
  readonly #imported = new Map<string, Promise<CryptoKey>>();
  readonly currentKeyId: string;

  constructor(options: RedisEncryptionOptions) {
    if (!Array.isArray(options?.keys) || options.keys.length === 0) {
      throw invalid('encryption.keys must list at least one key');
    }
    const keys = new Map<string, Uint8Array | CryptoKey>();
    for (const entry of options.keys) {
      if (typeof entry?.id !== 'string' || !KEY_ID.test(entry.id)) {
        throw invalid('each encryption key needs an "id" of 1 to 64 letters, digits, ".", "_" or "-"');
      }
      if (keys.has(entry.id)) throw invalid('encryption key ids must be unique');
      checkKeyMaterial(entry.key);
      keys.set(entry.id, entry.key);
    }
    this.#keys = keys;
    this.currentKeyId = options.keys[0]!.id;
  }

  /** Whether `sealed` was sealed with the key that seals now. */
  isCurrent(sealed: string): boolean {
    return SEALED.exec(sealed)?.[1] === this.currentKeyId;
  }

  async seal(plaintext: string, context: string): Promise<string> {
    const iv = globalThis.crypto.getRandomValues(new Uint8Array(IV_BYTES));
    const key = await this.#key(this.currentKeyId);
    const ciphertext = await globalThis.crypto.subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: encode(context) },
      key,
      encode(plaintext),
    );
    return `${this.currentKeyId}.${base64url(iv)}.${base64url(new Uint8Array(ciphertext))}`;
  }

  /** The plaintext, or `store_failed` naming `where` (a Redis key) and the key id, never content. */
  async open(sealed: string, context: string, where: string): Promise<string> {
    const parts = SEALED.exec(sealed);
    if (parts === null) throw failed(`the encrypted record ${where} is malformed; delete it`);
    const [, id, iv, data] = parts as unknown as [string, string, string, string];
    if (!this.#keys.has(id)) {
      throw failed(
        `the record ${where} was encrypted with key "${id}", which is not among the configured encryption keys`,
      );
    }
    let plaintext: ArrayBuffer;
    try {
      plaintext = await globalThis.crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: fromBase64url(iv), additionalData: encode(context) },
        await this.#key(id),
        fromBase64url(data),
      );
    } catch (error) {
      if (isStoreFailed(error)) throw error;
      throw failed(
        `the record ${where} does not decrypt with key "${id}" (a different key under that id, or a damaged or moved record)`,
      );
    }
    return new TextDecoder().decode(plaintext);
  }

  #key(id: string): Promise<CryptoKey> {
    let imported = this.#imported.get(id);
    if (imported === undefined) {
      imported = importKey(this.#keys.get(id)!);
      // A failed import is reported to each caller, not cached.
      imported.catch(() => this.#imported.delete(id));
      this.#imported.set(id, imported);
    }
    return imported;
  }
}

function checkKeyMaterial(key: unknown): void {
  if (key instanceof Uint8Array) {
    if (key.byteLength !== 32) throw invalid('a raw encryption key must be 32 bytes (AES-256)');
    return;
  }
  if (isCryptoKey(key)) {
    if (key.algorithm.name !== 'AES-GCM' || key.type !== 'secret') {
      throw invalid('an encryption CryptoKey must be an AES-GCM secret key');
    }
    if (!key.usages.includes('encrypt') || !key.usages.includes('decrypt')) {
      throw invalid('an encryption CryptoKey must allow "encrypt" and "decrypt"');
    }
    return;
  }
  throw invalid('each encryption key needs a "key": 32 bytes or an AES-GCM CryptoKey');
}

async function importKey(key: Uint8Array | CryptoKey): Promise<CryptoKey> {
  if (isCryptoKey(key)) return key;
  try {
    // A copy: the application may reuse or wipe its buffer.
    return await globalThis.crypto.subtle.importKey('raw', new Uint8Array(key), 'AES-GCM', false, [
      'encrypt',
      'decrypt',
    ]);
  } catch {
    throw failed('an encryption key could not be imported (WebCrypto AES-GCM is required)');
  }
}

function isCryptoKey(value: unknown): value is CryptoKey {
  return typeof CryptoKey !== 'undefined' && value instanceof CryptoKey;
}

function isStoreFailed(error: unknown): error is OAuthClientError {
  return (error as { code?: unknown } | null)?.code === 'store_failed';
}

function invalid(message: string): OAuthClientError {
  return new OAuthClientError('invalid_options', message);
}

function failed(message: string): OAuthClientError {
  return new OAuthClientError('store_failed', message);
}

function encode(text: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(text);
}

function base64url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url');
}

function fromBase64url(text: string): Uint8Array<ArrayBuffer> {
  const buffer = Buffer.from(text, 'base64url');
  const bytes = new Uint8Array(buffer.byteLength);
  bytes.set(buffer);
  return bytes;
}
