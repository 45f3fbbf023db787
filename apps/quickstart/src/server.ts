/**
 * A tiny protected MCP-style resource and its authorization server in one `node:http` server on
 * 127.0.0.1. It is a demonstration, not a product: one process, memory only, every authorization
 * approved at once. It still checks what a client could get wrong — PKCE S256, `state`, the
 * redirect URI, the `resource` indicator, single-use codes, refresh token rotation and scopes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface DemoServerOptions {
  /** Lifetime of access tokens, in seconds. Default 3600. */
  readonly accessTokenLifetimeSeconds?: number;
  /** Called once for each answered request. Events never carry a token or a code. */
  readonly onRequest?: (event: RequestEvent) => void;
}

export interface RequestEvent {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  /** What happened, in a few words: `authorization_code grant: mcp:read`, `no token`, … */
  readonly note: string | undefined;
}

export interface DemoServer {
  /** `http://127.0.0.1:PORT`: the authorization server's issuer. */
  readonly origin: string;
  /** `http://127.0.0.1:PORT/mcp`: the protected resource. */
  readonly mcpUrl: string;
  /** Requests received per endpoint, keyed `METHOD /path`. */
  requestCounts(): Record<string, number>;
  /** Every code, access token and refresh token issued so far (for tests that look for leaks). */
  issuedSecrets(): readonly string[];
  /** The tokens the server would still accept, described by kind and scopes (never the value). */
  liveTokens(): string[];
  close(): Promise<void>;
}

const SCOPES = ['mcp:read', 'mcp:write', 'offline_access'];
const MAX_BODY_BYTES = 64 * 1024;
const CODE_LIFETIME_MS = 60_000;

interface Client {
  readonly redirectUris: readonly string[];
  readonly grantTypes: readonly string[];
}
interface Code {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly codeChallenge: string;
  readonly scopes: readonly string[];
  readonly expiresAt: number;
}
interface Grant {
  readonly clientId: string;
  readonly scopes: readonly string[];
  readonly grantId: string;
}
interface AccessToken extends Grant {
  readonly expiresAt: number;
}

type Answer = { status: number; headers?: Record<string, string>; body?: string; note?: string };

