/**
 * What the session needs for `private_key_jwt` client authentication. The implementation is the
 * opt-in module `@mcp-oauth/core/jwt` (`privateKeyJwt()`), so other applications ship no signing code.
 */
import type { JwtSigner } from '../client-auth.js';

export interface ClientKey {
  /** Imports the key once (the session caches the promise) and returns what signs assertions. */
  signer(): Promise<JwtSigner>;
}
