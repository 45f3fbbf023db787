/**
 * The two WebCrypto types core's public declarations mention, declared here so that they compile
 * without `lib: dom` (a Node project with `skipLibCheck: false` has no global `CryptoKey` or
 * `JsonWebKey`). Modules that use them import these names, which stand in for the globals.
 */

/**
 * What every WebCrypto key has (W3C Web Cryptography API, the `CryptoKey` interface): enough to
 * accept a key from any implementation where the environment declares no `CryptoKey` class.
 */
export interface CryptoKeyStructure {
  readonly type: 'private' | 'public' | 'secret';
  readonly extractable: boolean;
  readonly algorithm: { readonly name: string };
  readonly usages: readonly string[];
}

/**
 * The environment's own `CryptoKey` class where its types declare one (`lib: dom`, or Node types
 * with a global `CryptoKey`), else {@link CryptoKeyStructure}. Resolved in the consumer's project.
 */
export type CryptoKey = typeof globalThis extends { readonly CryptoKey: { readonly prototype: infer Key } }
  ? Key
  : CryptoKeyStructure;

/** An RSA "other prime" (RFC 7518 §6.3.2.7), a member of {@link JsonWebKey}. */
export interface RsaOtherPrimesInfo {
  d?: string;
  r?: string;
  t?: string;
}

/** The WebCrypto `JsonWebKey` dictionary: the JWK members of RFC 7517 and RFC 7518 §6. */
export interface JsonWebKey {
  alg?: string;
  crv?: string;
  d?: string;
  dp?: string;
  dq?: string;
  e?: string;
  ext?: boolean;
  k?: string;
  key_ops?: string[];
  kty?: string;
  n?: string;
  oth?: RsaOtherPrimesInfo[];
  p?: string;
  q?: string;
  qi?: string;
  use?: string;
  x?: string;
  y?: string;
}
