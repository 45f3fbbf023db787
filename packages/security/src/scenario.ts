/**
 * A well-behaved MCP server and authorization server, played by hostile servers, that each case then
 * subverts by adding routes of its own (the route added last wins). Three origins on 127.0.0.1:
 *
 * - `resource`: the MCP server at `/mcp` and its Protected Resource Metadata;
 * - `authorizationServer`: metadata, registration, `/authorize` and `/token`;
 * - `other`: an origin the client has no business talking to (the attacker).
 *
 * Every credential handed out contains `SECRET`: access and refresh tokens, codes, the client secret.
 * The client is the real one: an `OAuthSession` over `createFetchHttpClient` and `withOAuth`, with a
 * fetch that refuses anything but 127.0.0.1 and records every URL it was asked for.
 */
import { createHash } from 'node:crypto';
import { OAuthSession, type OAuthSessionOptions } from '@mcp-oauth/core';
import { createFetchHttpClient, withOAuth } from '@mcp-oauth/fetch';
import { afterEach } from 'vitest';
import { createRecordingLogger, type RecordingLogger } from './canary.js';
import { createGuardedFetch, type GuardedFetch } from './guarded-fetch.js';
import {
  type HostileServer,
  json,
  type RecordedRequest,
  type Reply,
  startHostileServer,
} from './hostile-server.js';

/** Never contacted: the "browser" hands the redirect straight back to the session. */
export const REDIRECT_URI = 'http://127.0.0.1:9/callback';
export const CLIENT_ID = 'client-1';
export const CLIENT_SECRET = 'client-secret-SECRET';
export const PRM_PATH = '/.well-known/oauth-protected-resource/mcp';
export const AS_METADATA_PATH = '/.well-known/oauth-authorization-server';

export interface ScenarioOptions {
  /** `expires_in` of issued access tokens. Default 3600. */
  readonly expiresIn?: number;
  /**
   * Give the MCP server and the authorization server public names (`https://mcp.example.com`,
   * `https://as.example.com`), reached on 127.0.0.1 through the guarded fetch; `other` stays on
   * 127.0.0.1. The client then judges them as public servers. Default: both on 127.0.0.1.
   */
  readonly publicNames?: boolean;
}

export const PUBLIC_MCP_HOST = 'mcp.example.com';
export const PUBLIC_AS_HOST = 'as.example.com';

/** What an authorization server played by {@link playAuthorizationServer} hands out and accepts. */
export interface AuthorizationServerState {
  /** Access tokens the resource accepts (tests may remove some). Shared by every played server. */
  readonly validAccessTokens: Set<string>;
  /** Refresh tokens this server accepts (each works once: they rotate). */
  readonly validRefreshTokens: Set<string>;
}

export interface Scenario {
  readonly resource: HostileServer;
  readonly authorizationServer: HostileServer;
  readonly other: HostileServer;
  readonly mcpUrl: string;
  readonly resourceMetadataUrl: string;
  readonly issuer: string;
  readonly guard: GuardedFetch;
  readonly logger: RecordingLogger;
  /** Access tokens the resource accepts (tests may remove some). */
  readonly validAccessTokens: Set<string>;
  /** Refresh tokens the authorization server accepts (each works once: they rotate). */
  readonly validRefreshTokens: Set<string>;
  /** The default PRM and authorization server metadata, for tests that change one field. */
  protectedResourceMetadata(): Record<string, unknown>;
  authorizationServerMetadata(): Record<string, unknown>;
  /** Makes `server` a full authorization server too (its tokens are prefixed with `prefix`). */
  playAuthorizationServer(server: HostileServer, prefix: string): AuthorizationServerState;
  /** Changes the authorization response the user's browser brings back (e.g. drops `iss`). */
  tamperCallback(change: (parameters: URLSearchParams) => void): void;
  /** The user's browser: follows `authorizationUrl` and returns the redirect it came back with. */
  approve(authorizationUrl: string): Promise<string>;
  /** A session for `mcpUrl`; with `browser: false` it has no authorization handler. */
  session(overrides?: Partial<OAuthSessionOptions>, options?: { browser?: boolean }): OAuthSession;
  /** `withOAuth(fetch, session)` over the guarded fetch. */
  fetchFor(session: OAuthSession): typeof fetch;
  /** One authorized request, so that the session holds tokens. */
  authorize(session: OAuthSession): Promise<void>;
  tokenRequests(grantType?: string): RecordedRequest[];
  /** The PKCE verifiers the client sent, for the canary check. */
  wireSecrets(): string[];
  close(): Promise<void>;
}

