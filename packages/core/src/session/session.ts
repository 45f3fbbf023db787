import type { StoredTokens } from '../stores.js';
import { type CallbackInput, redeemCallback, startAuthorization } from './authorization-code.js';
import { bind, loadFromStores, tokenKeyOf } from './binding.js';
import { chooseScopes, grantStrategy, obtainGrant } from './grants.js';
import { type OAuthSessionOptions, resolveOptions } from './options.js';
import { canRenewSilently, isExpiring, renewBeforeUse, runExclusive } from './renewal.js';
import { beginResourceRequest, type ResourceRequest, type ResourceRequestInit } from './resource-request.js';
import { revokeQuietly } from './revocation.js';
import { createSessionState, type SessionState } from './state.js';

/** What the session holds, without the token itself. */
export interface TokenInfo {
  readonly issuer: string;
  readonly resource: string;
  readonly clientId: string;
  readonly tokenType: 'Bearer' | 'DPoP';
  readonly expiresAt: number | undefined;
  readonly grantedScopes: readonly string[];
  readonly requestedScopes: readonly string[];
  readonly hasRefreshToken: boolean;
}

/**
 * One MCP server's authorization: discovery, client identity, tokens and their renewal, and the
 * life of every request sent to it. Adapters call {@link beginRequest} for each request;
 * applications use the rest (a CLI's `login`, `logout`, `status`).
 */
export class OAuthSession {
  /** The canonical MCP server URL: tokens are sent to it and the paths below it only. */
  readonly serverUrl: URL;
  readonly #state: SessionState;

  constructor(options: OAuthSessionOptions) {
    const config = resolveOptions(options);
    this.#state = createSessionState(config, grantStrategy(config.grant));
    this.serverUrl = config.serverUrl;
  }

  /**
   * Starts a request to the MCP server (adapters call this). The returned object gives the
   * first send and, for each response, the next step: done, or send again (a retry with new
   * credentials, or a redirect hop with the credentials its URL may carry).
   */
  beginRequest(init: ResourceRequestInit): Promise<ResourceRequest> {
    return beginResourceRequest(this.#state, init);
  }

  /** A valid access token (refreshing or authorizing as needed), for callers that set headers themselves. */
  async getAccessToken(options: { signal?: AbortSignal } = {}): Promise<string> {
    const state = this.#state;
    await loadFromStores(state);
    let tokens = state.tokens;
    if (tokens === undefined) tokens = await this.#acquire(undefined, options.signal);
    else if (isExpiring(state, tokens)) {
      tokens =
        canRenewSilently(state, tokens) && state.binding !== undefined
          ? await renewBeforeUse(state, state.binding, tokens, options.signal)
          : await this.#acquire(tokens.requestedScopes, options.signal);
    }
    return tokens.accessToken;
  }

  /** Runs discovery, registration and the whole grant now (a CLI's `login` command). */
  async authorize(options: { signal?: AbortSignal; scopes?: readonly string[] } = {}): Promise<TokenInfo> {
    await loadFromStores(this.#state);
    await this.#acquire(options.scopes, options.signal);
    return this.getTokenInfo()!;
  }

  /**
   * Starts an authorization without waiting for the user: returns the URL to send the user to.
   * Finish it with {@link completeAuthorization}, in this or another process sharing the stores.
   */
  async beginAuthorization(
    options: { signal?: AbortSignal; scopes?: readonly string[] } = {},
  ): Promise<{ authorizationUrl: string; state: string }> {
    const state = this.#state;
    await loadFromStores(state);
    const binding = await bind(state, state.lastResourceMetadataUrl, options.signal);
    const scopes = options.scopes ?? chooseScopes(state, binding, []);
    return startAuthorization(state, binding, scopes, options.signal);
  }

  /** Finishes an authorization from the redirect the user's browser arrived with. */
  async completeAuthorization(
    callback: CallbackInput,
    options: { signal?: AbortSignal } = {},
  ): Promise<TokenInfo> {
    const state = this.#state;
    await loadFromStores(state);
    const binding = await bind(state, state.lastResourceMetadataUrl, options.signal);
    await runExclusive(state, binding, { stale: undefined, signal: options.signal, fresh: true }, (current) =>
      redeemCallback(state, current, callback, options.signal),
    );
    return this.getTokenInfo()!;
  }

  /** What the session holds, without the token itself. */
  getTokenInfo(): TokenInfo | undefined {
    const { tokens, binding } = this.#state;
    if (tokens === undefined || binding === undefined) return undefined;
    return {
      issuer: binding.discovery.issuer,
      resource: binding.discovery.resource,
      clientId: binding.client.clientId,
      tokenType: tokens.tokenType,
      expiresAt: tokens.expiresAt,
      grantedScopes: tokens.grantedScopes,
      requestedScopes: tokens.requestedScopes,
      hasRefreshToken: tokens.refreshToken !== undefined,
    };
  }

  /**
   * Forgets the tokens and revokes them (RFC 7009) when the server has a revocation endpoint.
   * `forgetClient` also drops a dynamic registration and the discovery cache.
   */
  async signOut(
    options: { forgetClient?: boolean; signal?: AbortSignal } = {},
  ): Promise<{ revoked: boolean }> {
    const state = this.#state;
    await loadFromStores(state);
    const { binding, tokens } = state;
    if (binding === undefined) return { revoked: false };
    state.tokens = undefined;
    await state.stores.tokens.delete(tokenKeyOf(binding));
    // True when every token held was revoked (there is nothing to revoke without an endpoint).
    let revoked = tokens !== undefined;
    for (const [token, hint] of [
      [tokens?.refreshToken, 'refresh_token'],
      [tokens?.accessToken, 'access_token'],
    ] as const) {
      if (token !== undefined && !(await revokeQuietly(state, binding, token, hint, options.signal))) {
        revoked = false;
      }
    }
    if (options.forgetClient) {
      if (binding.client.source === 'dynamic') await state.stores.clients.delete(binding.discovery.issuer);
      await state.stores.discovery.delete(state.serverUrl.href);
      state.binding = undefined;
    }
    return { revoked };
  }

  /** No usable tokens: discover, register and run the configured grant. */
  async #acquire(
    scopes: readonly string[] | undefined,
    signal: AbortSignal | undefined,
  ): Promise<StoredTokens> {
    const state = this.#state;
    const binding = await bind(state, state.lastResourceMetadataUrl, signal);
    return runExclusive(state, binding, { stale: state.tokens?.accessToken, signal }, (current) =>
      obtainGrant(state, current, {
        ...(scopes === undefined ? {} : { scopes }),
        signal,
      }),
    );
  }
}