export async function startDemoServer(options: DemoServerOptions = {}): Promise<DemoServer> {
  const lifetimeMs = (options.accessTokenLifetimeSeconds ?? 3600) * 1000;
  const clients = new Map<string, Client>();
  const codes = new Map<string, Code>();
  const accessTokens = new Map<string, AccessToken>();
  const refreshTokens = new Map<string, Grant>();
  const issued: string[] = [];
  const counts: Record<string, number> = {};
  let origin = '';
  let resource = '';
  let prmUrl = '';

  const issue = (): string => {
    const value = randomBytes(32).toString('base64url');
    issued.push(value);
    return value;
  };

  // ------------------------------------------------------------------ protected resource

  const protectedResourceMetadata = (): Answer =>
    json(200, {
      resource,
      authorization_servers: [origin],
      scopes_supported: ['mcp:read'],
      bearer_methods_supported: ['header'],
      resource_name: 'mcp-oauth quickstart server',
    });

  const mcp = (request: IncomingMessage, body: string): Answer => {
    const challenge = (error: string | undefined, scope: string) =>
      [
        ...(error === undefined ? [] : [`error="${error}"`]),
        `scope="${scope}"`,
        `resource_metadata="${prmUrl}"`,
      ].join(', ');
    const token = /^Bearer ([\w.~+/-]+=*)$/i.exec(request.headers.authorization ?? '')?.[1];
    if (token === undefined) {
      return {
        status: 401,
        headers: { 'www-authenticate': `Bearer ${challenge(undefined, 'mcp:read')}` },
        note: 'no token',
      };
    }
    const held = accessTokens.get(token);
    if (held === undefined || held.expiresAt <= Date.now()) {
      if (held !== undefined) accessTokens.delete(token);
      return {
        status: 401,
        headers: { 'www-authenticate': `Bearer ${challenge('invalid_token', 'mcp:read')}` },
        note: 'token expired or unknown',
      };
    }
    const message = parseObject(body);
    if (message === undefined) return json(400, { error: 'body must be a JSON object' });
    const method = typeof message.method === 'string' ? message.method : 'unknown';
    const isWrite = method === 'tools/call' && parseObject(message.params)?.name === 'write';
    const needed = isWrite ? 'mcp:write' : 'mcp:read';
    if (!held.scopes.includes(needed)) {
      return {
        status: 403,
        headers: { 'www-authenticate': `Bearer ${challenge('insufficient_scope', needed)}` },
        note: `${method} needs ${needed}`,
      };
    }
    return { ...json(200, { method, scopes: held.scopes }), note: isWrite ? `${method} write` : method };
  };

  // ------------------------------------------------------------------ authorization server

  const authorizationServerMetadata = (): Answer =>
    json(200, {
      issuer: origin,
      authorization_endpoint: `${origin}/authorize`,
      token_endpoint: `${origin}/token`,
      registration_endpoint: `${origin}/register`,
      revocation_endpoint: `${origin}/revoke`,
      response_types_supported: ['code'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['none'],
      revocation_endpoint_auth_methods_supported: ['none'],
      authorization_response_iss_parameter_supported: true,
      scopes_supported: SCOPES,
    });

  const register = (body: string): Answer => {
    const metadata = parseObject(body);
    if (metadata === undefined) return oauthError('invalid_client_metadata');
    const redirectUris = metadata.redirect_uris;
    const grantTypes = metadata.grant_types ?? ['authorization_code'];
    const validUris =
      Array.isArray(redirectUris) &&
      redirectUris.length > 0 &&
      redirectUris.every((uri) => typeof uri === 'string' && URL.canParse(uri) && !uri.includes('#'));
    if (!validUris) return oauthError('invalid_redirect_uri');
    const supported = ['authorization_code', 'refresh_token'];
    if (
      !Array.isArray(grantTypes) ||
      !grantTypes.every((grant) => supported.includes(grant as string)) ||
      (metadata.token_endpoint_auth_method ?? 'none') !== 'none'
    ) {
      return oauthError('invalid_client_metadata');
    }
    const clientId = `client-${randomBytes(8).toString('hex')}`;
    clients.set(clientId, { redirectUris: redirectUris as string[], grantTypes: grantTypes as string[] });
    return {
      ...json(201, {
        client_id: clientId,
        client_id_issued_at: Math.floor(Date.now() / 1000),
        client_name: typeof metadata.client_name === 'string' ? metadata.client_name : undefined,
        redirect_uris: redirectUris,
        grant_types: grantTypes,
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
      }),
      note: 'public client registered',
    };
  };

  const authorize = (query: URLSearchParams): Answer => {
    const client = clients.get(query.get('client_id') ?? '');
    const redirectUri = query.get('redirect_uri') ?? '';
    // Without a known client and one of its redirect URIs, there is nowhere safe to send an error.
    if (client === undefined || !client.redirectUris.includes(redirectUri)) {
      return {
        status: 400,
        headers: { 'content-type': 'text/plain' },
        body: 'unknown client or redirect_uri',
      };
    }
    const back = (parameters: Record<string, string>, note: string): Answer => {
      const location = new URL(redirectUri);
      for (const [name, value] of Object.entries(parameters)) location.searchParams.set(name, value);
      const state = query.get('state');
      if (state !== null) location.searchParams.set('state', state);
      location.searchParams.set('iss', origin);
      return { status: 302, headers: { location: location.href }, note };
    };
    const scopes = parseScopes(query.get('scope')) ?? ['mcp:read'];
    const challenge = query.get('code_challenge') ?? '';
    if (query.get('response_type') !== 'code') return back({ error: 'unsupported_response_type' }, 'refused');
    if (query.get('code_challenge_method') !== 'S256' || !/^[\w-]{43}$/.test(challenge)) {
      return back({ error: 'invalid_request' }, 'refused: PKCE S256 required');
    }
    if (!query.get('state')) return back({ error: 'invalid_request' }, 'refused: state required');
    if (query.get('resource') !== resource) return back({ error: 'invalid_target' }, 'refused: resource');
    if (!scopes.every((scope) => SCOPES.includes(scope))) {
      return back({ error: 'invalid_scope' }, 'refused: unknown scope');
    }
    const code = issue();
    codes.set(code, {
      clientId: query.get('client_id')!,
      redirectUri,
      codeChallenge: challenge,
      scopes,
      expiresAt: Date.now() + CODE_LIFETIME_MS,
    });
    return back({ code }, `auto-approved: ${scopes.join(' ')}`);
  };

  const token = (form: URLSearchParams): Answer => {
    const clientId = form.get('client_id') ?? '';
    const client = clients.get(clientId);
    if (client === undefined) return oauthError('invalid_client', 401);
    if (form.get('resource') !== resource) return oauthError('invalid_target');
    const grantType = form.get('grant_type');
    if (grantType === 'authorization_code') {
      const code = codes.get(form.get('code') ?? '');
      codes.delete(form.get('code') ?? '');
      const verifier = form.get('code_verifier') ?? '';
      if (
        code === undefined ||
        code.clientId !== clientId ||
        code.expiresAt <= Date.now() ||
        code.redirectUri !== form.get('redirect_uri') ||
        createHash('sha256').update(verifier).digest('base64url') !== code.codeChallenge
      ) {
        return oauthError('invalid_grant');
      }
      const grant = { clientId, scopes: code.scopes, grantId: randomBytes(8).toString('hex') };
      return tokens(grant, code.scopes, client, 'authorization_code');
    }
    if (grantType === 'refresh_token') {
      const presented = form.get('refresh_token') ?? '';
      const grant = refreshTokens.get(presented);
      if (grant === undefined || grant.clientId !== clientId) return oauthError('invalid_grant');
      const scopes = parseScopes(form.get('scope')) ?? grant.scopes;
      if (!scopes.every((scope) => grant.scopes.includes(scope))) return oauthError('invalid_scope');
      refreshTokens.delete(presented); // rotation: each refresh token works once
      return tokens(grant, scopes, client, 'refresh_token, rotated');
    }
    return oauthError('unsupported_grant_type');
  };

  const tokens = (grant: Grant, scopes: readonly string[], client: Client, how: string): Answer => {
    const accessToken = issue();
    accessTokens.set(accessToken, { ...grant, scopes, expiresAt: Date.now() + lifetimeMs });
    let refreshToken: string | undefined;
    if (grant.scopes.includes('offline_access') && client.grantTypes.includes('refresh_token')) {
      refreshToken = issue();
      refreshTokens.set(refreshToken, grant);
    }
    const answer = json(200, {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: lifetimeMs / 1000,
      scope: scopes.join(' '),
      refresh_token: refreshToken,
    });
    return {
      ...answer,
      headers: { ...answer.headers, 'cache-control': 'no-store' },
      note: `${how}: ${scopes.join(' ')}`,
    };
  };

  const revoke = (form: URLSearchParams): Answer => {
    const value = form.get('token');
    if (value === null) return oauthError('invalid_request');
    const clientId = form.get('client_id');
    const refresh = refreshTokens.get(value);
    if (refresh !== undefined && refresh.clientId === clientId) {
      // RFC 7009 §2.1: revoking a refresh token also ends the access tokens of the same grant.
      refreshTokens.delete(value);
      for (const [key, access] of accessTokens)
        if (access.grantId === refresh.grantId) accessTokens.delete(key);
      return { status: 200, note: 'refresh token revoked' };
    }
    const access = accessTokens.get(value);
    if (access !== undefined && access.clientId === clientId) {
      accessTokens.delete(value);
      return { status: 200, note: 'access token revoked' };
    }
    return { status: 200, note: 'not active (already revoked, or unknown)' }; // RFC 7009 §2.2
  };

  // ------------------------------------------------------------------ routing

  const route = (request: IncomingMessage, path: string, query: URLSearchParams, body: string): Answer => {
    const form = new URLSearchParams(body);
    switch (`${request.method} ${path}`) {
      case 'GET /.well-known/oauth-protected-resource/mcp':
        return protectedResourceMetadata();
      case 'GET /.well-known/oauth-authorization-server':
        return authorizationServerMetadata();
      case 'POST /register':
        return register(body);
      case 'GET /authorize':
        return authorize(query);
      case 'POST /token':
        return isForm(request) ? token(form) : oauthError('invalid_request');
      case 'POST /revoke':
        return isForm(request) ? revoke(form) : oauthError('invalid_request');
      case 'POST /mcp':
        return mcp(request, body);
      default:
        return { status: 404 };
    }
  };

  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', origin);
    const key = `${request.method} ${url.pathname}`;
    counts[key] = (counts[key] ?? 0) + 1;
    readBody(request).then(
      (body) => {
        let answer: Answer;
        try {
          answer =
            body === undefined ? { status: 413 } : route(request, url.pathname, url.searchParams, body);
        } catch {
          answer = { status: 500 };
        }
        const method = request.method ?? 'GET';
        options.onRequest?.({ method, path: url.pathname, status: answer.status, note: answer.note });
        response.writeHead(answer.status, answer.headers).end(answer.body);
      },
      () => response.destroy(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  origin = `http://127.0.0.1:${port}`;
  resource = `${origin}/mcp`;
  prmUrl = `${origin}/.well-known/oauth-protected-resource/mcp`;

  return {
    origin,
    mcpUrl: resource,
    requestCounts: () => ({ ...counts }),
    issuedSecrets: () => [...issued],
    liveTokens: () => [
      ...[...accessTokens.values()]
        .filter((access) => access.expiresAt > Date.now())
        .map((access) => `access token (${access.scopes.join(' ')})`),
      ...[...refreshTokens.values()].map((grant) => `refresh token (${grant.scopes.join(' ')})`),
    ],
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        server.closeAllConnections();
      }),
  };
}

function json(status: number, body: unknown): Answer {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

function oauthError(error: string, status = 400): Answer {
  return { ...json(status, { error }), note: `error: ${error}` };
}

/** A JSON object from text (or an object already parsed), else `undefined`. */
function parseObject(value: unknown): Record<string, unknown> | undefined {
  let parsed = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
    ? (parsed as Record<string, unknown>)
    : undefined;
}

function parseScopes(value: string | null): string[] | undefined {
  const scopes = value?.split(' ').filter((scope) => scope !== '');
  return scopes === undefined || scopes.length === 0 ? undefined : scopes;
}

function isForm(request: IncomingMessage): boolean {
  return request.headers['content-type']?.split(';')[0]?.trim() === 'application/x-www-form-urlencoded';
}

/** The request body as text, or `undefined` when it is larger than the server accepts. */
async function readBody(request: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
