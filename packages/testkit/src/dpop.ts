import { createHash, createPublicKey, type JsonWebKey as NodeJsonWebKey, verify } from 'node:crypto';

/** The claims of a DPoP proof (RFC 9449 §4.2) as the test server saw them, plus its key's thumbprint. */
export interface DpopClaims {
  readonly jti: string | undefined;
  readonly htm: string | undefined;
  readonly htu: string | undefined;
  readonly iat: number | undefined;
  readonly ath: string | undefined;
  readonly nonce: string | undefined;
  /** RFC 7638 thumbprint of the header's `jwk` (what `cnf.jkt` / `dpop_jkt` name). */
  readonly jkt: string | undefined;
}

export interface DpopCheck {
  readonly method: string;
  readonly url: string;
  /** The access token the request presents: `ath` must be its hash. */
  readonly accessToken?: string | undefined;
  /** Proofs whose `jti` is in here are replays; a verified proof's `jti` is added. */
  readonly seenJtis: Set<string>;
  /** Seconds since the epoch; `iat` must be within five minutes of it. */
  readonly now: number;
}

export type DpopVerdict =
  | { readonly ok: true; readonly claims: DpopClaims }
  | { readonly ok: false; readonly reason: string };

const IAT_WINDOW_SECONDS = 300;

function decodeJson(part: string | undefined): Record<string, unknown> | undefined {
  if (part === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

export function jwkThumbprint(jwk: Record<string, unknown>): string {
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return createHash('sha256').update(canonical).digest('base64url');
}

/** Reads a proof's claims without verifying anything (for recording what a client sent). */
export function decodeDpopProof(proof: string): DpopClaims | undefined {
  const [headerPart, payloadPart] = proof.split('.');
  const header = decodeJson(headerPart);
  const payload = decodeJson(payloadPart);
  if (header === undefined || payload === undefined) return undefined;
  const jwk = header.jwk;
  return {
    jti: text(payload.jti),
    htm: text(payload.htm),
    htu: text(payload.htu),
    iat: typeof payload.iat === 'number' ? payload.iat : undefined,
    ath: text(payload.ath),
    nonce: text(payload.nonce),
    jkt: typeof jwk === 'object' && jwk !== null ? jwkThumbprint(jwk as Record<string, unknown>) : undefined,
  };
}

/** `htu` is the request URL without query and fragment. */
function targetUri(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}

/**
 * Verifies a DPoP proof the way a resource or authorization server must: ES256 over the header's
 * public `jwk` (checked with node:crypto), `typ`, `htm`, `htu`, a recent `iat`, a fresh `jti`, and
 * `ath` when an access token is presented. Nonces are the caller's business.
 */
export function verifyDpopProof(proof: string, check: DpopCheck): DpopVerdict {
  const parts = proof.split('.');
  if (parts.length !== 3) return { ok: false, reason: 'not a compact JWS' };
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = decodeJson(headerPart);
  const payload = decodeJson(payloadPart);
  if (header === undefined || payload === undefined) return { ok: false, reason: 'undecodable' };
  if (header.typ !== 'dpop+jwt') return { ok: false, reason: 'typ' };
  if (header.alg !== 'ES256') return { ok: false, reason: 'alg' };
  const jwk = header.jwk;
  if (typeof jwk !== 'object' || jwk === null) return { ok: false, reason: 'jwk' };
  const key = jwk as Record<string, unknown>;
  if (key.kty !== 'EC' || key.crv !== 'P-256' || 'd' in key) return { ok: false, reason: 'jwk' };
  let valid = false;
  try {
    const publicKey = createPublicKey({ key: key as NodeJsonWebKey, format: 'jwk' });
    valid = verify(
      'sha256',
      Buffer.from(`${headerPart}.${payloadPart}`),
      { key: publicKey, dsaEncoding: 'ieee-p1363' },
      Buffer.from(signaturePart, 'base64url'),
    );
  } catch {
    valid = false;
  }
  if (!valid) return { ok: false, reason: 'signature' };
  const claims = decodeDpopProof(proof)!;
  if (claims.jti === undefined || claims.jti === '') return { ok: false, reason: 'jti' };
  if (check.seenJtis.has(claims.jti)) return { ok: false, reason: 'jti replayed' };
  check.seenJtis.add(claims.jti);
  if (claims.htm !== check.method.toUpperCase()) return { ok: false, reason: 'htm' };
  if (
    claims.htu === undefined ||
    targetUri(claims.htu) !== targetUri(check.url) ||
    claims.htu.includes('?')
  ) {
    return { ok: false, reason: 'htu' };
  }
  if (claims.iat === undefined || Math.abs(claims.iat - check.now) > IAT_WINDOW_SECONDS) {
    return { ok: false, reason: 'iat' };
  }
  if (check.accessToken !== undefined) {
    const ath = createHash('sha256').update(check.accessToken).digest('base64url');
    if (claims.ath !== ath) return { ok: false, reason: 'ath' };
  }
  return { ok: true, claims };
}
