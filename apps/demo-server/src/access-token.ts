/**
 * Access token validation at the MCP server: the token is a JWT (RFC 9068) signed by the
 * authorization server. Its signature is checked against the authorization server's JWKS, then
 * `typ`, `iss`, `aud` (this server's resource URL), `exp`, `iat`, and the revocation list. The
 * outcome is a value: the token's contents, or a fixed description of what was wrong — never the
 * token itself.
 */
import { errors, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { splitScopes } from './scopes.js';

export interface VerifiedAccessToken {
  readonly token: string;
  readonly clientId: string;
  readonly subject: string;
  readonly scopes: readonly string[];
  /** Seconds since the epoch. */
  readonly expiresAt: number;
  /** The DPoP key thumbprint the token is bound to (`cnf.jkt`), if any. */
  readonly jkt: string | undefined;
}

export type AccessTokenCheck =
  | { readonly valid: true; readonly token: VerifiedAccessToken }
  | { readonly valid: false; readonly description: string };

export interface AccessTokenVerifierOptions {
  readonly issuer: string;
  /** This server's resource URL: the only audience it accepts. */
  readonly audience: string;
  /** The authorization server's keys, e.g. `createRemoteJWKSet(jwks_uri)`. */
  readonly keys: JWTVerifyGetKey;
  readonly algorithms: readonly string[];
  readonly isRevoked: (jti: string) => boolean;
  /** Allowed clock difference with the authorization server, in seconds. Default 0 (one clock). */
  readonly clockToleranceSeconds?: number;
}

function describeFailure(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'the access token has expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'aud') return 'the access token is meant for another resource';
    if (error.claim === 'iss') return 'the access token comes from another issuer';
    if (error.claim === 'typ') return 'the token is not an access token';
    return `the access token "${error.claim}" claim is not valid`;
  }
  if (error instanceof errors.JWSSignatureVerificationFailed || error instanceof errors.JWKSNoMatchingKey) {
    return 'the access token signature does not verify';
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return 'the access token is signed with another algorithm';
  return 'the access token is not a valid JWT';
}

export function createAccessTokenVerifier(
  options: AccessTokenVerifierOptions,
): (token: string) => Promise<AccessTokenCheck> {
  return async (token) => {
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, options.keys, {
        issuer: options.issuer,
        audience: options.audience,
        algorithms: [...options.algorithms],
        typ: 'at+jwt',
        requiredClaims: ['exp', 'iat', 'jti', 'sub', 'client_id'],
        clockTolerance: options.clockToleranceSeconds ?? 0,
      }));
    } catch (error) {
      // The keys could not be fetched: the server's problem, not the token's.
      const unavailable = error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid;
      if (unavailable || !(error instanceof errors.JOSEError)) throw error;
      return { valid: false, description: describeFailure(error) };
    }
    const { jti, sub, client_id: clientId, exp, scope, cnf } = payload;
    if (typeof jti !== 'string' || typeof sub !== 'string' || typeof clientId !== 'string') {
      return { valid: false, description: 'the access token "jti", "sub" and "client_id" must be strings' };
    }
    if (scope !== undefined && typeof scope !== 'string') {
      return { valid: false, description: 'the access token "scope" must be a string' };
    }
    let jkt: string | undefined;
    if (cnf !== undefined) {
      const binding = typeof cnf === 'object' && cnf !== null ? (cnf as Record<string, unknown>) : {};
      if (typeof binding.jkt !== 'string' || Object.keys(binding).length !== 1) {
        return { valid: false, description: 'the access token is bound to a key this server cannot check' };
      }
      jkt = binding.jkt;
    }
    if (options.isRevoked(jti)) return { valid: false, description: 'the access token has been revoked' };
    return {
      valid: true,
      token: { token, clientId, subject: sub, scopes: splitScopes(scope), expiresAt: exp as number, jkt },
    };
  };
}
