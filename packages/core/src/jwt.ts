/**
 * Compact JWS (RFC 7515) signing and unverified decoding over WebCrypto, for client assertions
 * (RFC 7523) and ID-JAG requests: `signJwt`, `jwtSigner` over an imported key, and
 * `privateKeyJwt` for a session's `clientKey`. Keys are imported in `signing-key.ts`.
 *
 * Error messages are fixed text: they never contain key material or a token.
 */
import type { JwtSigner } from './client-auth.js';
import { base64Decode, base64urlEncode, utf8Decode, utf8Encode } from './encoding.js';
import { oauthError } from './errors.js';
import type { ClientKey } from './session/client-key.js';
import {
  algorithmOfCryptoKey,
  importSigningKey,
  invalidKey,
  isCryptoKey,
  isSigningAlgorithm,
  type PrivateKeyInput,
  type SigningAlgorithm,
  type SigningKey,
} from './signing-key.js';
import type { CryptoKey } from './web-crypto.js';

const SIGN_PARAMETERS: Record<SigningAlgorithm, AlgorithmIdentifier | EcdsaParams> = {
  ES256: { name: 'ECDSA', hash: 'SHA-256' },
  RS256: { name: 'RSASSA-PKCS1-v1_5' },
};

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
  return decodeJwtPart(token, 1);
}

/** Part `index` of a compact JWS (0: the JOSE header, 1: the payload) as an object, unverified. Never throws. */
export function decodeJwtPart(token: string, index: 0 | 1): Record<string, unknown> | undefined {
  if (typeof token !== 'string') return undefined;
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const part = parts[index] ?? '';
  if (part.length === 0 || !BASE64URL.test(part)) return undefined;
  try {
    const value: unknown = JSON.parse(utf8Decode(base64Decode(part)));
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
