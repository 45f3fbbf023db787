import type { OAuthHttpRequest, OAuthHttpResponse } from '../http.js';
import { FakeHttpClient } from './fake-http.js';

/**
 * A scripted authorization server and resource metadata host, served through FakeHttpClient.
 * It issues real-looking codes and tokens, checks PKCE, and lets a test change its behaviour.
 */
export interface FakeServerOptions {
  readonly resourceOrigin?: string;
  readonly resourcePath?: string;
  readonly issuer?: string;
  readonly accessTokenLifetime?: number;
  readonly issueRefreshTokens?: boolean;
  readonly rotateRefreshTokens?: boolean;
  readonly issParameterSupported?: boolean;
  readonly scopesSupported?: readonly string[];
  readonly resourceScopes?: readonly string[];
  readonly dpop?: boolean;
  readonly revocation?: boolean;
  readonly tokenEndpointAuthMethods?: readonly string[];
  /** Prefix of the client ids this server registers. */
  readonly clientIdPrefix?: string;
  /** Scopes the user would never grant (a consent that leaves some out). */
  readonly withheldScopes?: readonly string[];
}

export const SERVER = 'https://mcp.example.com';
export const ISSUER = 'https://auth.example.com';

interface Grant {
  clientId: string;
  scope: string;
  resource: string | undefined;
  challenge: string;
  redirectUri: string;
}

export class FakeServer {
  readonly http = new FakeHttpClient();
  readonly options: Required<FakeServerOptions>;
  readonly issuedAccessTokens: string[] = [];
  readonly issuedRefreshTokens: string[] = [];
  readonly validRefreshTokens = new Map<string, { scope: string; clientId: string }>();
  readonly revoked: string[] = [];
  /** Access tokens the resource accepts, with their scopes and expiry (ms, on `now()`). */
  readonly accessTokens = new Map<string, { scope: string[]; expiresAt: number; dpop: boolean }>();
  /** The fake's clock, shared with the session under test. */
  now = 1_700_000_000_000;
  #codes = new Map<string, Grant>();
  #counter = 0;
  #clients = 0;
  /** Overrides the token endpoint's reply for the next token request when set. */
  nextTokenReply: Partial<OAuthHttpResponse> | undefined;

  constructor(options: FakeServerOptions = {}) {
    this.options = {
      resourceOrigin: SERVER,
      resourcePath: '/mcp',
      issuer: ISSUER,
      accessTokenLifetime: 3600,
      issueRefreshTokens: true,
      rotateRefreshTokens: true,
      issParameterSupported: true,
      scopesSupported: ['mcp:read', 'mcp:write', 'offline_access'],
      resourceScopes: ['mcp:read'],
      dpop: false,
      revocation: true,
      tokenEndpointAuthMethods: ['none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt'],
      clientIdPrefix: 'client',
      withheldScopes: [],
      ...options,
    };
    const { resourceOrigin, resourcePath, issuer } = this.options;
    this.http.json('GET', `${resourceOrigin}/.well-known/oauth-protected-resource${resourcePath}`, {
      resource: `${resourceOrigin}${resourcePath}`,
      authorization_servers: [issuer],
      scopes_supported: this.options.resourceScopes,
    });
    this.http.json('GET', `${issuer}/.well-known/oauth-authorization-server`, this.metadata());
    this.http.on('POST', `${issuer}/register`, (request) => this.#register(request));
    this.http.on('POST', `${issuer}/token`, (request) => this.#token(request));
    this.http.on('POST', `${issuer}/revoke`, (request) => this.#revoke(request));
  }

  get resourceUrl(): string {
    return `${this.options.resourceOrigin}${this.options.resourcePath}`;
  }

  metadata(): Record<string, unknown> {
    const { issuer } = this.options;
    return {
      issuer,
      authorization_endpoint: `${issuer}/authorize`,
      token_endpoint: `${issuer}/token`,
      registration_endpoint: `${issuer}/register`,
      ...(this.options.revocation ? { revocation_endpoint: `${issuer}/revoke` } : {}),
      scopes_supported: this.options.scopesSupported,
      response_types_supported: ['code'],
      grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: this.options.tokenEndpointAuthMethods,
      authorization_response_iss_parameter_supported: this.options.issParameterSupported,
      ...(this.options.dpop ? { dpop_signing_alg_values_supported: ['ES256'] } : {}),
    };
  }

  /** Plays the user approving at the authorization endpoint: returns the redirect URL. */
  async approve(authorizationUrl: string, options: { iss?: string | null } = {}): Promise<string> {
    const url = new URL(authorizationUrl);
    const parameters = url.searchParams;
    if (parameters.get('code_challenge_method') !== 'S256') throw new Error('PKCE S256 missing');
    const code = `code-${++this.#counter}`;
    this.#codes.set(code, {
      clientId: parameters.get('client_id') ?? '',
      scope: parameters.get('scope') ?? '',
      resource: parameters.get('resource') ?? undefined,
      challenge: parameters.get('code_challenge') ?? '',
      redirectUri: parameters.get('redirect_uri') ?? '',
    });
    const redirect = new URL(parameters.get('redirect_uri') ?? 'http://127.0.0.1/callback');
    redirect.searchParams.set('code', code);
    redirect.searchParams.set('state', parameters.get('state') ?? '');
    const iss = options.iss === undefined ? this.options.issuer : options.iss;
    if (iss !== null) redirect.searchParams.set('iss', iss);
    return redirect.href;
  }

  /**
   * The protected resource: answers a request carrying `authorization` the way an MCP server
   * would — 401 with a challenge, 403 insufficient_scope, or 200.
   */
  resource(requestHeaders: Record<string, string>, requiredScopes: readonly string[] = ['mcp:read']) {
    const metadataUrl = `${this.options.resourceOrigin}/.well-known/oauth-protected-resource${this.options.resourcePath}`;
    const challenge = (extra: string) =>
      `Bearer resource_metadata="${metadataUrl}", scope="${requiredScopes.join(' ')}"${extra}`;
    const match = /^(Bearer|DPoP) (.+)$/.exec(requestHeaders.authorization ?? '');
    const held = match === null ? undefined : this.accessTokens.get(match[2]!);
    if (held === undefined || held.expiresAt <= this.now) {
      return {
        status: 401,
        headers: { 'www-authenticate': challenge(match === null ? '' : ', error="invalid_token"') },
      };
    }
    if (!requiredScopes.every((scope) => held.scope.includes(scope))) {
      return { status: 403, headers: { 'www-authenticate': challenge(', error="insufficient_scope"') } };
    }
    return { status: 200, headers: {} };
  }

  #register(request: OAuthHttpRequest): Partial<OAuthHttpResponse> {
    const body = JSON.parse(request.body ?? '{}') as Record<string, unknown>;
    const clientId = `${this.options.clientIdPrefix}-${++this.#clients}`;
    return json(201, { ...body, client_id: clientId, client_id_issued_at: 1 });
  }

