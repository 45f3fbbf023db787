/**
 * DPoP (RFC 9449) with ES256 keys: key generation and persistence, proof JWTs, JWK thumbprints
 * (RFC 7638) and a small per-origin store for server-provided nonces. WebCrypto only.
 */
import { base64urlEncode, randomToken, sha256, utf8Encode } from './encoding.js';
import { isOAuthClientError, OAuthClientError, oauthError } from './errors.js';
import type { DpopSupport } from './session/dpop-support.js';
import type { DpopProofSource } from './token.js';
import { readOAuthErrorCode } from './token-response.js';
import { tryParseUrl } from './url.js';
import type { CryptoKey, JsonWebKey } from './web-crypto.js';

export interface DpopKey {
  readonly privateKey: CryptoKey;
  /** The public key as a JWK with only `kty`, `crv`, `x` and `y`. */
  readonly publicJwk: JsonWebKey;
  /** RFC 7638 SHA-256 thumbprint of `publicJwk`, base64url: the `dpop_jkt` and `cnf.jkt` value. */
  readonly thumbprint: string;
}

export interface DpopKeyPair {
  readonly publicJwk: JsonWebKey;
  readonly privateJwk: JsonWebKey;
}

export interface DpopProofInput {
  /** HTTP method of the request the proof goes with. */
  readonly method: string;
  /** Target URL of the request; query and fragment are left out of `htu`. */
  readonly url: string;
  /** Milliseconds since the epoch. */
  readonly now: number;
  /** The latest `DPoP-Nonce` the server sent, if any. */
  readonly nonce?: string | undefined;
  /** The access token the request carries; adds `ath` (requests to resource servers). */
  readonly accessToken?: string | undefined;
}

const ALGORITHM: EcKeyGenParams & EcKeyImportParams = { name: 'ECDSA', namedCurve: 'P-256' };
const SIGNATURE: EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' };
/** A P-256 coordinate or private scalar: 32 bytes as unpadded base64url. */
const P256_COMPONENT = /^[A-Za-z0-9_-]{43}$/;
/** RFC 9110 `token`, the syntax of an HTTP method. */
const HTTP_METHOD = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** RFC 9449 §8.1: `nonce = 1*NQCHAR`, NQCHAR = %x21 / %x23-5B / %x5D-7E. */
const NONCE = /^[\x21\x23-\x5B\x5D-\x7E]{1,512}$/;

function invalidKey(message = 'DPoP key must be an extractable P-256 ECDSA key pair'): OAuthClientError {
  return oauthError('invalid_key', message);
}

function publicPart(jwk: JsonWebKey): JsonWebKey {
  if (
    jwk.kty !== 'EC' ||
    jwk.crv !== 'P-256' ||
    typeof jwk.x !== 'string' ||
    typeof jwk.y !== 'string' ||
    !P256_COMPONENT.test(jwk.x) ||
    !P256_COMPONENT.test(jwk.y)
  ) {
    throw invalidKey('DPoP public key must be a P-256 EC JWK');
  }
  return { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y };
}

/**
 * RFC 7638 thumbprint: SHA-256 over the required members in lexicographic order, no whitespace.
 * EC (`crv`, `kty`, `x`, `y`), RSA (`e`, `kty`, `n`) and OKP (`crv`, `kty`, `x`) keys.
 */
export async function computeJwkThumbprint(jwk: JsonWebKey): Promise<string> {
  if (typeof jwk !== 'object' || jwk === null) throw invalidKey('JWK must be an object');
  const text = (value: unknown): string => {
    if (typeof value !== 'string' || value.length === 0) throw invalidKey('JWK is missing a required member');
    return value;
  };
  let canonical: string;
  switch (jwk.kty) {
    case 'EC':
      canonical = JSON.stringify({ crv: text(jwk.crv), kty: 'EC', x: text(jwk.x), y: text(jwk.y) });
      break;
    case 'RSA':
      canonical = JSON.stringify({ e: text(jwk.e), kty: 'RSA', n: text(jwk.n) });
      break;
    case 'OKP':
      canonical = JSON.stringify({ crv: text(jwk.crv), kty: 'OKP', x: text(jwk.x) });
      break;
    default:
      throw invalidKey('JWK "kty" must be EC, RSA or OKP');
  }
  return base64urlEncode(await sha256(canonical));
}

/** A new ES256 key. The private key is extractable so that it can be persisted with {@link exportDpopKey}. */
export async function generateDpopKey(): Promise<DpopKey> {
  let pair: CryptoKeyPair;
  let exported: JsonWebKey;
  try {
    pair = await crypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
    exported = await crypto.subtle.exportKey('jwk', pair.publicKey);
  } catch {
    throw oauthError('dpop_failed', 'could not generate a DPoP key');
  }
  const publicJwk = publicPart(exported);
  return { privateKey: pair.privateKey, publicJwk, thumbprint: await computeJwkThumbprint(publicJwk) };
}

