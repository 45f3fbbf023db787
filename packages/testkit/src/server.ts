/**
 * A protected MCP resource and its authorization server in one `node:http` server on 127.0.0.1,
 * scriptable per test. It records every request (method, URL, headers, exact body bytes) so tests
 * can assert what went over the wire, and it checks what a client could get wrong: PKCE S256, the
 * redirect URI, the `resource` indicator, single-use codes, refresh token rotation, scopes, and
 * DPoP proofs (signature, `htm`, `htu`, `ath`, `jti` reuse, nonces).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { AuthorizationHandler } from '@mcp-oauth/core';
import { verifyDpopProof } from './dpop.js';
import {
  closeServer,
  echoReply,
  type Gate,
  HoldGate,
  jsonReply,
  listenOnLoopback,
  type RecordedRequest,
  type Reply,
  readRequest,
  writeReply,
} from './recording.js';

export interface TestServerOptions {
  /** Lifetime of access tokens, in seconds. Default 3600. */
  readonly accessTokenLifetimeSeconds?: number;
  /** Issue refresh tokens with the authorization code and refresh grants. Default true. */
  readonly issueRefreshTokens?: boolean;
  /** Scopes the authorization server lists and grants. Default `mcp:read mcp:write offline_access`. */
  readonly scopesSupported?: readonly string[];
  /** The resource metadata's `scopes_supported` and the scope of its 401 challenge. Default `mcp:read`. */
  readonly resourceScopes?: readonly string[];
  /** Advertise ES256 DPoP, bind tokens to proofs, verify proofs at /token and at the resource. */
  readonly dpop?: boolean;
}

export interface IssuedToken {
  readonly grantType: string;
  readonly accessToken: string;
  readonly refreshToken: string | undefined;
  readonly scopes: readonly string[];
  readonly tokenType: 'Bearer' | 'DPoP';
  readonly clientId: string;
}

export interface TestServer {
  /** `http://127.0.0.1:PORT`, also the issuer. */
  readonly origin: string;
  readonly issuer: string;
  /** `${origin}/mcp`: the protected resource. Every path below it is protected too. */
  readonly mcpUrl: string;
  readonly resourceMetadataUrl: string;
  readonly tokenEndpoint: string;
  url(path: string): string;
  /** Every request received, in order of arrival (recorded once its body has been read). */
  readonly requests: readonly RecordedRequest[];
  requestsTo(path: string, method?: string): RecordedRequest[];
  count(path: string, method?: string): number;
  /** Requests per endpoint, keyed `METHOD /path`. */
  counts(): Record<string, number>;
  /** Every token response the server gave, in order. */
  readonly issuedTokens: readonly IssuedToken[];
  /** Plays the user approving at `/authorize` (a real request): returns the redirect URL with code, state and iss. */
  approve(authorizationUrl: string): Promise<string>;
  /** An `OAuthSession` `authorizationHandler` that approves at once. */
  authorizationHandler(): AuthorizationHandler;

  /** Requests to `path` whose token lacks `scopes` get 403 `insufficient_scope` naming them. */
  requireScopes(path: string, scopes: readonly string[]): void;
  /** Requests to `path` (every protected path when omitted) get 401 `invalid_token`, whatever they carry. */
  alwaysUnauthorized(path?: string): void;
  /** Authorized requests to `path` get a 403 without a challenge. */
  plainForbidden(path: string): void;
  /** Forgets every access token issued so far (refresh tokens stay valid). */
  revokeAllAccessTokens(): void;
  /** Requests to `path` (any path) are answered with a redirect to `location`. */
  redirectTo(path: string, location: string, status?: number): void;
  /** DPoP mode: resource requests whose proof lacks this nonce get 401 `use_dpop_nonce` + `DPoP-Nonce`. */
  requireDpopNonce(nonce: string): void;
  /** The next `times` (default: every) token requests fail with `status` (default 500) and `error`. */
  failTokenRequests(options?: { status?: number; error?: string; times?: number }): void;
  /** Holds requests to `path` until the gate is released (a hang, if never released). */
  hold(path: string): Gate;
  /** `hold('/token')`: keeps a token request (a refresh) in flight. */
  holdTokenRequests(): Gate;
  /** Answers authorized resource requests with `handler` instead of the echo (e.g. a tiny MCP server). */
  serveResource(handler: (request: RecordedRequest) => Reply): void;
  /** Answers requests to `path` with `reply` instead of the normal route, `times` times (default: always). */
  respondWith(
    path: string,
    reply: Reply | ((request: RecordedRequest) => Reply),
    options?: { times?: number },
  ): void;
  close(): Promise<void>;
}

