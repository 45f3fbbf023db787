/**
 * What the session needs of DPoP (RFC 9449). The implementation is the opt-in module
 * `@mcp-oauth/core/dpop` (`dpop()`), so an application without DPoP ships none of it.
 */
import type { DpopKey, DpopKeyPair, DpopProofInput } from '../dpop.js';

export interface DpopSupport {
  /**
   * `always`: every token is DPoP-bound. `auto`: only when the authorization server advertises
   * ES256 in `dpop_signing_alg_values_supported`.
   */
  readonly mode: 'always' | 'auto';
  generateKey(): Promise<DpopKey>;
  importKey(pair: DpopKeyPair): Promise<DpopKey>;
  exportKey(key: DpopKey): Promise<DpopKeyPair>;
  createProof(key: DpopKey, input: DpopProofInput): Promise<string>;
}
