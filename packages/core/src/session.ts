import { createAuthorizationRequest } from './authorize.js';
import { type CallbackParameters, parseCallback, validateCallback } from './callback.js';
import { readResourceChallenge } from './challenge.js';
import type { ClientAuthentication } from './client-auth.js';
import { type Decision, decide } from './decide.js';
import {
  type AuthorizationServerPolicy,
  type AuthorizationServerSelector,
  type DiscoveryResult,
  discover,
  discoverProtectedResource,
} from './discovery.js';
import {
  createDpopProof,
  type DpopKey,
  DpopNonceStore,
  exportDpopKey,
  generateDpopKey,
  importDpopKey,
} from './dpop.js';
import {
  AuthorizationRequiredError,
  isOAuthClientError,
  type OAuthClientError,
  oauthError,
} from './errors.js';
import { type HeadersInput, readHeader } from './headers.js';
import { createHttpContext, type HttpContext, type OAuthHttpClient } from './http.js';
import { importSigningKey, type PrivateKeyInput, type SigningAlgorithm, type SigningKey } from './jwt.js';
import { type OAuthLogger, silentLogger } from './logger.js';
import { type ClientOptions, resolveClient } from './registration.js';
import { revokeToken } from './revoke.js';
import { selectScopes, unionScopes } from './scopes.js';
import {
  createMemoryStores,
  type DiscoveryRecord,
  type OAuthStores,
  type StoredTokens,
  tokenKey,
} from './stores.js';
import { type DpopProofSource, requestToken, type TokenGrant } from './token.js';
import type { ClientInformation, TokenSet } from './types.js';
import { allowsLoopbackHttp, canonicalResourceUrl, isWithinResource, tryParseUrl } from './url.js';

/** What the application does when a user has to authorize: open the URL, resolve with the redirect it got. */
export type AuthorizationHandler = (request: {
  readonly authorizationUrl: string;
  readonly state: string;
  readonly signal: AbortSignal | undefined;
}) => Promise<CallbackInput>;

/** A full redirect URL, its query string, its parameters, or a plain object of them. */
export type CallbackInput = string | URL | URLSearchParams | Readonly<Record<string, string | undefined>>;

/** How the session obtains tokens. */
export type GrantOptions =
  | { readonly type: 'authorization_code' }
  | { readonly type: 'client_credentials' }
  | {
      readonly type: 'jwt_bearer';
      /** Supplies the RFC 7523 assertion (for example a workload identity token) for an issuer. */
      readonly assertion: (context: {
        readonly issuer: string;
        readonly resource: string;
        readonly signal: AbortSignal | undefined;
      }) => string | Promise<string>;
    };

export type RefreshScopePolicy = 'granted' | 'requested' | 'none';

export interface OAuthSessionOptions {
  /** The MCP server's URL, e.g. `https://mcp.example.com/mcp`. */
  readonly serverUrl: string | URL;
  /** Carries the engine's own OAuth requests (each adapter package provides one). */
  readonly httpClient: OAuthHttpClient;
  /** Default: the authorization code flow. */
  readonly grant?: GrantOptions;
  /** Client identity: redirect URIs, name, pre-registered credentials, metadata document URL. */
  readonly client?: ClientOptions;
  /** For `private_key_jwt`: a PKCS#8 PEM, a private JWK or a CryptoKey. */
  readonly clientKey?: {
    readonly privateKey: PrivateKeyInput;
    readonly keyId?: string;
    readonly algorithm?: SigningAlgorithm;
  };
  /** Brings the user in. Without it, authorization throws `AuthorizationRequiredError` carrying the URL. */
  readonly authorizationHandler?: AuthorizationHandler;
  /** Scopes fixed by the caller. They win over every discovered value. */
  readonly scopes?: readonly string[];
  /** Opt-in fallbacks when neither the challenge nor the resource metadata names scopes. */
  readonly scopeFallback?: { readonly authorizationServer?: boolean; readonly defaults?: readonly string[] };
  /** Which scopes a refresh request carries. Default `granted`. */
  readonly refreshScopes?: RefreshScopePolicy;
  /** Step-up authorizations allowed before failing with `insufficient_scope`. Default 3. */
  readonly maxStepUps?: number;
  /** Refresh this long before expiry. Default 30 s. */
  readonly refreshSkewMs?: number;
  /** DPoP (RFC 9449): off by default; `auto` uses it when the authorization server advertises it. */
  readonly dpop?: boolean | 'auto';
  readonly stores?: Partial<OAuthStores>;
  /** Choose among several authorization servers; default: the first whose metadata validates. */
  readonly selectAuthorizationServer?: AuthorizationServerSelector;
  /** Explicit exceptions for known non-compliant servers, keyed by issuer. */
  readonly authorizationServerPolicies?: Readonly<Record<string, AuthorizationServerPolicy>>;
  /** How long a started authorization stays valid. Default 10 minutes. */
  readonly pendingAuthorizationTtlMs?: number;
  readonly timeoutMs?: number;
  readonly maxResponseBytes?: number;
  readonly logger?: OAuthLogger;
  /** Milliseconds since the epoch; injectable for tests. */
  readonly clock?: () => number;
}

/** A request as the session needs to see it. */
export interface RequestInfo {
  readonly method: string;
  readonly url: string | URL;
  readonly signal?: AbortSignal | undefined;
}