interface Client {
  readonly clientId: string;
  readonly clientSecret: string | undefined;
  readonly authMethod: string;
  readonly redirectUris: readonly string[];
  readonly grantTypes: readonly string[];
}
interface Code {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly challenge: string;
  readonly scopes: readonly string[];
  readonly dpopJkt: string | undefined;
}
interface Grant {
  readonly clientId: string;
  readonly scopes: readonly string[];
  readonly jkt: string | undefined;
}
interface AccessToken extends Grant {
  readonly expiresAt: number;
}

const AUTH_METHODS = ['none', 'client_secret_basic', 'client_secret_post'];
const AS_PATHS = new Set(['/authorize', '/token', '/register', '/revoke']);
const PRM_PATH = '/.well-known/oauth-protected-resource/mcp';
const AS_METADATA_PATH = '/.well-known/oauth-authorization-server';

const random = (prefix: string) => `${prefix}-${randomBytes(18).toString('base64url')}`;
const parseScopes = (value: string | null | undefined): string[] | undefined => {
  const scopes = value?.split(' ').filter((scope) => scope !== '');
  return scopes === undefined || scopes.length === 0 ? undefined : scopes;
};
const oauthError = (error: string, status = 400): Reply => jsonReply(status, { error });
const isProtectedPath = (path: string) => path === '/mcp' || path.startsWith('/mcp/');

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const lifetimeSeconds = options.accessTokenLifetimeSeconds ?? 3600;
  const scopesSupported = options.scopesSupported ?? ['mcp:read', 'mcp:write', 'offline_access'];
  const resourceScopes = options.resourceScopes ?? ['mcp:read'];
  const dpop = options.dpop ?? false;

  const requests: RecordedRequest[] = [];
  const issuedTokens: IssuedToken[] = [];
  const clients = new Map<string, Client>();
  const codes = new Map<string, Code>();
  const accessTokens = new Map<string, AccessToken>();
  const refreshTokens = new Map<string, Grant>();
  const seenJtis = new Set<string>();
  const requiredScopes = new Map<string, readonly string[]>();
  const unauthorizedPaths = new Set<string>();
  let unauthorizedEverywhere = false;
  const forbiddenPaths = new Set<string>();
  const redirects = new Map<string, { location: string; status: number }>();
  const holds = new Map<string, HoldGate>();
  const scripted = new Map<
    string,
    { reply: Reply | ((request: RecordedRequest) => Reply); remaining: number }
  >();
  let requiredNonce: string | undefined;
  let resourceHandler: (request: RecordedRequest) => Reply = echoReply;
  let origin = '';
  const url = (path: string) => `${origin}${path}`;
  const nowSeconds = () => Math.floor(Date.now() / 1000);

  // ------------------------------------------------------------------ protected resource

  const challenge = (error?: string, scopes: readonly string[] = resourceScopes): string => {
    const params = [
      `resource_metadata="${url(PRM_PATH)}"`,
      `scope="${scopes.join(' ')}"`,
      ...(error === undefined ? [] : [`error="${error}"`]),
    ].join(', ');
    return dpop ? `Bearer ${params}, DPoP algs="ES256", ${params}` : `Bearer ${params}`;
  };
  const unauthorized = (error?: string): Reply => ({
    status: 401,
    headers: { 'www-authenticate': challenge(error), 'content-type': 'text/plain' },
    body: 'unauthorized',
  });

  const resource = (record: RecordedRequest): Reply => {
    if (unauthorizedEverywhere || unauthorizedPaths.has(record.path)) return unauthorized('invalid_token');
    const match = /^(Bearer|DPoP)\s+(\S+)$/i.exec(record.headers.authorization ?? '');
    if (match === null) return unauthorized();
    const scheme = match[1]!.toLowerCase();
    const token = match[2]!;
    const held = accessTokens.get(token);
    if (held === undefined || held.expiresAt <= Date.now()) return unauthorized('invalid_token');
    if (held.jkt !== undefined) {
      const proof = record.headers.dpop;
      if (scheme !== 'dpop' || proof === undefined) return unauthorized('invalid_token');
      const verdict = verifyDpopProof(proof, {
        method: record.method,
        url: record.url,
        accessToken: token,
        seenJtis,
        now: nowSeconds(),
      });
      if (!verdict.ok || verdict.claims.jkt !== held.jkt) {
        return {
          status: 401,
          headers: { 'www-authenticate': 'DPoP algs="ES256", error="invalid_dpop_proof"' },
          body: 'invalid DPoP proof',
        };
      }
      if (requiredNonce !== undefined && verdict.claims.nonce !== requiredNonce) {
        return {
          status: 401,
          headers: {
            'www-authenticate':
              'DPoP algs="ES256", error="use_dpop_nonce", error_description="nonce required"',
            'dpop-nonce': requiredNonce,
          },
          body: 'nonce required',
        };
      }
    } else if (scheme !== 'bearer') {
      return unauthorized('invalid_token');
    }
    if (forbiddenPaths.has(record.path)) {
      return { status: 403, headers: { 'content-type': 'text/plain' }, body: 'forbidden' };
    }
    const required = requiredScopes.get(record.path);
    if (required !== undefined && !required.every((scope) => held.scopes.includes(scope))) {
      return {
        status: 403,
        headers: { 'www-authenticate': challenge('insufficient_scope', required) },
        body: 'insufficient scope',
      };
    }
    return resourceHandler(record);
  };

  const protectedResourceMetadata = (): Reply =>
    jsonReply(200, {
      resource: url('/mcp'),
      authorization_servers: [origin],
      scopes_supported: resourceScopes,
      bearer_methods_supported: ['header'],
      ...(dpop ? { dpop_signing_alg_values_supported: ['ES256'] } : {}),
    });

  // ------------------------------------------------------------------ authorization server

  const authorizationServerMetadata = (): Reply =>
    jsonReply(200, {
      issuer: origin,
      authorization_endpoint: url('/authorize'),
      token_endpoint: url('/token'),
      registration_endpoint: url('/register'),
      revocation_endpoint: url('/revoke'),
      response_types_supported: ['code'],
      grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: AUTH_METHODS,
      revocation_endpoint_auth_methods_supported: AUTH_METHODS,
      authorization_response_iss_parameter_supported: true,
      scopes_supported: scopesSupported,
      ...(dpop ? { dpop_signing_alg_values_supported: ['ES256'] } : {}),
    });

  const register = (record: RecordedRequest): Reply => {
    let metadata: Record<string, unknown>;
    try {
      metadata = JSON.parse(record.text) as Record<string, unknown>;
    } catch {
      return oauthError('invalid_client_metadata');
    }
    const grantTypes = metadata.grant_types ?? ['authorization_code'];
    const authMethod = metadata.token_endpoint_auth_method ?? 'client_secret_basic';
    const redirectUris = metadata.redirect_uris ?? [];
    if (
      !Array.isArray(grantTypes) ||
      !grantTypes.every((grant) =>
        ['authorization_code', 'refresh_token', 'client_credentials'].includes(grant),
      ) ||
      typeof authMethod !== 'string' ||
      !AUTH_METHODS.includes(authMethod)
    ) {
      return oauthError('invalid_client_metadata');
    }
    if (
      !Array.isArray(redirectUris) ||
      !redirectUris.every((uri) => typeof uri === 'string' && URL.canParse(uri)) ||
      (grantTypes.includes('authorization_code') && redirectUris.length === 0)
    ) {
      return oauthError('invalid_redirect_uri');
    }
    const client: Client = {
      clientId: random('client'),
      clientSecret: authMethod === 'none' ? undefined : random('secret'),
      authMethod,
      redirectUris: redirectUris as string[],
      grantTypes: grantTypes as string[],
    };
    clients.set(client.clientId, client);
    return jsonReply(201, {
      ...metadata,
      client_id: client.clientId,
      client_id_issued_at: nowSeconds(),
      ...(client.clientSecret === undefined
        ? {}
        : { client_secret: client.clientSecret, client_secret_expires_at: 0 }),
      token_endpoint_auth_method: authMethod,
    });
  };

  const authorize = (record: RecordedRequest): Reply => {
    const query = new URLSearchParams(record.search);
    const client = clients.get(query.get('client_id') ?? '');
    const redirectUri = query.get('redirect_uri') ?? '';
    if (client === undefined || !client.redirectUris.includes(redirectUri)) {
      return {
        status: 400,
        headers: { 'content-type': 'text/plain' },
        body: 'unknown client or redirect_uri',
      };
    }
    const back = (parameters: Record<string, string>): Reply => {
      const location = new URL(redirectUri);
      for (const [name, value] of Object.entries(parameters)) location.searchParams.set(name, value);
      const state = query.get('state');
      if (state !== null) location.searchParams.set('state', state);
      location.searchParams.set('iss', origin);
      return { status: 302, headers: { location: location.href } };
    };
    const challengeValue = query.get('code_challenge') ?? '';
    if (query.get('response_type') !== 'code') return back({ error: 'unsupported_response_type' });
    if (query.get('code_challenge_method') !== 'S256' || !/^[\w-]{43}$/.test(challengeValue)) {
      return back({ error: 'invalid_request', error_description: 'PKCE S256 required' });
    }
    if (!query.get('state')) return back({ error: 'invalid_request', error_description: 'state required' });
    if (query.get('resource') !== url('/mcp')) return back({ error: 'invalid_target' });
    const scopes = parseScopes(query.get('scope')) ?? [...resourceScopes];
    if (!scopes.every((scope) => scopesSupported.includes(scope))) return back({ error: 'invalid_scope' });
    const code = random('code');
    codes.set(code, {
      clientId: client.clientId,
      redirectUri,
      challenge: challengeValue,
      scopes,
      dpopJkt: query.get('dpop_jkt') ?? undefined,
    });
    return back({ code });
  };

  const authenticateClient = (record: RecordedRequest, form: URLSearchParams): Client | undefined => {
    const basic = /^Basic\s+(\S+)$/i.exec(record.headers.authorization ?? '');
    let clientId = form.get('client_id') ?? undefined;
    let secret = form.get('client_secret') ?? undefined;
    if (basic !== null) {
      const [id, password] = Buffer.from(basic[1]!, 'base64').toString('utf8').split(':');
      clientId = decodeURIComponent((id ?? '').replace(/\+/g, ' '));
      secret = decodeURIComponent((password ?? '').replace(/\+/g, ' '));
    }
    const client = clients.get(clientId ?? '');
    if (client === undefined) return undefined;
    if (client.clientSecret !== undefined && client.clientSecret !== secret) return undefined;
    return client;
  };

  const issue = (grantType: string, grant: Grant, scopes: readonly string[], withRefresh: boolean): Reply => {
    const accessToken = random('at');
    accessTokens.set(accessToken, { ...grant, scopes, expiresAt: Date.now() + lifetimeSeconds * 1000 });
    let refreshToken: string | undefined;
    if (withRefresh && (options.issueRefreshTokens ?? true)) {
      refreshToken = random('rt');
      refreshTokens.set(refreshToken, grant);
    }
    const tokenType = grant.jkt === undefined ? 'Bearer' : 'DPoP';
    issuedTokens.push({ grantType, accessToken, refreshToken, scopes, tokenType, clientId: grant.clientId });
    return jsonReply(
      200,
      {
        access_token: accessToken,
        token_type: tokenType,
        expires_in: lifetimeSeconds,
        scope: scopes.join(' '),
        ...(refreshToken === undefined ? {} : { refresh_token: refreshToken }),
      },
      { 'cache-control': 'no-store' },
    );
  };

  const token = (record: RecordedRequest): Reply => {
    if (record.headers['content-type']?.split(';')[0]?.trim() !== 'application/x-www-form-urlencoded') {
      return oauthError('invalid_request');
    }
    const form = new URLSearchParams(record.text);
    const client = authenticateClient(record, form);
    if (client === undefined) return oauthError('invalid_client', 401);
    if (form.has('resource') && form.get('resource') !== url('/mcp')) return oauthError('invalid_target');
    let jkt: string | undefined;
    const proof = record.headers.dpop;
    if (dpop && proof !== undefined) {
      const verdict = verifyDpopProof(proof, {
        method: 'POST',
        url: url('/token'),
        seenJtis,
        now: nowSeconds(),
      });
      if (!verdict.ok) return oauthError('invalid_dpop_proof');
      jkt = verdict.claims.jkt;
    }
    const grantType = form.get('grant_type') ?? '';
    if (grantType === 'authorization_code') {
      const presented = form.get('code') ?? '';
      const code = codes.get(presented);
      codes.delete(presented);
      const verifier = form.get('code_verifier') ?? '';
      if (
        code === undefined ||
        code.clientId !== client.clientId ||
        code.redirectUri !== form.get('redirect_uri') ||
        createHash('sha256').update(verifier).digest('base64url') !== code.challenge ||
        (code.dpopJkt !== undefined && code.dpopJkt !== jkt)
      ) {
        return oauthError('invalid_grant');
      }
      return issue(grantType, { clientId: client.clientId, scopes: code.scopes, jkt }, code.scopes, true);
    }
    if (grantType === 'refresh_token') {
      const presented = form.get('refresh_token') ?? '';
      const grant = refreshTokens.get(presented);
      if (grant === undefined || grant.clientId !== client.clientId) return oauthError('invalid_grant');
      if (grant.jkt !== undefined && grant.jkt !== jkt) return oauthError('invalid_grant');
      const scopes = parseScopes(form.get('scope')) ?? grant.scopes;
      if (!scopes.every((scope) => grant.scopes.includes(scope))) return oauthError('invalid_scope');
      refreshTokens.delete(presented); // rotation: a refresh token works once
      return issue(grantType, { ...grant, jkt }, scopes, true);
    }
    if (grantType === 'client_credentials') {
      if (!client.grantTypes.includes('client_credentials')) return oauthError('unauthorized_client');
      const scopes = parseScopes(form.get('scope')) ?? [...resourceScopes];
      if (!scopes.every((scope) => scopesSupported.includes(scope))) return oauthError('invalid_scope');
      return issue(grantType, { clientId: client.clientId, scopes, jkt }, scopes, false);
    }
    return oauthError('unsupported_grant_type');
  };

  const revoke = (record: RecordedRequest): Reply => {
    const form = new URLSearchParams(record.text);
    const client = authenticateClient(record, form);
    if (client === undefined) return oauthError('invalid_client', 401);
    const value = form.get('token') ?? '';
    if (refreshTokens.get(value)?.clientId === client.clientId) refreshTokens.delete(value);
    if (accessTokens.get(value)?.clientId === client.clientId) accessTokens.delete(value);
    return { status: 200 };
  };

  // ------------------------------------------------------------------ routing

  const route = (record: RecordedRequest): Reply => {
    const script = scripted.get(record.path);
    if (script !== undefined) {
      if (--script.remaining <= 0) scripted.delete(record.path);
      return typeof script.reply === 'function' ? script.reply(record) : script.reply;
    }
    const redirect = redirects.get(record.path);
    if (redirect !== undefined) return { status: redirect.status, headers: { location: redirect.location } };
    switch (`${record.method} ${record.path}`) {
      case `GET ${PRM_PATH}`:
        return protectedResourceMetadata();
      case `GET ${AS_METADATA_PATH}`:
        return authorizationServerMetadata();
      case 'POST /register':
        return register(record);
      case 'GET /authorize':
        return authorize(record);
      case 'POST /token':
        return token(record);
      case 'POST /revoke':
        return revoke(record);
    }
    if (AS_PATHS.has(record.path)) return { status: 405 };
    if (isProtectedPath(record.path)) return resource(record);
    if (record.path.startsWith('/.well-known/')) return { status: 404 };
    return echoReply(record); // anything else: an unprotected page on the same origin
  };

  const { server, origin: listening } = await listenOnLoopback((message, response) => {
    (async () => {
      const record = await readRequest(message, origin);
      requests.push(record);
      const gate = holds.get(record.path);
      if (gate !== undefined && !(await gate.pass(response))) return;
      let reply: Reply;
      try {
        reply = route(record);
      } catch {
        reply = { status: 500 };
      }
      record.status = reply.status;
      writeReply(response, reply);
    })().catch(() => response.destroy());
  });
  origin = listening;

  const requestsTo = (path: string, method?: string) =>
    requests.filter((record) => record.path === path && (method === undefined || record.method === method));

  const testServer: TestServer = {
    origin,
    issuer: origin,
    mcpUrl: url('/mcp'),
    resourceMetadataUrl: url(PRM_PATH),
    tokenEndpoint: url('/token'),
    url,
    requests,
    requestsTo,
    count: (path, method) => requestsTo(path, method).length,
    counts: () => {
      const counts: Record<string, number> = {};
      for (const record of requests) {
        const key = `${record.method} ${record.path}`;
        counts[key] = (counts[key] ?? 0) + 1;
      }
      return counts;
    },
    issuedTokens,
    async approve(authorizationUrl) {
      if (new URL(authorizationUrl).origin !== origin) {
        throw new Error('the authorization URL does not point at this test server');
      }
      const response = await fetch(authorizationUrl, { redirect: 'manual' });
      await response.body?.cancel();
      const location = response.headers.get('location');
      if (response.status !== 302 || location === null) {
        throw new Error(`the authorization endpoint answered ${response.status}`);
      }
      return location;
    },
    authorizationHandler:
      () =>
      async ({ authorizationUrl }) =>
        testServer.approve(authorizationUrl),
    requireScopes: (path, scopes) => {
      requiredScopes.set(path, [...scopes]);
    },
    alwaysUnauthorized: (path) => {
      if (path === undefined) unauthorizedEverywhere = true;
      else unauthorizedPaths.add(path);
    },
    plainForbidden: (path) => {
      forbiddenPaths.add(path);
    },
    revokeAllAccessTokens: () => {
      accessTokens.clear();
    },
    redirectTo: (path, location, status = 302) => {
      redirects.set(path, { location, status });
    },
    requireDpopNonce: (nonce) => {
      requiredNonce = nonce;
    },
    failTokenRequests: ({ status = 500, error = 'server_error', times = Number.POSITIVE_INFINITY } = {}) => {
      testServer.respondWith('/token', jsonReply(status, { error }), { times });
    },
    hold: (path) => {
      const gate = new HoldGate();
      holds.set(path, gate);
      return gate;
    },
    holdTokenRequests: () => testServer.hold('/token'),
    serveResource: (handler) => {
      resourceHandler = handler;
    },
    respondWith: (path, reply, { times = Number.POSITIVE_INFINITY } = {}) => {
      scripted.set(path, { reply, remaining: times });
    },
    // Held and endless requests are cut off: closing destroys every connection.
    close: () => closeServer(server),
  };
  return testServer;
}
