/**
 * Importing private keys for JWS signing (ES256 and RS256 only) over WebCrypto: a PEM block (its
 * DER container read by `der.ts`), a private JWK or a `CryptoKey`, each checked for the algorithm,
 * the `sign` usage and, for RSA, at least 2048 bits.
 *
 * Error messages are fixed text: they never contain key material or a PEM block.
 */

import { pkcs1ToPkcs8, pkcs8Algorithm, sec1ToPkcs8 } from './der.js';
import { base64Decode } from './encoding.js';
import { oauthError } from './errors.js';
import type { CryptoKey, JsonWebKey } from './web-crypto.js';

export type SigningAlgorithm = 'ES256' | 'RS256';

/**
 * A private key: a PEM string (PKCS#8 `PRIVATE KEY`, SEC1 `EC PRIVATE KEY` or PKCS#1
 * `RSA PRIVATE KEY`; not encrypted), a private JWK, or a WebCrypto `CryptoKey` that can sign.
 */
export type PrivateKeyInput = string | JsonWebKey | CryptoKey;

export interface SigningKey {
  readonly key: CryptoKey;
  readonly algorithm: SigningAlgorithm;
  readonly keyId?: string;
}

export interface ImportSigningKeyOptions {
  /** The algorithm the key must be used with; inferred from the key when omitted. */
  readonly algorithm?: SigningAlgorithm | undefined;
  /** `kid` for JWT headers; defaults to a JWK's own `kid`. */
  readonly keyId?: string | undefined;
}

/** RFC 7518 §3.3: RSA keys for RS256 must be at least 2048 bits. */
const MINIMUM_RSA_MODULUS_BITS = 2048;

const IMPORT_PARAMETERS: Record<SigningAlgorithm, EcKeyImportParams | RsaHashedImportParams> = {
  ES256: { name: 'ECDSA', namedCurve: 'P-256' },
  RS256: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
};

export function invalidKey(message: string) {
  return oauthError('invalid_key', message);
}

export function isSigningAlgorithm(value: unknown): value is SigningAlgorithm {
  return value === 'ES256' || value === 'RS256';
}

export function isCryptoKey(value: unknown): value is CryptoKey {
  if (typeof value !== 'object' || value === null) return false;
  if (typeof globalThis.CryptoKey === 'function' && value instanceof globalThis.CryptoKey) return true;
  const candidate = value as Partial<CryptoKey> & { kty?: unknown };
  return (
    candidate.kty === undefined &&
    typeof candidate.type === 'string' &&
    typeof candidate.algorithm === 'object' &&
    candidate.algorithm !== null &&
    Array.isArray(candidate.usages)
  );
}

/** The JWS algorithm a WebCrypto key signs with, or `undefined` when it is not ES256 or RS256. */
export function algorithmOfCryptoKey(key: CryptoKey): SigningAlgorithm | undefined {
  const algorithm = key.algorithm as Partial<EcKeyAlgorithm & RsaHashedKeyAlgorithm>;
  if (algorithm.name === 'ECDSA' && algorithm.namedCurve === 'P-256') return 'ES256';
  if (algorithm.name === 'RSASSA-PKCS1-v1_5' && algorithm.hash?.name === 'SHA-256') return 'RS256';
  return undefined;
}

function checkExpected(inferred: SigningAlgorithm, expected: SigningAlgorithm | undefined): SigningAlgorithm {
  if (expected !== undefined && expected !== inferred) {
    throw invalidKey(`private key is for ${inferred}, not ${expected}`);
  }
  return inferred;
}

