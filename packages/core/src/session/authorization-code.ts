/**
 * The authorization code grant with PKCE: starting an authorization, bringing the user in, and
 * redeeming the callback — through one function, whoever received the callback.
 */
import { createAuthorizationRequest } from '../authorize.js';
import { parseCallback, validateCallback } from '../callback.js';
import { AuthorizationRequiredError, oauthError } from '../errors.js';
import type { StoredTokens } from '../stores.js';
import type { AuthorizationServerMetadata } from '../types.js';
import type { GrantStrategy } from './grants.js';
import { redirectTarget, redirectUriForIssuer } from './redirect-uri.js';
import { requestTokens, resourceParameter } from './renewal.js';
import { abortable } from './signals.js';
import type { Binding, SessionState } from './state.js';

/** A full redirect URL, its query string, its parameters, or a plain object of them. */
export type CallbackInput = string | URL | URLSearchParams | Readonly<Record<string, string | undefined>>;

/** What the application does when a user has to authorize: open the URL, resolve with the redirect it got. */
export type AuthorizationHandler = (request: {
  readonly authorizationUrl: string;
  readonly state: string;
  readonly signal: AbortSignal | undefined;
}) => Promise<CallbackInput>;

export const authorizationCodeGrant: GrantStrategy = {
  interactive: true,
  grantTypes(metadata: AuthorizationServerMetadata) {
    const supported = metadata.grant_types_supported;
    return supported === undefined || supported.includes('refresh_token')
      ? ['authorization_code', 'refresh_token']
      : ['authorization_code'];
  },
  async obtain(state, binding, scopes, signal) {
    const { authorizationUrl, state: stateValue } = await startAuthorization(state, binding, scopes, signal);
    const handler = state.authorizationHandler;
    if (handler === undefined) {
      throw new AuthorizationRequiredError(
        'the user must authorize this client; send them to the authorization URL',
        {
          authorizationUrl,
          state: stateValue,
        },
      );
    }
    const callback = await abortable(handler({ authorizationUrl, state: stateValue, signal }), signal);
    return redeemCallback(state, binding, callback, signal);
  },
};

/** The redirect URI this session uses with `binding`. The configured one wins (a loopback server may have a new port). */
function redirectUriFor(state: SessionState, binding: Binding): string | undefined {
  const configured = state.client.redirectUris?.[0];
  if (configured === undefined) return binding.client.redirectUris[0];
  // A dynamic registration was made with one redirect URI per authorization server.
  return binding.client.source === 'dynamic'
    ? redirectUriForIssuer(configured, binding.discovery.issuer)
    : configured;
}

/** Creates the authorization request and remembers it as pending; returns where to send the user. */
export async function startAuthorization(
  state: SessionState,
  binding: Binding,
  scopes: readonly string[],
  signal: AbortSignal | undefined,
): Promise<{ authorizationUrl: string; state: string }> {
  if (signal?.aborted) throw oauthError('aborted', 'the authorization was aborted');
  const redirectUri = redirectUriFor(state, binding);
  if (redirectUri === undefined) {
    throw oauthError('invalid_options', 'client.redirectUris is required for the authorization code flow');
  }
  const dpop = await state.dpop?.keyFor(binding.discovery.authorizationServerMetadata, state.tokens?.dpopKey);
  const { url, pending } = await createAuthorizationRequest({
    metadata: binding.discovery.authorizationServerMetadata,
    clientId: binding.client.clientId,
    redirectUri,
    scopes,
    resource: resourceParameter(state, binding),
    serverUrl: state.serverUrl.href,
    extraParameters: state.authorizationParams,
    now: state.now(),
    ttlMs: state.pendingAuthorizationTtlMs,
    dpopJkt: dpop?.thumbprint,
  });
  await state.stores.pending.set(pending.state, pending);
  state.logger.debug('session.authorization_started', { issuer: binding.discovery.issuer, scopes });
  return { authorizationUrl: url, state: pending.state };
}

/**
 * Redeems an authorization response: the one path every callback takes. The pending record it
 * names must belong to this session's MCP server, authorization server, client and redirect URI,
 * so a callback meant for another session sharing the stores is refused before its code is sent
 * anywhere. Call inside the token lock.
 */
export async function redeemCallback(
  state: SessionState,
  binding: Binding,
  callback: CallbackInput,
  signal: AbortSignal | undefined,
): Promise<StoredTokens> {
  const parameters = parseCallback(callback);
  const pending =
    parameters.state === undefined ? undefined : await state.stores.pending.take(parameters.state);
  const { code } = validateCallback(parameters, pending, state.now());
  const record = pending!; // validateCallback returns only when the pending record exists
  if (record.serverUrl !== state.serverUrl.href) {
    throw oauthError('state_mismatch', 'the authorization response belongs to another MCP server');
  }
  // The pending record holds the issuer the metadata document named (what RFC 9207 `iss` is
  // compared with); it differs from the listed issuer only under an explicit mismatch policy.
  if (record.issuer !== binding.discovery.authorizationServerMetadata.issuer) {
    throw oauthError('issuer_mismatch', 'the authorization was started with another authorization server');
  }
  if (record.clientId !== binding.client.clientId) {
    throw oauthError('state_mismatch', 'the authorization was started for another client');
  }
  if (
    record.redirectUri !== redirectUriFor(state, binding) &&
    !binding.client.redirectUris.includes(record.redirectUri)
  ) {
    throw oauthError('state_mismatch', 'the authorization was started with another redirect URI');
  }
  // A callback given as the URL it arrived on must have arrived on the pending request's redirect URI.
  const arrivedOn =
    typeof callback === 'string' && /^https?:/i.test(callback)
      ? callback
      : callback instanceof URL
        ? callback
        : undefined;
  if (arrivedOn !== undefined && redirectTarget(arrivedOn) !== redirectTarget(record.redirectUri)) {
    throw oauthError(
      'state_mismatch',
      'the authorization response arrived on another redirect URI than the request named',
    );
  }
  const tokens = await requestTokens(
    state,
    binding,
    { type: 'authorization_code', code, codeVerifier: record.codeVerifier, redirectUri: record.redirectUri },
    record.scopes,
    undefined,
    signal,
  );
  state.logger.debug('session.authorized', {
    issuer: binding.discovery.issuer,
    scopes: tokens.grantedScopes,
  });
  return tokens;
}
