/**
 * DPoP proof validation at the resource server (RFC 9449 §4.3 and §7.1): one proof, `typ`
 * `dpop+jwt`, an allowed algorithm, a public key in the header that signs the proof and whose
 * thumbprint is the token's `cnf.jkt`, `htm` and `htu` naming this request, a fresh `iat`, `ath`
 * the hash of the access token, and a `jti` not seen before.
 */
import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, decodeProtectedHeader, EmbeddedJWK, type JWK, jwtVerify } from 'jose';

export interface DpopProofInput {
  /** The `DPoP` request header, as received (several headers arrive joined by commas). */
  readonly proof: string | undefined;
  readonly method: string;
  /** The request URL. */
  readonly url: string;
  readonly accessToken: string;
  /** The thumbprint the access token is bound to. */
  readonly jkt: string;
}

export type DpopProofCheck =
  | { readonly valid: true }
  | { readonly valid: false; readonly description: string };

export interface DpopProofVerifierOptions {
  readonly algorithms: readonly string[];
  /** How old a proof may be, in seconds. Default 60. */
  readonly maxAgeSeconds?: number;
  /** How far in the future a proof's `iat` may be, in seconds. Default 5. */
  readonly clockToleranceSeconds?: number;
  /** Seconds since the epoch. Default: the clock. */
  readonly now?: () => number;
}

const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/** RFC 9449 §4.3 point 9: `htu` is compared without query and fragment, after URL normalisation. */
function withoutQuery(url: string): string | undefined {
  if (!URL.canParse(url)) return undefined;
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}

function invalid(description: string): DpopProofCheck {
  return { valid: false, description };
}

export class DpopProofVerifier {
  readonly #algorithms: readonly string[];
  readonly #maxAge: number;
  readonly #tolerance: number;
  readonly #now: () => number;
  /** `jti` → the time (epoch seconds) after which the proof is too old to be replayed anyway. */
  readonly #seen = new Map<string, number>();

  constructor(options: DpopProofVerifierOptions) {
    this.#algorithms = options.algorithms;
    this.#maxAge = options.maxAgeSeconds ?? 60;
    this.#tolerance = options.clockToleranceSeconds ?? 5;
    this.#now = options.now ?? (() => Math.floor(Date.now() / 1000));
  }

  async verify(input: DpopProofInput): Promise<DpopProofCheck> {
    const proof = input.proof?.trim();
    if (proof === undefined || proof === '')
      return invalid('a DPoP proof is required with this access token');
    if (proof.includes(',') || proof.includes(' ')) return invalid('exactly one DPoP proof is allowed');

    let jwk: JWK;
    let payload: Record<string, unknown>;
    try {
      const header = decodeProtectedHeader(proof);
      if (typeof header.jwk !== 'object' || header.jwk === null)
        return invalid('the DPoP proof has no "jwk"');
      if (PRIVATE_JWK_MEMBERS.some((member) => member in (header.jwk as object))) {
        return invalid('the DPoP proof "jwk" must be a public key');
      }
      jwk = header.jwk;
      ({ payload } = await jwtVerify(proof, EmbeddedJWK, {
        typ: 'dpop+jwt',
        algorithms: [...this.#algorithms],
      }));
    } catch {
      return invalid('the DPoP proof is not a valid signed JWT');
    }

    const { jti, htm, htu, iat, ath } = payload;
    if (typeof jti !== 'string' || jti === '' || jti.length > 256)
      return invalid('the DPoP proof "jti" is missing');
    if (htm !== input.method) return invalid('the DPoP proof "htm" does not match the request method');
    const expectedUrl = withoutQuery(input.url);
    if (typeof htu !== 'string' || expectedUrl === undefined || withoutQuery(htu) !== expectedUrl) {
      return invalid('the DPoP proof "htu" does not match the request URL');
    }
    const now = this.#now();
    if (typeof iat !== 'number' || iat > now + this.#tolerance || iat < now - this.#maxAge) {
      return invalid('the DPoP proof "iat" is not recent');
    }
    const expectedAth = createHash('sha256').update(input.accessToken).digest('base64url');
    if (ath !== expectedAth) return invalid('the DPoP proof "ath" does not match the access token');
    if ((await calculateJwkThumbprint(jwk, 'sha256')) !== input.jkt) {
      return invalid('the DPoP proof key is not the key the access token is bound to');
    }

    this.#prune(now);
    const replayKey = `${input.jkt}:${jti}`;
    if (this.#seen.has(replayKey)) return invalid('the DPoP proof has been used before');
    this.#seen.set(replayKey, iat + this.#maxAge + this.#tolerance);
    return { valid: true };
  }

  #prune(now: number): void {
    for (const [key, until] of this.#seen) if (until < now) this.#seen.delete(key);
  }
}
