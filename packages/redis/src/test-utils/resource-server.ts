/**
 * A lean protected MCP endpoint for the fleet storms: it answers `tools/list` for a valid access
 * token and 401 with a `WWW-Authenticate` challenge otherwise. "Valid" is what a resource server
 * checks on a JWT access token: the authorization server's ES256 signature (keys from its JWKS),
 * `iss`, `aud` (this endpoint) and `exp`; and the harness can make a token count as expired early.
 *
 * The demo's own MCP server (the official SDK) costs ~5 ms of CPU per request; 8 × 250 calls per
 * storm, five storms per run, would measure it instead of the client.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';

export interface TokenCheckingServer {
  /** `http://127.0.0.1:<port>/mcp`: the endpoint and the resource identifier. */
  readonly url: string;
  /** Starts checking tokens signed by `issuer` (the authorization server starts after this one). */
  trust(issuer: string): void;
  /** Refuses this access token from now on, as if it had expired. */
  expire(accessToken: string): void;
  /** Responses since the last reset, by status, and the distinct tokens (`jti`) accepted. */
  readonly counts: { statuses: Record<number, number>; tokens: Set<string> };
  resetCounts(): void;
  close(): Promise<void>;
}

export async function startTokenCheckingServer(): Promise<TokenCheckingServer> {
  let trusted:
    | { issuer: string; verify: (token: string) => Promise<{ jti?: unknown; exp?: unknown }> }
    | undefined;
  const expired = new Set<string>();
  const verified = new Map<string, { jti: string; exp: number }>();
  let counts = { statuses: {} as Record<number, number>, tokens: new Set<string>() };
  const server: Server = createServer((request, response) => {
    handle(request, response).catch(() => reply(response, 500, { error: 'server_error' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const url = `${origin}/mcp`;
  const metadataUrl = `${origin}/.well-known/oauth-protected-resource/mcp`;
  const state: TokenCheckingServer = {
    url,
    trust(issuer) {
      const keys = createRemoteJWKSet(new URL('/jwks', issuer));
      trusted = {
        issuer,
        verify: async (token) =>
          (await jwtVerify(token, keys, { issuer, audience: url, algorithms: ['ES256'], typ: 'at+jwt' }))
            .payload,
      };
    },
    expire(accessToken) {
      const jti = decodeJwt(accessToken).jti;
      if (typeof jti === 'string') expired.add(jti);
    },
    get counts() {
      return counts;
    },
    resetCounts() {
      counts = { statuses: {}, tokens: new Set() };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };

  function reply(
    response: ServerResponse,
    status: number,
    body: object,
    headers: Record<string, string> = {},
  ) {
    counts.statuses[status] = (counts.statuses[status] ?? 0) + 1;
    response.writeHead(status, {
      'content-type': 'application/json',
      'cache-control': 'no-store',
      ...headers,
    });
    response.end(JSON.stringify(body));
  }

  function refuse(response: ServerResponse, error?: string) {
    const challenge = `Bearer ${error === undefined ? '' : `error="${error}", `}scope="mcp:tools", resource_metadata="${metadataUrl}"`;
    reply(response, 401, { error: error ?? 'unauthorized' }, { 'www-authenticate': challenge });
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const path = new URL(request.url ?? '/', origin).pathname;
    if (request.method === 'GET' && path === '/.well-known/oauth-protected-resource/mcp') {
      if (trusted === undefined) return reply(response, 503, { error: 'not_ready' });
      return reply(response, 200, {
        resource: url,
        authorization_servers: [trusted.issuer],
        scopes_supported: ['mcp:tools'],
        bearer_methods_supported: ['header'],
      });
    }
    if (path !== '/mcp') return reply(response, 404, { error: 'not_found' });
    if (request.method !== 'POST') return reply(response, 405, { error: 'method_not_allowed' });
    const token = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(request.headers.authorization ?? '')?.[1];
    if (token === undefined || trusted === undefined) return refuse(response);
    // A token is verified once, then remembered until it expires, as resource servers commonly do.
    let claims = verified.get(token);
    if (claims === undefined) {
      try {
        const payload = await trusted.verify(token);
        if (typeof payload.jti !== 'string' || typeof payload.exp !== 'number') throw new Error('claims');
        claims = { jti: payload.jti, exp: payload.exp };
        verified.set(token, claims);
      } catch {
        return refuse(response, 'invalid_token');
      }
    }
    if (claims.exp * 1000 <= Date.now() || expired.has(claims.jti)) return refuse(response, 'invalid_token');
    counts.tokens.add(claims.jti);
    let id: unknown = null;
    try {
      id = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id?: unknown }).id ?? null;
    } catch {
      return reply(response, 400, {
        jsonrpc: '2.0',
        id: null,
        error: { code: -32700, message: 'Parse error' },
      });
    }
    reply(response, 200, { jsonrpc: '2.0', id, result: { tools: [] } });
  }

  return state;
}