export interface ResponseInfo extends RequestInfo {
  readonly status: number;
  readonly headers: HeadersInput;
  /** The headers the request was sent with (to tell which token it carried). */
  readonly requestHeaders?: HeadersInput | undefined;
  /** 0 for the first response of a request, 1 for the response to its retry. */
  readonly attempt: number;
}

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

interface Binding {
  readonly discovery: DiscoveryRecord;
  readonly client: ClientInformation;
}

const DEFAULT_SKEW_MS = 30_000;
const DEFAULT_PENDING_TTL_MS = 10 * 60_000;

/**
 * One MCP server's authorization state: discovery, client identity, tokens and their renewal.
 * Adapters call {@link getAuthorizationHeaders} before each request and {@link handleResponse}
 * after it; everything else happens here, once for all adapters.
 */
export class OAuthSession {
  readonly serverUrl: URL;
  readonly #options: OAuthSessionOptions;
  readonly #http: HttpContext;
  readonly #stores: OAuthStores;
  readonly #logger: OAuthLogger;
  readonly #clock: () => number;
  readonly #nonces = new DpopNonceStore();
  readonly #inflight = new Map<string, Promise<StoredTokens>>();
  #loaded: Promise<void> | undefined;
  #binding: Binding | undefined;
  #bindingInFlight: Promise<Binding> | undefined;
  #tokens: StoredTokens | undefined;
  #dpopKey: DpopKey | undefined;
  #signingKey: Promise<SigningKey> | undefined;
  #stepUps = 0;
  #lastChallengeResourceMetadata: string | undefined;
  #resourceBase: { readonly resource: string; readonly url: URL } | undefined;

