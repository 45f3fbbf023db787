/** Revocation (RFC 7009) of the session's tokens: best effort, never thrown. */
import { revokeToken } from '../revoke.js';
import { clientAuthentication } from './binding.js';
import { codeOf } from './signals.js';
import type { Binding, SessionState } from './state.js';

/** Revokes one token when the server has a revocation endpoint; failures are logged. True on success. */
export async function revokeQuietly(
  state: SessionState,
  binding: Binding,
  token: string,
  hint: 'access_token' | 'refresh_token',
  signal: AbortSignal | undefined,
): Promise<boolean> {
  const endpoint = binding.discovery.authorizationServerMetadata.revocation_endpoint;
  if (endpoint === undefined) return false;
  try {
    const client = await clientAuthentication(state, binding.client);
    // Revocation needs a client identity (RFC 7009 §2.1); an anonymous workload has none.
    if (client === undefined) return false;
    await revokeToken(state.http, {
      endpoint,
      issuer: binding.discovery.issuer,
      token,
      tokenTypeHint: hint,
      client,
      now: state.now(),
      ...(signal === undefined ? {} : { signal }),
    });
    return true;
  } catch (error) {
    state.logger.warn('session.revocation_failed', { hint, code: codeOf(error) });
    return false;
  }
}
