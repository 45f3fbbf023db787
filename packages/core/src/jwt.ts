/**
 * Compact JWS (RFC 7515) signing and unverified decoding over WebCrypto, for client assertions
 * (RFC 7523) and DPoP proofs (RFC 9449). Only ES256 and RS256 are supported.
 *
 * Error messages are fixed text: they never contain key material, a PEM block or a token.
 */

import type { JwtSigner } from './client-auth.js';
import { base64Decode, base64urlEncode, utf8Decode, utf8Encode } from './encoding.js';
import { oauthError } from './errors.js';
import type { ClientKey } from './session/client-key.js';
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

const SIGN_PARAMETERS: Record<SigningAlgorithm, AlgorithmIdentifier | EcdsaParams> = {
  ES256: { name: 'ECDSA', hash: 'SHA-256' },
  RS256: { name: 'RSASSA-PKCS1-v1_5' },
};

function invalidKey(message: string) {
  return oauthError('invalid_key', message);
}

function isSigningAlgorithm(value: unknown): value is SigningAlgorithm {
  return value === 'ES256' || value === 'RS256';
}

function isCryptoKey(value: unknown): value is CryptoKey {
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
function algorithmOfCryptoKey(key: CryptoKey): SigningAlgorithm | undefined {
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

// --- A minimal DER reader and writer, enough to recognise and wrap private key containers ---

interface DerElement {
  readonly tag: number;
  /** Offset of the first content byte. */
  readonly start: number;
  /** Offset just past the last content byte. */
  readonly end: number;
}

function readDer(bytes: Uint8Array, offset: number, limit = bytes.length): DerElement {
  const tag = bytes[offset];
  const first = bytes[offset + 1];
  if (tag === undefined || first === undefined) throw new TypeError('truncated DER');
  let start = offset + 2;
  let length = first;
  if (first & 0x80) {
    const count = first & 0x7f;
    if (count === 0 || count > 4) throw new TypeError('unsupported DER length');
    length = 0;
    for (let index = 0; index < count; index++) {
      const byte = bytes[start + index];
      if (byte === undefined) throw new TypeError('truncated DER');
      length = length * 256 + byte;
    }
    start += count;
  }
  const end = start + length;
  if (end > limit) throw new TypeError('truncated DER');
  return { tag, start, end };
}

/** The children of a constructed element. */
function readChildren(bytes: Uint8Array, parent: DerElement): DerElement[] {
  const children: DerElement[] = [];
  for (let offset = parent.start; offset < parent.end; ) {
    const child = readDer(bytes, offset, parent.end);
    children.push(child);
    offset = child.end;
  }
  return children;
}

function derLength(length: number): number[] {
  if (length < 0x80) return [length];
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return [0x80 | bytes.length, ...bytes];
}

function derEncode(tag: number, ...contents: Uint8Array[]): Uint8Array {
  const size = contents.reduce((total, part) => total + part.length, 0);
  const header = [tag, ...derLength(size)];
  const out = new Uint8Array(header.length + size);
  out.set(header, 0);
  let offset = header.length;
  for (const part of contents) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

const OID_RSA_ENCRYPTION = Uint8Array.of(0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01);
const OID_EC_PUBLIC_KEY = Uint8Array.of(0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01);
const OID_P256 = Uint8Array.of(0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07);
const DER_NULL = Uint8Array.of(0x05, 0x00);
const DER_INTEGER_ZERO = Uint8Array.of(0x02, 0x01, 0x00);

/** True when `element` is exactly the TLV `expected` (tag, short-form length, content). */
function sameBytes(bytes: Uint8Array, element: DerElement, expected: Uint8Array): boolean {
  if (element.tag !== expected[0] || element.end - element.start !== expected.length - 2) return false;
  for (let index = 2; index < expected.length; index++) {
    if (bytes[element.start + index - 2] !== expected[index]) return false;
  }
  return true;
}

/** Reads the key algorithm from a PKCS#8 `PrivateKeyInfo` (RFC 5208 §5). */
function pkcs8Algorithm(der: Uint8Array): SigningAlgorithm | 'unsupported' {
  const outer = readDer(der, 0);
  if (outer.tag !== 0x30 || outer.end !== der.length) throw new TypeError('not a PKCS#8 structure');
  const [version, algorithmIdentifier] = readChildren(der, outer);
  if (version?.tag !== 0x02 || algorithmIdentifier?.tag !== 0x30)
    throw new TypeError('not a PKCS#8 structure');
  const [oid, parameters] = readChildren(der, algorithmIdentifier);
  if (oid === undefined || oid.tag !== 0x06) throw new TypeError('not a PKCS#8 structure');
  if (sameBytes(der, oid, OID_RSA_ENCRYPTION)) return 'RS256';
  if (sameBytes(der, oid, OID_EC_PUBLIC_KEY)) {
    return parameters !== undefined && sameBytes(der, parameters, OID_P256) ? 'ES256' : 'unsupported';
  }
  return 'unsupported';
}

/** Wraps a SEC1 `ECPrivateKey` (RFC 5915) into PKCS#8, checking its curve is P-256. */
function sec1ToPkcs8(der: Uint8Array): Uint8Array {
  const outer = readDer(der, 0);
  if (outer.tag !== 0x30 || outer.end !== der.length) throw new TypeError('not an ECPrivateKey');
  const children = readChildren(der, outer);
  if (children[0]?.tag !== 0x02 || children[1]?.tag !== 0x04) throw new TypeError('not an ECPrivateKey');
  const parameters = children.find((child) => child.tag === 0xa0);
  if (parameters !== undefined) {
    const [curve] = readChildren(der, parameters);
    if (curve === undefined || !sameBytes(der, curve, OID_P256)) throw new RangeError('unsupported curve');
  }
  const algorithm = derEncode(0x30, OID_EC_PUBLIC_KEY, OID_P256);
  return derEncode(0x30, DER_INTEGER_ZERO, algorithm, derEncode(0x04, der));
}

/** Wraps a PKCS#1 `RSAPrivateKey` (RFC 8017 §A.1.2) into PKCS#8. */
function pkcs1ToPkcs8(der: Uint8Array): Uint8Array {
  const outer = readDer(der, 0);
  if (outer.tag !== 0x30 || outer.end !== der.length) throw new TypeError('not an RSAPrivateKey');
  const children = readChildren(der, outer);
  if (children.length < 9 || children.some((child) => child.tag !== 0x02)) {
    throw new TypeError('not an RSAPrivateKey');
  }
  const algorithm = derEncode(0x30, OID_RSA_ENCRYPTION, DER_NULL);
  return derEncode(0x30, DER_INTEGER_ZERO, algorithm, derEncode(0x04, der));
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

/**
 * Signs a compact JWS. `alg` is set from `algorithm` (a conflicting `header.alg` is an error) and
 * comes first in the header. ES256 signatures are the raw 64-byte `r || s` JWS form.
 */
export async function signJwt(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  key: CryptoKey,
  algorithm: SigningAlgorithm,
): Promise<string> {
  if (!isSigningAlgorithm(algorithm)) throw invalidKey('signing algorithm must be ES256 or RS256');
  if (header.alg !== undefined && header.alg !== algorithm) {
    throw oauthError('invalid_options', 'JWT header "alg" does not match the signing algorithm');
  }
  if (!isCryptoKey(key) || key.type !== 'private' || algorithmOfCryptoKey(key) !== algorithm) {
    throw invalidKey(`signing key cannot be used with ${algorithm}`);
  }
  const { alg: _ignored, ...rest } = header;
  const encodedHeader = base64urlEncode(JSON.stringify({ alg: algorithm, ...rest }));
  const encodedPayload = base64urlEncode(JSON.stringify(payload));
  const signingInput = `${encodedHeader}.${encodedPayload}`;
  let signature: ArrayBuffer;
  try {
    signature = await crypto.subtle.sign(
      SIGN_PARAMETERS[algorithm],
      key,
      utf8Encode(signingInput) as Uint8Array<ArrayBuffer>,
    );
  } catch {
    throw invalidKey(`signing with ${algorithm} failed`);
  }
  if (algorithm === 'ES256' && signature.byteLength !== 64)
    throw invalidKey('ES256 signature has the wrong length');
  return `${signingInput}.${base64urlEncode(signature)}`;
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** The payload of a compact JWS as an object, without verifying anything. Never throws. */
export function decodeJwtPayload(token: string): Record<string, unknown> | undefined {
  if (typeof token !== 'string') return undefined;
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const payload = parts[1] ?? '';
  if (payload.length === 0 || !BASE64URL.test(payload)) return undefined;
  try {
    const value: unknown = JSON.parse(utf8Decode(base64Decode(payload)));
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    return value as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** A {@link JwtSigner} over an imported key, for client assertions (`private_key_jwt`) and ID-JAG requests. */
export function jwtSigner(key: SigningKey): JwtSigner {
  return {
    algorithm: key.algorithm,
    keyId: key.keyId,
    sign: (header, payload) => signJwt(header, payload, key.key, key.algorithm),
  };
}

/**
 * `private_key_jwt` client authentication for a session's `clientKey` option: the key is imported
 * on first use (a PKCS#8/SEC1/PKCS#1 PEM, a private JWK or a CryptoKey), then signs every assertion.
 */
export function privateKeyJwt(options: {
  readonly privateKey: PrivateKeyInput;
  readonly keyId?: string;
  readonly algorithm?: SigningAlgorithm;
}): ClientKey {
  let imported: Promise<JwtSigner> | undefined;
  return {
    signer() {
      imported ??= importSigningKey(options.privateKey, {
        algorithm: options.algorithm,
        keyId: options.keyId,
      }).then(jwtSigner, (error: unknown) => {
        imported = undefined; // a failed import is tried again next time
        throw error;
      });
      return imported;
    },
  };
}
