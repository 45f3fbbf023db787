/**
 * What the session needs of DPoP (RFC 9449). The implementation is the opt-in module
 * `@mcp-oauth/core/dpop` (`dpop()`), so an application without DPoP ships none of it.
 */
import type { DpopKey, DpopKeyPair } from '../dpop.js';
import type { DpopProofSource } from '../token.js';
import type { AuthorizationServerMetadata } from '../types.js';

export interface DpopSupport {
  /** DPoP for one session: its key and the nonces its servers handed out. `now` is its clock. */
  start(now: () => number): DpopSession;
}

export interface DpopSession {
  /**
   * The key tokens from the authorization server with `metadata` are bound to, or `undefined` when
   * they stay Bearer tokens (mode `auto` and no ES256 advertised). Restores `persisted` (the key
   * stored with the tokens) or generates one, once per session.
   */
  keyFor(
    metadata: AuthorizationServerMetadata,
    persisted: DpopKeyPair | undefined,
  ): Promise<DpopKey | undefined>;
  /** Proofs for token requests with `key`, with the nonces the authorization server handed out. */
  proofs(key: DpopKey): DpopProofSource;
  /** `Authorization: DPoP …` and a fresh proof for a request to `url` with a DPoP-bound token. */
  resourceHeaders(
    tokens: { readonly accessToken: string; readonly dpopKey?: DpopKeyPair | undefined },
    method: string,
    url: string,
  ): Promise<Record<string, string>>;
  /** Remembers the `DPoP-Nonce` a resource server sent. */
  rememberNonce(url: string, nonce: string): void;
  /** The key as JWKs, stored with the tokens bound to it. */
  exportKey(key: DpopKey): Promise<DpopKeyPair>;
}