  constructor(options: OAuthSessionOptions) {
    const serverUrl =
      typeof options.serverUrl === 'string' ? tryParseUrl(options.serverUrl) : options.serverUrl;
    if (serverUrl === undefined || (serverUrl.protocol !== 'https:' && !allowsLoopbackHttp(serverUrl))) {
      throw oauthError(
        'invalid_options',
        'serverUrl must be an https URL (http is allowed only for loopback)',
      );
    }
    if (typeof options.httpClient?.send !== 'function') {
      throw oauthError('invalid_options', 'httpClient must implement send(request)');
    }
    this.serverUrl = new URL(canonicalResourceUrl(serverUrl));
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
    this.#clock = options.clock ?? Date.now;
    this.#http = createHttpContext(options.httpClient, {
      logger: this.#logger,
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      ...(options.maxResponseBytes === undefined ? {} : { maxResponseBytes: options.maxResponseBytes }),
    });
    this.#stores = { ...createMemoryStores(), ...options.stores };
  }

  // ---------------------------------------------------------------- adapter API

  /**
   * The headers to add to a request: `Authorization` (and `DPoP`) when the URL is inside the
   * protected resource and a token is held; nothing otherwise. Refreshes a token about to expire.
   */
  async getAuthorizationHeaders(request: RequestInfo): Promise<Record<string, string>> {
    const target = toUrl(request.url);
    if (target === undefined || !this.#isProtected(target)) return {};
    await this.#load();
    let tokens = this.#tokens;
    if (tokens === undefined) {
      if (this.#grantType() === 'authorization_code' || this.#binding === undefined) return {};
      tokens = await this.#runExclusive(
        this.#binding,
        { stale: undefined, signal: request.signal },
        (binding) => this.#obtainMachineTokens(binding, undefined, request.signal),
      );
    } else if (this.#isExpiring(tokens) && this.#canRenewSilently(tokens)) {
      // Without a refresh token the token is used until the server rejects it; the user is
      // brought in on that 401, never ahead of time.
      tokens = await this.#renewBeforeUse(tokens, request.signal);
    }
    return this.#headersFor(tokens, request.method, target);
  }

  /**
   * Looks at a response from the MCP server and carries out the decision: returns `retry` when the
   * request should be sent once more (with fresh headers), `pass` to hand the response back.
   * Throws an `OAuthClientError` when authorization cannot succeed.
   */
  async handleResponse(response: ResponseInfo): Promise<'retry' | 'pass'> {
    const target = toUrl(response.url);
    if (target === undefined || !this.#isProtected(target)) return 'pass';
    const nonce = readHeader(response.headers, 'dpop-nonce');
    if (nonce !== undefined) this.#nonces.set(target.href, nonce);
    if (response.status < 400) {
      this.#stepUps = 0;
      return 'pass';
    }
    if (response.status !== 401 && response.status !== 403) return 'pass';
    await this.#load();
    const challenge = readResourceChallenge(readHeader(response.headers, 'www-authenticate'));
    if (challenge.resourceMetadata !== undefined)
      this.#lastChallengeResourceMetadata = challenge.resourceMetadata;
    const sent = extractToken(readHeader(response.requestHeaders, 'authorization'));
    const tokens = this.#tokens;
    const decision = decide({
      status: response.status,
      challenge,
      attempt: response.attempt,
      sentToken: sent !== undefined,
      held:
        tokens === undefined
          ? undefined
          : {
              sentTokenIsCurrent: sent === tokens.accessToken,
              canRefresh: this.#canRenewSilently(tokens),
              requestedScopes: tokens.requestedScopes,
              grantedScopes: tokens.grantedScopes,
            },
      stepUps: this.#stepUps,
      maxStepUps: this.#options.maxStepUps ?? 3,
    });
    this.#logger.debug('session.decision', {
      status: response.status,
      decision: decision.type,
      error: challenge.error,
      attempt: response.attempt,
    });
    if (decision.type === 'retry' && decision.reason === 'dpop_nonce' && nonce === undefined) return 'pass';
    await this.#carryOut(decision, challenge.resourceMetadata, response.signal);
    return decision.type === 'pass' ? 'pass' : 'retry';
  }

  /**
   * Whether the session would authorize a request to `url` (same origin, path inside the protected
   * resource). Synchronous, for library hooks that cannot wait (e.g. redirect callbacks).
   */
  isProtectedUrl(url: string | URL): boolean {
    const target = toUrl(url);
    return target !== undefined && this.#isProtected(target);
  }

  // ---------------------------------------------------------------- application API

  /** A valid access token (refreshing or authorizing as needed). Prefer {@link getAuthorizationHeaders}. */
  async getAccessToken(options: { signal?: AbortSignal } = {}): Promise<string> {
    await this.#load();
    let tokens = this.#tokens;
    if (tokens === undefined) tokens = await this.#acquire(undefined, options.signal);
    else if (this.#isExpiring(tokens)) {
      tokens = this.#canRenewSilently(tokens)
        ? await this.#renewBeforeUse(tokens, options.signal)
        : await this.#acquire(tokens.requestedScopes, options.signal);
    }
    return tokens.accessToken;
  }

  /** Runs discovery, registration and the whole grant now (a CLI's `login` command). */
  async authorize(options: { signal?: AbortSignal; scopes?: readonly string[] } = {}): Promise<TokenInfo> {
    await this.#load();
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
    await this.#load();
    const binding = await this.#bind(undefined, options.signal);
    return this.#startAuthorization(binding, options.scopes, undefined, options.signal);
  }

  /** Finishes an authorization from the redirect the user's browser arrived with. */
  async completeAuthorization(
    callback: CallbackInput,
    options: { signal?: AbortSignal } = {},
  ): Promise<TokenInfo> {
    await this.#load();
    const parameters: CallbackParameters = parseCallback(callback);
    const pending =
      parameters.state === undefined ? undefined : await this.#stores.pending.take(parameters.state);
    const { code } = validateCallback(parameters, pending, this.#clock());
    // validateCallback guarantees pending is defined from here on.
    const record = pending!;
    const binding = await this.#bindingFor(record.serverUrl, record.issuer, options.signal);
    if (binding.client.clientId !== record.clientId) {
      throw oauthError('authorization_failed', 'the client registration changed during the authorization');
    }
    const tokens = await this.#runExclusive(
      binding,
      { stale: undefined, signal: options.signal, fresh: true },
      () =>
        this.#exchange(
          binding,
          {
            type: 'authorization_code',
            code,
            codeVerifier: record.codeVerifier,
            redirectUri: record.redirectUri,
          },
          record.scopes,
          undefined,
          options.signal,
        ),
    );
    this.#logger.debug('session.authorized', {
      issuer: binding.discovery.issuer,
      scopes: tokens.grantedScopes,
    });
    return this.getTokenInfo()!;
  }

  /** What the session holds, without the token itself. */
  getTokenInfo(): TokenInfo | undefined {
    const tokens = this.#tokens;
    const binding = this.#binding;
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
    await this.#load();
    const binding = this.#binding;
    const tokens = this.#tokens;
    let revoked = false;
    if (binding !== undefined) {
      const key = this.#key(binding);
      this.#tokens = undefined;
      await this.#stores.tokens.delete(key);
      const endpoint = binding.discovery.authorizationServerMetadata.revocation_endpoint;
      if (tokens !== undefined && endpoint !== undefined) {
        revoked = true;
        const pairs: Array<[string, 'refresh_token' | 'access_token']> = [];
        if (tokens.refreshToken !== undefined) pairs.push([tokens.refreshToken, 'refresh_token']);
        pairs.push([tokens.accessToken, 'access_token']);
        for (const [token, hint] of pairs) {
          if (!(await this.#revokeQuietly(binding, token, hint, options.signal))) revoked = false;
        }
      }
      if (options.forgetClient) {
        if (binding.client.source === 'dynamic') await this.#stores.clients.delete(binding.discovery.issuer);
        await this.#stores.discovery.delete(this.serverUrl.href);
        this.#binding = undefined;
      }
    }
    return { revoked };
  }

  /** RFC 7009 revocation when the server supports it; failures are logged, never thrown. */
  async #revokeQuietly(
    binding: Binding,
    token: string,
    hint: 'access_token' | 'refresh_token',
    signal: AbortSignal | undefined,
  ): Promise<boolean> {
    const endpoint = binding.discovery.authorizationServerMetadata.revocation_endpoint;
    if (endpoint === undefined) return false;
    try {
      const client = await this.#clientAuthentication(binding.client);
      // Revocation needs a client identity (RFC 7009 §2.1); an anonymous workload has none.
      if (client === undefined) return false;
      await revokeToken(this.#http, {
        endpoint,
        issuer: binding.discovery.issuer,
        token,
        tokenTypeHint: hint,
        client,
        now: this.#clock(),
        ...(signal === undefined ? {} : { signal }),
      });
      return true;
    } catch (error) {
      this.#logger.warn('session.revocation_failed', { hint, code: codeOf(error) });
      return false;
    }
  }

  // ---------------------------------------------------------------- decisions

  async #carryOut(
    decision: Decision,
    resourceMetadataUrl: string | undefined,
    signal: AbortSignal | undefined,
  ) {
    switch (decision.type) {
      case 'pass':
      case 'retry':
        return;
      case 'fail':
        throw decision.error;
      case 'refresh':
        await this.#recoverFromRejection(resourceMetadataUrl, signal);
        return;
      case 'authorize': {
        const stale = this.#tokens?.accessToken;
        const binding = await this.#bind(resourceMetadataUrl, signal);
        await this.#runExclusive(binding, { stale, signal }, (current) =>
          this.#grantType() === 'authorization_code'
            ? this.#interactive(current, decision.challengeScopes, undefined, signal)
            : this.#obtainMachineTokens(
                current,
                this.#selectScopes(current, decision.challengeScopes),
                signal,
              ),
        );
        return;
      }
      case 'step_up': {
        this.#stepUps++;
        const binding = this.#binding!;
        const stale = this.#tokens?.accessToken;
        const scopes = unionScopes(this.#options.scopes, decision.scopes);
        this.#logger.debug('session.step_up', { scopes, attempt: this.#stepUps });
        const superseded = this.#tokens?.refreshToken;
        const next = await this.#runExclusive(binding, { stale, signal }, (current) =>
          this.#grantType() === 'authorization_code'
            ? this.#interactive(current, undefined, scopes, signal)
            : this.#obtainMachineTokens(current, scopes, signal),
        );
        // The step-up created a new grant; the old grant's refresh token is no longer needed.
        if (superseded !== undefined && superseded !== next.refreshToken) {
          await this.#revokeQuietly(binding, superseded, 'refresh_token', signal);
        }
        return;
      }
    }
  }

  /**
   * A token that used to work was rejected. If the resource now names another authorization
   * server, start over there (never sending the old server's client or tokens to it); otherwise
   * refresh, and fall back to a new grant when the refresh token is no longer valid.
   */
  async #recoverFromRejection(resourceMetadataUrl: string | undefined, signal: AbortSignal | undefined) {
    const before = this.#binding!;
    const stale = this.#tokens?.accessToken;
    // One caller checks and renews; concurrent rejections of the same token join it.
    await this.#runExclusive(before, { stale, signal }, async (binding) => {
      if (!(await this.#authorizationServerChanged(binding, resourceMetadataUrl, signal))) {
        return this.#refreshOrRegrant(binding, signal);
      }
      this.#logger.warn('session.authorization_server_changed', { from: binding.discovery.issuer });
      this.#tokens = undefined;
      this.#binding = undefined;
      await this.#stores.discovery.delete(this.serverUrl.href);
      const next = await this.#bind(resourceMetadataUrl, signal);
      return this.#acquireFor(next, undefined, signal);
    });
  }

  async #authorizationServerChanged(
    binding: Binding,
    resourceMetadataUrl: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<boolean> {
    if (binding.discovery.resourceMetadata === undefined) return false;
    try {
      const found = await discoverProtectedResource(this.#http, {
        serverUrl: this.serverUrl,
        resourceMetadataUrl: resourceMetadataUrl ?? binding.discovery.resourceMetadataUrl,
        signal,
      });
      const servers = found?.metadata.authorization_servers ?? [];
      return servers.length > 0 && !servers.includes(binding.discovery.issuer);
    } catch (error) {
      if (isOAuthClientError(error, 'resource_mismatch') || isOAuthClientError(error, 'unsafe_url'))
        throw error;
      this.#logger.debug('session.rediscovery_failed', { code: codeOf(error) });
      return false;
    }
  }

  // ---------------------------------------------------------------- token acquisition

  /** No tokens yet: discover, register and run the configured grant. */
  async #acquire(
    scopes: readonly string[] | undefined,
    signal: AbortSignal | undefined,
  ): Promise<StoredTokens> {
    const binding = await this.#bind(this.#lastChallengeResourceMetadata, signal);
    return this.#runExclusive(binding, { stale: this.#tokens?.accessToken, signal }, (current) =>
      this.#acquireFor(current, scopes, signal),
    );
  }

  #acquireFor(binding: Binding, scopes: readonly string[] | undefined, signal: AbortSignal | undefined) {
    return this.#grantType() === 'authorization_code'
      ? this.#interactive(binding, undefined, scopes, signal)
      : this.#obtainMachineTokens(binding, scopes, signal);
  }

  async #refreshOrRegrant(binding: Binding, signal: AbortSignal | undefined): Promise<StoredTokens> {
    const tokens = this.#tokens;
    if (tokens?.refreshToken !== undefined) {
      try {
        return await this.#refresh(binding, tokens, signal);
      } catch (error) {
        if (!isOAuthClientError(error, 'token_request_failed') || error.oauthError !== 'invalid_grant') {
          throw wrapRefreshError(error);
        }
        this.#logger.debug('session.refresh_token_rejected', { issuer: binding.discovery.issuer });
        this.#tokens = undefined;
        await this.#stores.tokens.delete(this.#key(binding));
      }
    }
    return this.#acquireFor(binding, tokens?.requestedScopes, signal);
  }

  async #refresh(
    binding: Binding,
    tokens: StoredTokens,
    signal: AbortSignal | undefined,
  ): Promise<StoredTokens> {
    const policy = this.#options.refreshScopes ?? 'granted';
    const scopes =
      policy === 'none' ? undefined : policy === 'requested' ? tokens.requestedScopes : tokens.grantedScopes;
    this.#logger.debug('session.refresh', { issuer: binding.discovery.issuer });
    return this.#exchange(
      binding,
      { type: 'refresh_token', refreshToken: tokens.refreshToken!, scopes },
      tokens.requestedScopes,
      tokens,
      signal,
    );
  }

  /** Proactive renewal before use: a failure keeps a still-valid token (the AS may just be down). */
  async #renewBeforeUse(tokens: StoredTokens, signal: AbortSignal | undefined): Promise<StoredTokens> {
    const binding = this.#binding!;
    try {
      return await this.#runExclusive(binding, { stale: tokens.accessToken, signal }, (current) =>
        this.#refreshOrRegrant(current, signal),
      );
    } catch (error) {
      if (tokens.expiresAt !== undefined && tokens.expiresAt > this.#clock() && !isAbort(error)) {
        this.#logger.warn('session.renewal_failed_token_still_valid', { code: codeOf(error) });
        return tokens;
      }
      throw error;
    }
  }

  async #obtainMachineTokens(
    binding: Binding,
    scopes: readonly string[] | undefined,
    signal: AbortSignal | undefined,
  ): Promise<StoredTokens> {
    const chosen = scopes ?? this.#selectScopes(binding, []);
    const options = this.#options.grant;
    let grant: TokenGrant;
    if (options?.type === 'jwt_bearer') {
      const assertion = await options.assertion({
        issuer: binding.discovery.issuer,
        resource: binding.discovery.resource,
        signal,
      });
      if (typeof assertion !== 'string' || assertion.length === 0) {
        throw oauthError(
          'invalid_options',
          'the jwt-bearer assertion callback must return a non-empty string',
        );
      }
      grant = { type: 'jwt_bearer', assertion, scopes: chosen };
    } else {
      grant = { type: 'client_credentials', scopes: chosen };
    }
    return this.#exchange(binding, grant, chosen, undefined, signal);
  }

  /** The user flow: start an authorization, hand it to the application, finish it. */
  async #interactive(
    binding: Binding,
    challengeScopes: readonly string[] | undefined,
    scopes: readonly string[] | undefined,
    signal: AbortSignal | undefined,
  ): Promise<StoredTokens> {
    const { authorizationUrl, state } = await this.#startAuthorization(
      binding,
      scopes,
      challengeScopes,
      signal,
    );
    const handler = this.#options.authorizationHandler;
    if (handler === undefined) {
      throw new AuthorizationRequiredError(
        'the user must authorize this client; send them to the authorization URL',
        {
          authorizationUrl,
          state,
        },
      );
    }
    this.#logger.debug('session.authorization_started', { issuer: binding.discovery.issuer });
    const callback = await abortable(handler({ authorizationUrl, state, signal }), signal);
    const parameters = parseCallback(callback);
    const pending =
      parameters.state === undefined ? undefined : await this.#stores.pending.take(parameters.state);
    const { code } = validateCallback(parameters, pending, this.#clock());
    return this.#exchange(
      binding,
      {
        type: 'authorization_code',
        code,
        codeVerifier: pending!.codeVerifier,
        redirectUri: pending!.redirectUri,
      },
      pending!.scopes,
      undefined,
      signal,
    );
  }

  async #startAuthorization(
    binding: Binding,
    scopes: readonly string[] | undefined,
    challengeScopes: readonly string[] | undefined,
    signal: AbortSignal | undefined,
  ): Promise<{ authorizationUrl: string; state: string }> {
    if (signal?.aborted) throw oauthError('aborted', 'the authorization was aborted');
    // The configured URI wins: a loopback callback server may listen on a new port after a restart
    // (RFC 8252 §7.3 has the authorization server accept any port for loopback redirects).
    const redirectUri = this.#options.client?.redirectUris?.[0] ?? binding.client.redirectUris[0];
    if (redirectUri === undefined) {
      throw oauthError('invalid_options', 'client.redirectUris is required for the authorization code flow');
    }
    const chosen = scopes ?? this.#selectScopes(binding, challengeScopes ?? []);
    const dpop = await this.#dpopFor(binding);
    const { url, pending } = await createAuthorizationRequest({
      metadata: binding.discovery.authorizationServerMetadata,
      clientId: binding.client.clientId,
      redirectUri,
      scopes: chosen,
      resource: binding.discovery.resource,
      serverUrl: this.serverUrl.href,
      now: this.#clock(),
      ttlMs: this.#options.pendingAuthorizationTtlMs ?? DEFAULT_PENDING_TTL_MS,
      dpopJkt: dpop?.thumbprint,
    });
    await this.#stores.pending.set(pending.state, pending);
    return { authorizationUrl: url, state: pending.state };
  }

  /** One token request; stores and returns the result. */
  async #exchange(
    binding: Binding,
    grant: TokenGrant,
    requestedScopes: readonly string[],
    previous: StoredTokens | undefined,
    signal: AbortSignal | undefined,
  ): Promise<StoredTokens> {
    const metadata = binding.discovery.authorizationServerMetadata;
    if (metadata.token_endpoint === undefined) {
      throw oauthError('metadata_invalid', 'authorization server metadata has no "token_endpoint"');
    }
    const dpopKey = await this.#dpopFor(binding);
    const tokens = await requestToken(this.#http, {
      tokenEndpoint: metadata.token_endpoint,
      issuer: binding.discovery.issuer,
      grant,
      resource: binding.discovery.resource,
      client: await this.#clientAuthentication(binding.client),
      now: this.#clock(),
      dpop: dpopKey === undefined ? undefined : this.#dpopSource(dpopKey),
      requestedScopes,
      previous,
      signal,
    });
    const stored: StoredTokens =
      dpopKey === undefined ? tokens : { ...tokens, dpopKey: await exportDpopKey(dpopKey) };
    await this.#stores.tokens.set(this.#key(binding), stored);
    this.#tokens = stored;
    return stored;
  }

  /**
   * Single flight per (issuer, resource, client): concurrent callers share one operation, and with
   * a store that can lock, other sessions and processes share it too. `stale` is the access token
   * the caller saw; unless `fresh` is set, a newer valid token already in the store is used instead.
   * Each caller stops waiting when its own signal aborts; if the operation was aborted by the caller
   * that started it, the others start it again once.
   */
  async #runExclusive(
    binding: Binding,
    options: { stale: string | undefined; signal: AbortSignal | undefined; fresh?: boolean },
    task: (binding: Binding) => Promise<StoredTokens>,
  ): Promise<StoredTokens> {
    for (let round = 0; ; round++) {
      try {
        return await abortable(this.#shared(binding, options, task), options.signal);
      } catch (error) {
        const abortedByOther = isAbort(error) && options.signal?.aborted !== true;
        if (!abortedByOther || round >= 1) throw error;
      }
    }
  }

  #shared(
    binding: Binding,
    options: { stale: string | undefined; fresh?: boolean },
    task: (binding: Binding) => Promise<StoredTokens>,
  ): Promise<StoredTokens> {
    const key = this.#key(binding);
    const running = this.#inflight.get(key);
    if (running !== undefined) return running;
    const guarded = async (): Promise<StoredTokens> => {
      if (options.fresh !== true) {
        // Inside the lock the store is the truth: another session or process may have rotated the
        // refresh token since this one last looked, and refreshing with the old one would make an
        // authorization server with reuse detection revoke the whole grant.
        const stored = await this.#readTokens(key);
        this.#tokens = stored;
        if (stored !== undefined && stored.accessToken !== options.stale && !this.#isExpiring(stored)) {
          return stored;
        }
      }
      return task(binding);
    };
    const lock = this.#stores.tokens.lock?.bind(this.#stores.tokens);
    const promise = (lock === undefined ? guarded() : lock(key, guarded)).finally(() => {
      this.#inflight.delete(key);
    });
    this.#inflight.set(key, promise);
    return promise;
  }

  // ---------------------------------------------------------------- discovery and client identity

  /** Loads what the stores remember about this server once, so a restart needs no discovery. */
  #load(): Promise<void> {
    this.#loaded ??= (async () => {
      const record = await this.#stores.discovery.get(this.serverUrl.href);
      if (record === undefined || record.clientId === undefined) return;
      const client = await this.#knownClient(record);
      if (client === undefined) return;
      this.#binding = { discovery: record, client };
      this.#tokens = await this.#readTokens(this.#key(this.#binding));
    })().catch((error: unknown) => {
      this.#loaded = undefined;
      throw isOAuthClientError(error)
        ? error
        : oauthError('store_failed', 'reading the session stores failed');
    });
    return this.#loaded;
  }

  async #knownClient(record: DiscoveryRecord): Promise<ClientInformation | undefined> {
    if (record.clientId === '') return this.#workloadClient(record);
    const options = this.#options.client ?? {};
    const preRegistered = options.preRegistered?.find((entry) => entry.issuer === record.issuer);
    if (preRegistered !== undefined && preRegistered.clientId === record.clientId) {
      return resolveClient(this.#http, this.#resolveInput(record));
    }
    if (options.clientMetadataUrl !== undefined && options.clientMetadataUrl === record.clientId) {
      return resolveClient(this.#http, this.#resolveInput(record));
    }
    const stored = await this.#stores.clients.get(record.issuer);
    return stored !== undefined && stored.clientId === record.clientId && stored.issuer === record.issuer
      ? stored
      : undefined;
  }

  #resolveInput(record: DiscoveryRecord) {
    return {
      issuer: record.issuer,
      metadata: record.authorizationServerMetadata,
      client: this.#clientOptions(),
      grantTypes: this.#grantTypes(record),
      store: this.#stores.clients,
      now: this.#clock(),
    };
  }

  /** The current binding, or a fresh discovery and client resolution. */
  async #bind(resourceMetadataUrl: string | undefined, signal: AbortSignal | undefined): Promise<Binding> {
    if (this.#binding !== undefined) return this.#binding;
    // Concurrent first requests share one discovery and one registration.
    // Shared by every waiter, so it runs without any one caller's signal (each stops waiting on its own).
    this.#bindingInFlight ??= this.#discoverAndRegister(resourceMetadataUrl).finally(() => {
      this.#bindingInFlight = undefined;
    });
    return abortable(this.#bindingInFlight, signal);
  }

  async #discoverAndRegister(resourceMetadataUrl: string | undefined): Promise<Binding> {
    const result = await discover(this.#http, {
      serverUrl: this.serverUrl,
      resourceMetadataUrl,
      selectAuthorizationServer: this.#options.selectAuthorizationServer,
      policyFor: (issuer) => this.#options.authorizationServerPolicies?.[issuer],
    });
    const record = this.#record(result);
    const client =
      (await this.#workloadClient(record)) ?? (await resolveClient(this.#http, this.#resolveInput(record)));
    const discovery: DiscoveryRecord = { ...record, clientId: client.clientId };
    await this.#stores.discovery.set(this.serverUrl.href, discovery);
    this.#binding = { discovery, client };
    this.#tokens = await this.#readTokens(this.#key(this.#binding));
    return this.#binding;
  }

  /** The binding a pending authorization was started with (possibly by another process). */
  async #bindingFor(serverUrl: string, issuer: string, signal: AbortSignal | undefined): Promise<Binding> {
    if (serverUrl !== this.serverUrl.href) {
      throw oauthError('state_mismatch', 'the authorization response belongs to another MCP server');
    }
    const binding = this.#binding ?? (await this.#bind(undefined, signal));
    // The pending record holds the issuer the metadata document named (what RFC 9207 `iss` is
    // compared with); it differs from the listed issuer only under an explicit mismatch policy.
    if (binding.discovery.authorizationServerMetadata.issuer !== issuer) {
      throw oauthError('issuer_mismatch', 'the authorization was started with another authorization server');
    }
    return binding;
  }

  #record(result: DiscoveryResult): DiscoveryRecord {
    return {
      serverUrl: this.serverUrl.href,
      resource: result.resource,
      ...(result.resourceMetadataUrl === undefined
        ? {}
        : { resourceMetadataUrl: result.resourceMetadataUrl }),
      ...(result.resourceMetadata === undefined ? {} : { resourceMetadata: result.resourceMetadata }),
      issuer: result.authorizationServer.issuer,
      authorizationServerMetadata: result.authorizationServer.metadata,
      metadataSource: result.authorizationServer.source,
      discoveredAt: this.#clock(),
    };
  }

  /**
   * The jwt-bearer grant registers nothing: without pre-registered credentials for this issuer the
   * workload presents only its assertion (RFC 7523 §2.1), under an empty client id.
   */
  async #workloadClient(record: DiscoveryRecord): Promise<ClientInformation | undefined> {
    if (this.#grantType() !== 'jwt_bearer') return undefined;
    if (this.#options.client?.preRegistered?.some((entry) => entry.issuer === record.issuer))
      return undefined;
    return {
      issuer: record.issuer,
      clientId: '',
      tokenEndpointAuthMethod: 'none',
      redirectUris: [],
      source: 'pre-registered',
    };
  }

  #clientOptions(): ClientOptions {
    return this.#options.client ?? {};
  }

  #grantType(): GrantOptions['type'] {
    return this.#options.grant?.type ?? 'authorization_code';
  }

  #grantTypes(record: DiscoveryRecord): string[] {
    switch (this.#grantType()) {
      case 'client_credentials':
        return ['client_credentials'];
      case 'jwt_bearer':
        return ['urn:ietf:params:oauth:grant-type:jwt-bearer'];
      default: {
        const supported = record.authorizationServerMetadata.grant_types_supported;
        return supported === undefined || supported.includes('refresh_token')
          ? ['authorization_code', 'refresh_token']
          : ['authorization_code'];
      }
    }
  }

  #selectScopes(binding: Binding, challengeScopes: readonly string[]): string[] {
    const metadata = binding.discovery.authorizationServerMetadata;
    return selectScopes({
      explicit: this.#options.scopes,
      challenge: challengeScopes.length > 0 ? challengeScopes : undefined,
      resourceMetadataScopes: binding.discovery.resourceMetadata?.scopes_supported,
      authorizationServerScopes: metadata.scopes_supported,
      fallbackToAuthorizationServer: this.#options.scopeFallback?.authorizationServer,
      defaults: this.#options.scopeFallback?.defaults,
      offlineAccess:
        this.#grantType() === 'authorization_code' &&
        this.#grantTypes(binding.discovery).includes('refresh_token'),
    });
  }

  async #clientAuthentication(client: ClientInformation): Promise<ClientAuthentication | undefined> {
    if (client.clientId === '') return undefined;
    const method = client.tokenEndpointAuthMethod;
    let signingKey: SigningKey | undefined;
    if (method === 'private_key_jwt') {
      const key = this.#options.clientKey;
      if (key === undefined)
        throw oauthError('invalid_options', 'private_key_jwt needs clientKey.privateKey');
      this.#signingKey ??= importSigningKey(key.privateKey, {
        ...(key.algorithm === undefined ? {} : { algorithm: key.algorithm }),
        ...(key.keyId === undefined ? {} : { keyId: key.keyId }),
      });
      signingKey = await this.#signingKey;
    }
    return {
      clientId: client.clientId,
      method,
      clientSecret: client.clientSecret,
      signingKey,
    };
  }

  // ---------------------------------------------------------------- DPoP and headers

  async #dpopFor(binding: Binding): Promise<DpopKey | undefined> {
    const setting = this.#options.dpop ?? false;
    if (setting === false) return undefined;
    if (setting === 'auto') {
      const algs = binding.discovery.authorizationServerMetadata.dpop_signing_alg_values_supported;
      if (algs === undefined || !algs.includes('ES256')) return undefined;
    }
    if (this.#dpopKey === undefined) {
      const persisted = this.#tokens?.dpopKey;
      this.#dpopKey = persisted === undefined ? await generateDpopKey() : await importDpopKey(persisted);
    }
    return this.#dpopKey;
  }

  #dpopSource(key: DpopKey): DpopProofSource {
    return {
      proof: (method, url, options) =>
        createDpopProof(key, { method, url, now: this.#clock(), nonce: options.nonce }),
      nonceFor: (url) => this.#nonces.get(url),
      rememberNonce: (url, nonce) => this.#nonces.set(url, nonce),
    };
  }

  async #headersFor(tokens: StoredTokens, method: string, target: URL): Promise<Record<string, string>> {
    if (tokens.tokenType !== 'DPoP') return { authorization: `Bearer ${tokens.accessToken}` };
    this.#dpopKey ??= tokens.dpopKey === undefined ? undefined : await importDpopKey(tokens.dpopKey);
    if (this.#dpopKey === undefined)
      throw oauthError('dpop_failed', 'a DPoP-bound token is held without its key');
    const proof = await createDpopProof(this.#dpopKey, {
      method,
      url: target.href,
      now: this.#clock(),
      nonce: this.#nonces.get(target.href),
      accessToken: tokens.accessToken,
    });
    return { authorization: `DPoP ${tokens.accessToken}`, dpop: proof };
  }

  // ---------------------------------------------------------------- small helpers

  /** A token record from the store, checked field by field: a damaged store is reported, not used. */
  async #readTokens(key: string): Promise<StoredTokens | undefined> {
    const stored: unknown = await this.#stores.tokens.get(key);
    if (stored === undefined) return undefined;
    if (!isStoredTokens(stored)) {
      throw oauthError(
        'store_failed',
        'the token store holds a malformed record for this server; delete it to authorize again',
      );
    }
    return stored;
  }

  #key(binding: Binding): string {
    return tokenKey(binding.discovery.issuer, binding.discovery.resource, binding.client.clientId);
  }

  #isProtected(target: URL): boolean {
    const resource = this.#binding?.discovery.resource;
    if (resource === undefined) return isWithinResource(target, this.serverUrl);
    // Asked on every request: parse the resource once per binding, not each time.
    if (this.#resourceBase?.resource !== resource) {
      this.#resourceBase = { resource, url: tryParseUrl(resource) ?? this.serverUrl };
    }
    return isWithinResource(target, this.#resourceBase.url);
  }

  /** Within the skew of expiry; the skew never exceeds half the token's lifetime. */
  #isExpiring(tokens: TokenSet): boolean {
    if (tokens.expiresAt === undefined) return false;
    const lifetime = Math.max(0, tokens.expiresAt - tokens.issuedAt);
    const skew = Math.min(this.#options.refreshSkewMs ?? DEFAULT_SKEW_MS, lifetime / 2);
    return tokens.expiresAt - skew <= this.#clock();
  }

  /** A refresh token, or a grant that needs no user. */
  #canRenewSilently(tokens: TokenSet): boolean {
    return tokens.refreshToken !== undefined || this.#grantType() !== 'authorization_code';
  }
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

