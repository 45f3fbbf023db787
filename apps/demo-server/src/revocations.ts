/**
 * JWT access tokens are checked by signature alone, so on their own they stay valid until they
 * expire, whatever happens to their grant. The demo runs both servers in one process, so the
 * authorization server tells the MCP server which access tokens died with a revoked grant (sign-out,
 * refresh token reuse). A deployment gets the same effect from token introspection or from short
 * access token lifetimes.
 */
export class AccessTokenRevocations {
  /** jti → grant id and expiry (epoch seconds) of every live JWT access token. */
  readonly #issued = new Map<string, { grantId: string; expiresAt: number }>();
  /** jti → expiry of revoked tokens, kept until they would have expired anyway. */
  readonly #revoked = new Map<string, number>();

  recordIssued(jti: string, grantId: string, expiresAt: number): void {
    this.#prune();
    this.#issued.set(jti, { grantId, expiresAt });
  }

  revokeGrant(grantId: string): void {
    for (const [jti, token] of this.#issued) {
      if (token.grantId !== grantId) continue;
      this.#issued.delete(jti);
      this.#revoked.set(jti, token.expiresAt);
    }
  }

  revokeToken(jti: string, expiresAt: number): void {
    this.#issued.delete(jti);
    this.#revoked.set(jti, expiresAt);
  }

  isRevoked(jti: string): boolean {
    return this.#revoked.has(jti);
  }

  /** Forgets tokens a minute after they expire: by then every clock tolerance has passed. */
  #prune(): void {
    const now = Math.floor(Date.now() / 1000) - 60;
    for (const [jti, token] of this.#issued) if (token.expiresAt < now) this.#issued.delete(jti);
    for (const [jti, expiresAt] of this.#revoked) if (expiresAt < now) this.#revoked.delete(jti);
  }
}