/** Both halves as JWKs for storage. The private JWK holds the key itself: store it as a secret. */
export async function exportDpopKey(
  key: DpopKey,
): Promise<{ publicJwk: JsonWebKey; privateJwk: JsonWebKey }> {
  let exported: JsonWebKey;
  try {
    exported = await crypto.subtle.exportKey('jwk', key.privateKey);
  } catch {
    throw invalidKey('DPoP private key is not extractable');
  }
  const publicJwk = publicPart(key.publicJwk);
  if (typeof exported.d !== 'string' || exported.x !== publicJwk.x || exported.y !== publicJwk.y) {
    throw invalidKey('DPoP private key does not belong to its public key');
  }
  return { publicJwk, privateJwk: { ...publicJwk, d: exported.d } };
}

/** Restores a key saved by {@link exportDpopKey}; anything else is `invalid_key`. */
export async function importDpopKey(pair: DpopKeyPair): Promise<DpopKey> {
  if (typeof pair !== 'object' || pair === null) throw invalidKey();
  const { publicJwk: publicInput, privateJwk: privateInput } = pair;
  if (typeof publicInput !== 'object' || publicInput === null) throw invalidKey();
  if (typeof privateInput !== 'object' || privateInput === null) throw invalidKey();
  const publicJwk = publicPart(publicInput);
  const privatePublic = publicPart(privateInput);
  if (privatePublic.x !== publicJwk.x || privatePublic.y !== publicJwk.y) {
    throw invalidKey('DPoP private key does not belong to its public key');
  }
  if (typeof privateInput.d !== 'string' || !P256_COMPONENT.test(privateInput.d)) {
    throw invalidKey('DPoP private key must be a P-256 EC JWK with "d"');
  }
  let privateKey: CryptoKey;
  try {
    privateKey = await crypto.subtle.importKey('jwk', { ...publicJwk, d: privateInput.d }, ALGORITHM, true, [
      'sign',
    ]);
    // Not every runtime checks that `d` matches `x`/`y` on import: prove it with a signature.
    const publicKey = await crypto.subtle.importKey('jwk', publicJwk, ALGORITHM, false, ['verify']);
    const probe = utf8Encode('dpop key check');
    const signature = await crypto.subtle.sign(SIGNATURE, privateKey, probe as Uint8Array<ArrayBuffer>);
    if (!(await crypto.subtle.verify(SIGNATURE, publicKey, signature, probe as Uint8Array<ArrayBuffer>))) {
      throw invalidKey('DPoP private key does not belong to its public key');
    }
  } catch (error) {
    if (error instanceof OAuthClientError) throw error;
    throw invalidKey();
  }
  return { privateKey, publicJwk, thumbprint: await computeJwkThumbprint(publicJwk) };
}

/** `htu`: the request's URL without query and fragment (RFC 9449 §4.2). */
function targetUri(value: string): string {
  const url = typeof value === 'string' ? tryParseUrl(value) : undefined;
  if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw oauthError('invalid_options', 'DPoP proof "url" must be an absolute http(s) URL');
  }
  return `${url.origin}${url.pathname}`;
}

/** A DPoP proof JWT (RFC 9449 §4) for one request. */
export async function createDpopProof(key: DpopKey, input: DpopProofInput): Promise<string> {
  if (typeof input.method !== 'string' || !HTTP_METHOD.test(input.method)) {
    throw oauthError('invalid_options', 'DPoP proof "method" must be an HTTP method');
  }
  const htu = targetUri(input.url);
  if (!Number.isFinite(input.now)) throw oauthError('invalid_options', 'DPoP proof "now" must be a number');
  if (input.nonce !== undefined && (typeof input.nonce !== 'string' || !NONCE.test(input.nonce))) {
    throw oauthError('invalid_options', 'DPoP proof "nonce" must be 1 to 512 NQCHAR characters');
  }
  if (
    input.accessToken !== undefined &&
    (typeof input.accessToken !== 'string' || input.accessToken.length === 0)
  ) {
    throw oauthError('invalid_options', 'DPoP proof "accessToken" must be a non-empty string');
  }

  const header = { typ: 'dpop+jwt', alg: 'ES256', jwk: publicPart(key.publicJwk) };
  const payload: Record<string, string | number> = {
    jti: randomToken(16),
    htm: input.method.toUpperCase(),
    htu,
    iat: Math.floor(input.now / 1000),
  };
  if (input.nonce !== undefined) payload.nonce = input.nonce;
  if (input.accessToken !== undefined) payload.ath = base64urlEncode(await sha256(input.accessToken));

  const signingInput = `${base64urlEncode(JSON.stringify(header))}.${base64urlEncode(JSON.stringify(payload))}`;
  let signature: ArrayBuffer;
  try {
    // WebCrypto ECDSA signatures are already r || s (IEEE P1363), the JWS ES256 form.
    signature = await crypto.subtle.sign(
      SIGNATURE,
      key.privateKey,
      utf8Encode(signingInput) as Uint8Array<ArrayBuffer>,
    );
  } catch {
    throw oauthError('dpop_failed', 'could not sign the DPoP proof');
  }
  return `${signingInput}.${base64urlEncode(signature)}`;
}

/** True when `value` may be sent as a DPoP nonce: 1–512 characters of RFC 9449 NQCHAR. */
export function isDpopNonce(value: unknown): value is string {
  return typeof value === 'string' && NONCE.test(value);
}

