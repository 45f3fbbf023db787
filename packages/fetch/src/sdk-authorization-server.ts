// Test-only: an authorization server built from the MCP TypeScript SDK's own server-side auth
// (`mcpAuthRouter` over an in-memory `OAuthServerProvider`), on an ephemeral 127.0.0.1 port.
// The provider follows the SDK's `DemoInMemoryAuthProvider` but issues rotating refresh tokens,
// enforces the scopes it knows, binds codes and tokens to their RFC 8707 resource, and keeps a
// log of what it was asked so a test can count registrations, grants and refreshes.
import { randomUUID } from 'node:crypto';
import { closeServer, listenOnLoopback } from '@mcp-oauth/testkit';
import type { OAuthRegisteredClientsStore } from '@modelcontextprotocol/sdk/server/auth/clients.js';
import {
  InvalidGrantError,
  InvalidScopeError,
  InvalidTargetError,
  InvalidTokenError,
} from '@modelcontextprotocol/sdk/server/auth/errors.js';
import type {
  AuthorizationParams,
  OAuthServerProvider,
} from '@modelcontextprotocol/sdk/server/auth/provider.js';
import { mcpAuthRouter } from '@modelcontextprotocol/sdk/server/auth/router.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type {
  OAuthClientInformationFull,
  OAuthTokenRevocationRequest,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import express, { type Response } from 'express';

const ACCESS_TOKEN_LIFETIME_S = 3600;

export interface AuthorizationRecord {
  readonly clientId: string;
  readonly scopes: readonly string[];
  readonly resource: string | undefined;
}

export interface TokenRequestRecord {
  readonly grantType: 'authorization_code' | 'refresh_token';
  readonly clientId: string;
  readonly scopes: readonly string[];
  readonly resource: string | undefined;
}

/** What the authorization server was asked, in order. */
export interface AuthorizationServerLog {
  readonly registrations: string[];
  readonly authorizations: AuthorizationRecord[];
  readonly tokenRequests: TokenRequestRecord[];
  readonly revocations: Array<'access_token' | 'refresh_token' | 'unknown'>;
}

interface Grant {
  readonly clientId: string;
  readonly scopes: readonly string[];
  readonly resource: string | undefined;
}

interface AccessToken extends Grant {
  expiresAt: number;
}

interface PendingCode extends Grant {
  readonly codeChallenge: string;
  readonly redirectUri: string;
}

class ClientsStore implements OAuthRegisteredClientsStore {
  readonly #clients = new Map<string, OAuthClientInformationFull>();
  readonly #log: AuthorizationServerLog;

  constructor(log: AuthorizationServerLog) {
    this.#log = log;
  }

  getClient(clientId: string): OAuthClientInformationFull | undefined {
    return this.#clients.get(clientId);
  }

  registerClient(client: OAuthClientInformationFull): OAuthClientInformationFull {
    this.#clients.set(client.client_id, client);
    this.#log.registrations.push(client.client_id);
    return client;
  }
}

/** An auto-approving user: every authorization request is granted the scopes it asks for. */
export class InMemoryAuthorizationProvider implements OAuthServerProvider {
  readonly log: AuthorizationServerLog = {
    registrations: [],
    authorizations: [],
    tokenRequests: [],
    revocations: [],
  };
  readonly clientsStore: ClientsStore = new ClientsStore(this.log);
  readonly #scopesSupported: ReadonlySet<string>;
  readonly #codes = new Map<string, PendingCode>();
  readonly #accessTokens = new Map<string, AccessToken>();
  readonly #refreshTokens = new Map<string, Grant>();
  #refreshesHeld: Promise<void> | undefined;

  constructor(scopesSupported: readonly string[]) {
    this.#scopesSupported = new Set(scopesSupported);
  }

