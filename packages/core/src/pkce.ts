/** PKCE (RFC 7636) with the S256 method only, and the `state` value of the authorization request. */
import { base64urlEncode, randomToken, sha256 } from './encoding.js';
import { oauthError } from './errors.js';

/** RFC 7636 §4.1: 43–128 characters from `[A-Za-z0-9-._~]`. */
const CODE_VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

/** A fresh code verifier: 32 random bytes as base64url, 43 characters, 256 bits. */
export function generateCodeVerifier(): string {
  return randomToken(32);
}

/** True when `value` is a well-formed RFC 7636 code verifier. */
export function isCodeVerifier(value: string): boolean {
  return CODE_VERIFIER.test(value);
}

/** The S256 code challenge: `base64url(SHA-256(ASCII(code_verifier)))` (RFC 7636 §4.2). */
export async function computeCodeChallenge(verifier: string): Promise<string> {
  if (!isCodeVerifier(verifier)) {
    throw oauthError('invalid_options', 'code verifier must be 43 to 128 characters from the unreserved set');
  }
  return base64urlEncode(await sha256(verifier));
}

/** A fresh `state` value: 32 random bytes as base64url (256 bits). */
export function generateState(): string {
  return randomToken(32);
}