  async #token(request: OAuthHttpRequest): Promise<Partial<OAuthHttpResponse>> {
    if (this.nextTokenReply !== undefined) {
      const reply = this.nextTokenReply;
      this.nextTokenReply = undefined;
      return reply;
    }
    const form = new URLSearchParams(request.body ?? '');
    const grantType = form.get('grant_type');
    if (grantType === 'authorization_code') {
      const grant = this.#codes.get(form.get('code') ?? '');
      this.#codes.delete(form.get('code') ?? '');
      if (grant === undefined) return json(400, { error: 'invalid_grant' });
      const verifier = form.get('code_verifier') ?? '';
      const digest = new Uint8Array(
        await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)),
      );
      const challenge = btoa(String.fromCharCode(...digest))
        .replace(/\+/g, '-')
        .replace(/\//g, '_')
        .replace(/=+$/, '');
      if (challenge !== grant.challenge) return json(400, { error: 'invalid_grant' });
      if (form.get('redirect_uri') !== grant.redirectUri) return json(400, { error: 'invalid_grant' });
      return this.#issue(grant.scope, grant.clientId, request);
    }
    if (grantType === 'refresh_token') {
      const presented = form.get('refresh_token') ?? '';
      const held = this.validRefreshTokens.get(presented);
      if (held === undefined) return json(400, { error: 'invalid_grant' });
      if (this.options.rotateRefreshTokens) this.validRefreshTokens.delete(presented);
      return this.#issue(
        form.get('scope') ?? held.scope,
        held.clientId,
        request,
        !this.options.rotateRefreshTokens,
      );
    }
    if (grantType === 'client_credentials' || grantType === 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
      return this.#issue(form.get('scope') ?? '', form.get('client_id') ?? 'machine', request, true);
    }
    return json(400, { error: 'unsupported_grant_type' });
  }

  #issue(
    scope: string,
    clientId: string,
    request: OAuthHttpRequest,
    withoutRefresh = false,
  ): Partial<OAuthHttpResponse> {
    scope = scope
      .split(' ')
      .filter((item) => !this.options.withheldScopes.includes(item))
      .join(' ');
    const n = ++this.#counter;
    const accessToken = `access-SECRET-${n}`;
    this.issuedAccessTokens.push(accessToken);
    const dpop = this.options.dpop && request.headers.dpop !== undefined;
    this.accessTokens.set(accessToken, {
      scope: scope.split(' ').filter(Boolean),
      expiresAt: this.now + this.options.accessTokenLifetime * 1000,
      dpop,
    });
    const body: Record<string, unknown> = {
      access_token: accessToken,
      token_type: dpop ? 'DPoP' : 'Bearer',
      expires_in: this.options.accessTokenLifetime,
      scope,
    };
    if (this.options.issueRefreshTokens && !withoutRefresh) {
      const refreshToken = `refresh-SECRET-${n}`;
      this.issuedRefreshTokens.push(refreshToken);
      this.validRefreshTokens.set(refreshToken, { scope, clientId });
      body.refresh_token = refreshToken;
    }
    return json(200, body);
  }

  #revoke(request: OAuthHttpRequest): Partial<OAuthHttpResponse> {
    const form = new URLSearchParams(request.body ?? '');
    const token = form.get('token') ?? '';
    this.revoked.push(token);
    this.validRefreshTokens.delete(token);
    return { status: 200, headers: {}, body: '' };
  }
}

export function json(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): Partial<OAuthHttpResponse> {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}