function checkImportedKey(key: CryptoKey, algorithm: SigningAlgorithm): CryptoKey {
  if (key.type !== 'private') throw invalidKey('signing key must be a private key');
  if (!key.usages.includes('sign')) throw invalidKey('signing key must allow the "sign" usage');
  if (algorithmOfCryptoKey(key) !== algorithm)
    throw invalidKey(`signing key cannot be used with ${algorithm}`);
  if (algorithm === 'RS256') {
    const modulusLength = (key.algorithm as RsaHashedKeyAlgorithm).modulusLength;
    if (typeof modulusLength !== 'number' || modulusLength < MINIMUM_RSA_MODULUS_BITS) {
      throw invalidKey(`RSA signing keys must be at least ${MINIMUM_RSA_MODULUS_BITS} bits`);
    }
  }
  return key;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/;

async function importPem(pem: string, expected: SigningAlgorithm | undefined): Promise<SigningKey> {
  const match = PEM_BLOCK.exec(pem);
  if (match === null) throw invalidKey('private key string must be a PEM block');
  const label = match[1] ?? '';
  const body = match[2] ?? '';
  if (label === 'ENCRYPTED PRIVATE KEY' || body.includes(':')) {
    throw invalidKey(
      'encrypted private keys are not supported; decrypt the key to PKCS#8 "PRIVATE KEY" first',
    );
  }
  if (label !== 'PRIVATE KEY' && label !== 'EC PRIVATE KEY' && label !== 'RSA PRIVATE KEY') {
    throw invalidKey(
      'PEM block must be a private key ("PRIVATE KEY", "EC PRIVATE KEY" or "RSA PRIVATE KEY")',
    );
  }
  let pkcs8: Uint8Array;
  let algorithm: SigningAlgorithm;
  try {
    const der = base64Decode(body);
    if (label === 'PRIVATE KEY') {
      const found = pkcs8Algorithm(der);
      if (found === 'unsupported') {
        throw invalidKey(
          'private key type is not supported; use a P-256 EC key (ES256) or an RSA key (RS256)',
        );
      }
      pkcs8 = der;
      algorithm = found;
    } else if (label === 'EC PRIVATE KEY') {
      pkcs8 = sec1ToPkcs8(der);
      algorithm = 'ES256';
    } else {
      pkcs8 = pkcs1ToPkcs8(der);
      algorithm = 'RS256';
    }
  } catch (error) {
    if (error instanceof RangeError) {
      throw invalidKey('EC private key must be on the P-256 curve; convert the key to PKCS#8 if it is');
    }
    if (error instanceof TypeError) {
      throw invalidKey(`"${label}" PEM block is malformed; convert the key to PKCS#8 "PRIVATE KEY"`);
    }
    throw error;
  }
  checkExpected(algorithm, expected);
  let key: CryptoKey;
  try {
    key = await crypto.subtle.importKey(
      'pkcs8',
      pkcs8 as Uint8Array<ArrayBuffer>,
      IMPORT_PARAMETERS[algorithm],
      false,
      ['sign'],
    );
  } catch {
    throw invalidKey(`${algorithm} private key could not be imported`);
  }
  return { key: checkImportedKey(key, algorithm), algorithm };
}

const EC_PRIVATE_FIELDS = ['kty', 'crv', 'x', 'y', 'd'] as const;
const RSA_PRIVATE_FIELDS = ['kty', 'n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi'] as const;

async function importJwk(jwk: JsonWebKey, expected: SigningAlgorithm | undefined): Promise<SigningKey> {
  let inferred: SigningAlgorithm;
  let fields: readonly string[];
  if (jwk.kty === 'EC') {
    if (jwk.crv !== 'P-256') throw invalidKey('EC JWK must use the P-256 curve');
    inferred = 'ES256';
    fields = EC_PRIVATE_FIELDS;
  } else if (jwk.kty === 'RSA') {
    inferred = 'RS256';
    fields = RSA_PRIVATE_FIELDS;
  } else {
    throw invalidKey('JWK "kty" must be "EC" or "RSA"');
  }
  if (typeof jwk.d !== 'string' || jwk.d.length === 0)
    throw invalidKey('JWK must be a private key (with "d")');
  if (jwk.alg !== undefined && jwk.alg !== inferred) throw invalidKey(`JWK "alg" does not match ${inferred}`);
  if (jwk.use !== undefined && jwk.use !== 'sig') throw invalidKey('JWK "use" must be "sig"');
  const algorithm = checkExpected(inferred, expected);
  // Only the key fields go to WebCrypto, so `key_ops`, `ext` and the like cannot make the import fail.
  const clean: Record<string, unknown> = {};
  for (const field of fields) {
    const value = (jwk as Record<string, unknown>)[field];
    if (value !== undefined) clean[field] = value;
  }
  let key: CryptoKey;
  try {
    key = await crypto.subtle.importKey('jwk', clean as JsonWebKey, IMPORT_PARAMETERS[algorithm], false, [
      'sign',
    ]);
  } catch {
    throw invalidKey(`${algorithm} JWK could not be imported`);
  }
  return { key: checkImportedKey(key, algorithm), algorithm };
}

/**
 * Imports a private key for signing JWTs. The algorithm is inferred from the key (a P-256 EC key
 * is ES256, an RSA key RS256) and checked against `options.algorithm` when given.
 * Throws `invalid_key` when the key is unusable; messages never include key material.
 */
export async function importSigningKey(
  input: PrivateKeyInput,
  options: ImportSigningKeyOptions = {},
): Promise<SigningKey> {
  const expected = options.algorithm;
  if (expected !== undefined && !isSigningAlgorithm(expected)) {
    throw invalidKey('signing algorithm must be ES256 or RS256');
  }
  let imported: SigningKey;
  let keyId = options.keyId;
  if (typeof input === 'string') {
    imported = await importPem(input, expected);
  } else if (isCryptoKey(input)) {
    const inferred = algorithmOfCryptoKey(input);
    if (inferred === undefined) {
      throw invalidKey('CryptoKey must be ECDSA P-256 (ES256) or RSASSA-PKCS1-v1_5 with SHA-256 (RS256)');
    }
    const algorithm = checkExpected(inferred, expected);
    imported = { key: checkImportedKey(input, algorithm), algorithm };
  } else if (typeof input === 'object' && input !== null) {
    imported = await importJwk(input, expected);
    const kid = (input as { kid?: unknown }).kid;
    if (keyId === undefined && typeof kid === 'string' && kid.length > 0) keyId = kid;
  } else {
    throw invalidKey('private key must be a PEM string, a JWK or a CryptoKey');
  }
  if (keyId !== undefined && (typeof keyId !== 'string' || keyId.length === 0)) {
    throw invalidKey('key id must be a non-empty string');
  }
  return keyId === undefined ? imported : { ...imported, keyId };
}