  async authorize(
    client: OAuthClientInformationFull,
    params: AuthorizationParams,
    response: Response,
  ): Promise<void> {
    const scopes = params.scopes ?? [];
    if (scopes.some((scope) => !this.#scopesSupported.has(scope))) {
      // The SDK's authorize handler turns this into an error redirect.
      throw new InvalidScopeError('unknown scope requested');
    }
    const resource = params.resource?.href;
    this.log.authorizations.push({ clientId: client.client_id, scopes, resource });
    const code = randomUUID();
    this.#codes.set(code, {
      clientId: client.client_id,
      scopes,
      resource,
      codeChallenge: params.codeChallenge,
      redirectUri: params.redirectUri,
    });
    const target = new URL(params.redirectUri);
    target.searchParams.set('code', code);
    if (params.state !== undefined) target.searchParams.set('state', params.state);
    response.redirect(302, target.href);
  }

  async challengeForAuthorizationCode(client: OAuthClientInformationFull, code: string): Promise<string> {
    const pending = this.#codes.get(code);
    if (pending === undefined || pending.clientId !== client.client_id) {
      throw new InvalidGrantError('unknown authorization code');
    }
    return pending.codeChallenge;
  }

  async exchangeAuthorizationCode(
    client: OAuthClientInformationFull,
    code: string,
    _codeVerifier?: string,
    redirectUri?: string,
    resource?: URL,
  ): Promise<OAuthTokens> {
    const pending = this.#codes.get(code);
    // Codes are single use, whatever the outcome.
    this.#codes.delete(code);
    if (pending === undefined || pending.clientId !== client.client_id) {
      throw new InvalidGrantError('unknown authorization code');
    }
    if (redirectUri !== pending.redirectUri) throw new InvalidGrantError('redirect_uri does not match');
    if (resource?.href !== pending.resource) throw new InvalidTargetError('resource does not match');
    this.log.tokenRequests.push({
      grantType: 'authorization_code',
      clientId: client.client_id,
      scopes: pending.scopes,
      resource: pending.resource,
    });
    return this.#issue(pending);
  }

  async exchangeRefreshToken(
    client: OAuthClientInformationFull,
    refreshToken: string,
    scopes?: string[],
    resource?: URL,
  ): Promise<OAuthTokens> {
    await this.#refreshesHeld;
    const grant = this.#refreshTokens.get(refreshToken);
    if (grant === undefined || grant.clientId !== client.client_id) {
      throw new InvalidGrantError('unknown refresh token');
    }
    if (resource !== undefined && resource.href !== grant.resource) {
      throw new InvalidTargetError('resource does not match');
    }
    const narrowed = scopes ?? grant.scopes;
    if (narrowed.some((scope) => !grant.scopes.includes(scope))) {
      throw new InvalidScopeError('a refresh cannot widen the grant');
    }
    // Rotation (OAuth 2.1 §4.3.1 for public clients): the used refresh token stops working.
    this.#refreshTokens.delete(refreshToken);
    this.log.tokenRequests.push({
      grantType: 'refresh_token',
      clientId: client.client_id,
      scopes: narrowed,
      resource: grant.resource,
    });
    return this.#issue({ ...grant, scopes: narrowed });
  }

  async verifyAccessToken(token: string): Promise<AuthInfo> {
    const record = this.#accessTokens.get(token);
    if (record === undefined || record.expiresAt <= Date.now()) {
      throw new InvalidTokenError('the access token is not active');
    }
    return {
      token,
      clientId: record.clientId,
      scopes: [...record.scopes],
      expiresAt: Math.floor(record.expiresAt / 1000),
      ...(record.resource === undefined ? {} : { resource: new URL(record.resource) }),
    };
  }

  async revokeToken(client: OAuthClientInformationFull, request: OAuthTokenRevocationRequest): Promise<void> {
    const refresh = this.#refreshTokens.get(request.token);
    if (refresh?.clientId === client.client_id) {
      this.#refreshTokens.delete(request.token);
      this.log.revocations.push('refresh_token');
      return;
    }
    const access = this.#accessTokens.get(request.token);
    if (access?.clientId === client.client_id) {
      this.#accessTokens.delete(request.token);
      this.log.revocations.push('access_token');
      return;
    }
    this.log.revocations.push('unknown');
  }

  /** Whether the server issued this string as an access token (valid or not). */
  issuedAccessToken(token: string): boolean {
    return this.#accessTokens.has(token);
  }

  /**
   * Keeps refresh-token requests waiting until the returned function is called, so that a test
   * can have a refresh in flight while other requests are rejected.
   */
  holdRefreshes(): () => void {
    let release!: () => void;
    this.#refreshesHeld = new Promise((resolve) => {
      release = resolve;
    });
    return () => {
      this.#refreshesHeld = undefined;
      release();
    };
  }

  /** Ends every access token's lifetime now, as if an hour had passed; refresh tokens stay valid. */
  expireAccessTokens(): void {
    for (const record of this.#accessTokens.values()) record.expiresAt = Date.now() - 1;
  }

  #issue(grant: Grant): OAuthTokens {
    const accessToken = randomUUID();
    const refreshToken = randomUUID();
    this.#accessTokens.set(accessToken, { ...grant, expiresAt: Date.now() + ACCESS_TOKEN_LIFETIME_S * 1000 });
    this.#refreshTokens.set(refreshToken, grant);
    return {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: ACCESS_TOKEN_LIFETIME_S,
      scope: grant.scopes.join(' '),
      refresh_token: refreshToken,
    };
  }
}

export interface SdkAuthorizationServer {
  /** The issuer, e.g. `http://127.0.0.1:PORT/`. */
  readonly issuer: URL;
  /** RFC 7662 introspection, the way the SDK's examples let a resource server check a token. */
  readonly introspectionEndpoint: URL;
  readonly provider: InMemoryAuthorizationProvider;
  close(): Promise<void>;
}

/** Starts the SDK's authorization server on 127.0.0.1 with an ephemeral port. */
export async function startSdkAuthorizationServer(options: {
  readonly scopesSupported: readonly string[];
}): Promise<SdkAuthorizationServer> {
  const { server, origin } = await listenOnLoopback();
  const issuer = new URL(`${origin}/`);
  const provider = new InMemoryAuthorizationProvider(options.scopesSupported);
  const app = express();
  app.use(
    mcpAuthRouter({
      provider,
      issuerUrl: issuer,
      scopesSupported: [...options.scopesSupported],
      // Deterministic tests: no request budget to run out of.
      authorizationOptions: { rateLimit: false },
      tokenOptions: { rateLimit: false },
      clientRegistrationOptions: { rateLimit: false },
      revocationOptions: { rateLimit: false },
    }),
  );
  app.post('/introspect', express.urlencoded({ extended: false }), async (request, response) => {
    const token: unknown = request.body?.token;
    if (typeof token !== 'string') {
      response.status(400).json({ error: 'invalid_request' });
      return;
    }
    try {
      const info = await provider.verifyAccessToken(token);
      response.json({
        active: true,
        client_id: info.clientId,
        scope: info.scopes.join(' '),
        exp: info.expiresAt,
        token_type: 'Bearer',
        ...(info.resource === undefined ? {} : { aud: info.resource.href }),
      });
    } catch {
      response.json({ active: false });
    }
  });
  server.on('request', app);
  return {
    issuer,
    introspectionEndpoint: new URL('/introspect', issuer),
    provider,
    close: () => closeServer(server),
  };
}