/**
 * The latest `DPoP-Nonce` per origin (authorization and resource servers keep separate nonces).
 * Holds at most `maxOrigins` origins, dropping the one updated longest ago. Values that are not
 * 1–512 visible ASCII characters (without `"` and `\`) are ignored.
 */
export class DpopNonceStore {
  readonly #nonces = new Map<string, string>();
  readonly #maxOrigins: number;

  constructor(options: { maxOrigins?: number } = {}) {
    const maxOrigins = options.maxOrigins ?? 100;
    if (!Number.isInteger(maxOrigins) || maxOrigins < 1) {
      throw oauthError('invalid_options', 'DPoP nonce store "maxOrigins" must be a positive integer');
    }
    this.#maxOrigins = maxOrigins;
  }

  get size(): number {
    return this.#nonces.size;
  }

  get(url: string): string | undefined {
    const origin = originOf(url);
    return origin === undefined ? undefined : this.#nonces.get(origin);
  }

  set(url: string, nonce: string): void {
    const origin = originOf(url);
    if (origin === undefined || !isDpopNonce(nonce)) return;
    this.#nonces.delete(origin);
    this.#nonces.set(origin, nonce);
    while (this.#nonces.size > this.#maxOrigins) {
      const oldest = this.#nonces.keys().next();
      if (oldest.done === true) break;
      this.#nonces.delete(oldest.value);
    }
  }

  delete(url: string): void {
    const origin = originOf(url);
    if (origin !== undefined) this.#nonces.delete(origin);
  }
}

function originOf(value: string): string | undefined {
  const url = typeof value === 'string' ? tryParseUrl(value) : undefined;
  if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:')) return undefined;
  return url.origin;
}

/** Proofs and nonces for {@link tokenRequestProofs}: the session's key and nonce store, or a test's fakes. */
export interface TokenProofSigner {
  /** A proof for `POST url` carrying `nonce`. */
  sign(url: string, nonce: string | undefined): Promise<string>;
  readonly nonces: { get(url: string): string | undefined; set(url: string, nonce: string): void };
}

/**
 * DPoP at the token endpoint (RFC 9449 §5, §8): a fresh proof per attempt with the nonce the server
 * last handed out. A valid `DPoP-Nonce` in any answer is remembered; the request is sent again only
 * after the first attempt, when a 400 or 401 `use_dpop_nonce` error brings one. A proof that cannot
 * be made is `dpop_failed`, without its cause's message (which may describe the key).
 */
export function tokenRequestProofs({ sign, nonces }: TokenProofSigner): DpopProofSource {
  return {
    async proof(url) {
      try {
        return await sign(url, nonces.get(url));
      } catch (error) {
        if (isOAuthClientError(error)) throw error;
        throw oauthError('dpop_failed', 'could not create a DPoP proof for the token request');
      }
    },
    retry(url, response, attempt) {
      const nonce = response.headers['dpop-nonce']?.trim();
      if (!isDpopNonce(nonce)) return false;
      nonces.set(url, nonce);
      const { status } = response;
      return (
        attempt === 0 &&
        (status === 400 || status === 401) &&
        readOAuthErrorCode(response) === 'use_dpop_nonce'
      );
    },
  };
}

/**
 * DPoP for a session's `dpop` option. `always` (the default) binds every token to a key the
 * session generates and persists with the tokens; `auto` does so only when the authorization
 * server advertises ES256 in `dpop_signing_alg_values_supported`.
 */
export function dpop(options: { readonly mode?: 'always' | 'auto' } = {}): DpopSupport {
  const mode = options.mode ?? 'always';
  if (mode !== 'always' && mode !== 'auto') {
    throw oauthError('invalid_options', 'dpop "mode" must be "always" or "auto"');
  }
  return {
    start(now) {
      const nonces = new DpopNonceStore();
      let current: DpopKey | undefined;
      return {
        async keyFor(metadata, persisted) {
          const algorithms = metadata.dpop_signing_alg_values_supported;
          if (mode === 'auto' && !(Array.isArray(algorithms) && algorithms.includes('ES256')))
            return undefined;
          current ??= persisted === undefined ? await generateDpopKey() : await importDpopKey(persisted);
          return current;
        },
        proofs: (key) =>
          tokenRequestProofs({
            sign: (url, nonce) => createDpopProof(key, { method: 'POST', url, now: now(), nonce }),
            nonces,
          }),
        async resourceHeaders(tokens, method, url) {
          current ??= tokens.dpopKey === undefined ? undefined : await importDpopKey(tokens.dpopKey);
          if (current === undefined)
            throw oauthError('dpop_failed', 'a DPoP-bound token is held without its key');
          const proof = await createDpopProof(current, {
            method,
            url,
            now: now(),
            nonce: nonces.get(url),
            accessToken: tokens.accessToken,
          });
          return { authorization: `DPoP ${tokens.accessToken}`, dpop: proof };
        },
        rememberNonce: (url, nonce) => nonces.set(url, nonce),
        exportKey: exportDpopKey,
      };
    },
  };
}