function isStoredTokens(value: unknown): value is StoredTokens {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  const optionalNumber = (field: unknown) =>
    field === undefined || (typeof field === 'number' && Number.isFinite(field));
  const optionalString = (field: unknown) => field === undefined || typeof field === 'string';
  const key = record.dpopKey as Record<string, unknown> | undefined;
  const keyValid =
    key === undefined ||
    (typeof key === 'object' &&
      key !== null &&
      typeof key.publicJwk === 'object' &&
      key.publicJwk !== null &&
      typeof key.privateJwk === 'object' &&
      key.privateJwk !== null);
  return (
    typeof record.accessToken === 'string' &&
    record.accessToken.length > 0 &&
    (record.tokenType === 'Bearer' || (record.tokenType === 'DPoP' && key !== undefined)) &&
    optionalNumber(record.expiresAt) &&
    optionalString(record.refreshToken) &&
    optionalString(record.idToken) &&
    isStringArray(record.grantedScopes) &&
    isStringArray(record.requestedScopes) &&
    typeof record.issuedAt === 'number' &&
    keyValid
  );
}

function toUrl(value: string | URL): URL | undefined {
  return typeof value === 'string' ? tryParseUrl(value) : value;
}

/** The token an `Authorization: Bearer …` or `DPoP …` header carried. */
function extractToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  const match = /^(?:bearer|dpop)\s+(\S+)\s*$/i.exec(authorization);
  return match?.[1];
}

function codeOf(error: unknown): string {
  return isOAuthClientError(error) ? error.code : 'unexpected';
}

function isAbort(error: unknown): boolean {
  return isOAuthClientError(error, 'aborted');
}

function wrapRefreshError(error: unknown): OAuthClientError {
  if (isOAuthClientError(error) && (error.code === 'aborted' || error.code === 'refresh_failed'))
    return error;
  return oauthError('refresh_failed', 'refreshing the access token failed', {
    cause: isOAuthClientError(error) ? error : undefined,
    oauthError: isOAuthClientError(error) ? error.oauthError : undefined,
    status: isOAuthClientError(error) ? error.status : undefined,
  });
}

/** Rejects with `aborted` as soon as the signal fires, even if `promise` never settles. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(oauthError('aborted', 'the request was aborted'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(oauthError('aborted', 'the request was aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