/** The `Authorization` header of `client_secret_basic` (RFC 6749 §2.3.1). */
export function basicAuthorization(clientId: string, clientSecret: string): string {
  const encode = (value: string) => encodeURIComponent(value);
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`).toString('base64')}`;
}

function s256(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

/** The metadata a well-behaved authorization server at `issuer` publishes. */
export function authorizationServerMetadataFor(issuer: string): Record<string, unknown> {
  return {
    issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/token`,
    registration_endpoint: `${issuer}/register`,
    response_types_supported: ['code'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['client_secret_basic'],
    authorization_response_iss_parameter_supported: true,
  };
}

/**
 * Installs metadata, registration (`client-1` with a secret), `/authorize` (approves at once, with
 * `iss`) and `/token` (authorization code with PKCE, rotating refresh tokens) on `server`.
 */
function installAuthorizationServer(
  server: HostileServer,
  validAccessTokens: Set<string>,
  options: { prefix: string; expiresIn: number },
): AuthorizationServerState {
  const issuer = server.origin;
  const validRefreshTokens = new Set<string>();
  const codes = new Map<string, { challenge: string; redirectUri: string; scope: string }>();
  const { prefix } = options;
  let serial = 0;
  server.route('GET', AS_METADATA_PATH, () => json(200, authorizationServerMetadataFor(issuer)));
  const clientId = `${prefix}${CLIENT_ID}`;
  const clientSecret = `${prefix}${CLIENT_SECRET}`;
  server.route('POST', '/register', (request) => {
    const body = JSON.parse(request.body) as { redirect_uris?: string[] };
    return json(201, {
      client_id: clientId,
      client_secret: clientSecret,
      client_secret_expires_at: 0,
      token_endpoint_auth_method: 'client_secret_basic',
      redirect_uris: body.redirect_uris ?? [],
    });
  });
  server.route('GET', '/authorize', (request) => {
    const query = new URL(request.url).searchParams;
    const code = `${prefix}code-SECRET-${++serial}`;
    const redirectUri = query.get('redirect_uri') ?? '';
    codes.set(code, {
      challenge: query.get('code_challenge') ?? '',
      redirectUri,
      scope: query.get('scope') ?? 'mcp',
    });
    const location = new URL(redirectUri);
    location.searchParams.set('code', code);
    location.searchParams.set('state', query.get('state') ?? '');
    location.searchParams.set('iss', issuer);
    return { status: 302, headers: { location: location.href } };
  });
  const expectedBasic = basicAuthorization(clientId, clientSecret);
  server.route('POST', '/token', (request) => {
    const form = request.form;
    if (request.headers.authorization !== expectedBasic) return json(401, { error: 'invalid_client' });
    const grantType = form.get('grant_type');
    // The user consents to what the client asked for; a refresh keeps the grant's scope.
    let scope = form.get('scope') ?? 'mcp';
    if (grantType === 'authorization_code') {
      const code = codes.get(form.get('code') ?? '');
      codes.delete(form.get('code') ?? '');
      if (
        code === undefined ||
        code.challenge !== s256(form.get('code_verifier') ?? '') ||
        code.redirectUri !== form.get('redirect_uri')
      ) {
        return json(400, { error: 'invalid_grant' });
      }
      scope = code.scope;
    } else if (grantType === 'refresh_token') {
      if (!validRefreshTokens.delete(form.get('refresh_token') ?? ''))
        return json(400, { error: 'invalid_grant' });
    } else {
      return json(400, { error: 'unsupported_grant_type' });
    }
    const n = ++serial;
    const accessToken = `${prefix}access-SECRET-${n}`;
    const refreshToken = `${prefix}refresh-SECRET-${n}`;
    validAccessTokens.add(accessToken);
    validRefreshTokens.add(refreshToken);
    return json(200, {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: options.expiresIn,
      refresh_token: refreshToken,
      scope,
    });
  });
  return { validAccessTokens, validRefreshTokens };
}

export async function startScenario(options: ScenarioOptions = {}): Promise<Scenario> {
  const named = options.publicNames === true;
  const [resource, authorizationServer, other] = await Promise.all([
    startHostileServer(named ? { name: PUBLIC_MCP_HOST } : {}),
    startHostileServer(named ? { name: PUBLIC_AS_HOST } : {}),
    startHostileServer(),
  ]);
  const mcpUrl = resource.url('/mcp');
  const resourceMetadataUrl = resource.url(PRM_PATH);
  const issuer = authorizationServer.origin;
  const guard = createGuardedFetch();
  for (const server of [resource, authorizationServer]) {
    if (server.origin !== server.loopbackOrigin) guard.alias(server.origin, server.loopbackOrigin);
  }
  const logger = createRecordingLogger();
  const validAccessTokens = new Set<string>();
  const expiresIn = options.expiresIn ?? 3600;
  let tamper: ((parameters: URLSearchParams) => void) | undefined;

  const protectedResourceMetadata = () => ({
    resource: mcpUrl,
    authorization_servers: [issuer],
    scopes_supported: ['mcp'],
    bearer_methods_supported: ['header'],
  });

  resource.route('GET', PRM_PATH, () => json(200, protectedResourceMetadata()));
  resource.route('*', '/mcp', (request): Reply => {
    const match = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '');
    if (match !== null && validAccessTokens.has(match[1]!)) return json(200, { ok: true });
    const error = match === null ? '' : ', error="invalid_token"';
    return json(
      401,
      { error: 'unauthorized' },
      { 'www-authenticate': `Bearer resource_metadata="${resourceMetadataUrl}", scope="mcp"${error}` },
    );
  });
  const { validRefreshTokens } = installAuthorizationServer(authorizationServer, validAccessTokens, {
    prefix: '',
    expiresIn,
  });

  const approve = async (authorizationUrl: string): Promise<string> => {
    const target = guard.resolve(authorizationUrl);
    if (new URL(target).hostname !== '127.0.0.1') throw new Error('refusing a foreign browser hop');
    const response = await globalThis.fetch(target, { redirect: 'manual' });
    await response.body?.cancel();
    const location = new URL(response.headers.get('location') ?? REDIRECT_URI);
    tamper?.(location.searchParams);
    return location.href;
  };

  return {
    resource,
    authorizationServer,
    other,
    mcpUrl,
    resourceMetadataUrl,
    issuer,
    guard,
    logger,
    validAccessTokens,
    validRefreshTokens,
    protectedResourceMetadata,
    authorizationServerMetadata: () => authorizationServerMetadataFor(issuer),
    playAuthorizationServer: (server, prefix) =>
      installAuthorizationServer(server, validAccessTokens, { prefix, expiresIn }),
    tamperCallback(change) {
      tamper = change;
    },
    approve,
    session: (overrides = {}, { browser = true } = {}) =>
      new OAuthSession({
        serverUrl: mcpUrl,
        httpClient: createFetchHttpClient(guard.fetch),
        client: { clientName: 'security suite', redirectUris: [REDIRECT_URI] },
        ...(browser ? { authorizationHandler: ({ authorizationUrl }) => approve(authorizationUrl) } : {}),
        logger,
        ...overrides,
      }),
    fetchFor: (session) => withOAuth(guard.fetch, session),
    async authorize(session) {
      const response = await withOAuth(guard.fetch, session)(mcpUrl, { method: 'POST', body: '{}' });
      if (response.status !== 200) throw new Error(`authorization failed with ${response.status}`);
    },
    tokenRequests: (grantType) =>
      authorizationServer
        .requestsTo('/token', 'POST')
        .filter((request) => grantType === undefined || request.form.get('grant_type') === grantType),
    wireSecrets: () =>
      [...resource.requests, ...authorizationServer.requests, ...other.requests]
        .map((request) => request.form.get('code_verifier'))
        .filter((value): value is string => value !== null && value.length > 0),
    close: async () => {
      await Promise.all([resource.close(), authorizationServer.close(), other.close()]);
    },
  };
}

/** A `startScenario` whose scenarios are closed after each test. */
export function useScenarios(): (options?: ScenarioOptions) => Promise<Scenario> {
  const open: Scenario[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((scenario) => scenario.close()));
  });
  return async (options) => {
    const scenario = await startScenario(options);
    open.push(scenario);
    return scenario;
  };
}
