/**
 * The protected MCP server: RFC 9728 metadata, then for `/mcp` — authentication (Bearer or
 * DPoP-bound JWT), the scope every request needs, the higher scope a tool call needs (decided
 * here, at the HTTP layer, so the client gets a 403 it can step up from), and finally the SDK's
 * Streamable HTTP transport in stateless mode: one McpServer and transport per request.
 *
 * Both wires are served on `/mcp`: a request of the 2026-07-28 stateless wire (`_meta` and the
 * `MCP-Protocol-Version` header on every request, `server/discover`) goes to the v2 SDK's handler,
 * anything else to the v1 SDK's transport as before. Authentication and scopes are the same for
 * both, decided before either sees the request.
 */
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { localhostHostValidation } from '@modelcontextprotocol/sdk/server/middleware/hostHeaderValidation.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createMcpHandler, isLegacyRequest, type McpHttpHandler } from '@modelcontextprotocol/server';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { AccessTokenCheck, VerifiedAccessToken } from './access-token.js';
import { buildChallenges, type ChallengeError } from './challenge.js';
import type { DpopProofVerifier } from './dpop-proof.js';
import { createMcpServer, createModernMcpServer, TOOL_SCOPES } from './mcp-tools.js';
import type { DemoEndpoint } from './options.js';
import { TOOLS_SCOPE } from './scopes.js';
import type { DemoServerStats, RequestCounter } from './stats.js';

export interface ResourceServerSetup {
  /** `http://127.0.0.1:PORT/mcp`: the resource identifier and the endpoint. */
  readonly mcpUrl: string;
  readonly resourceMetadataUrl: string;
  readonly resourceName: string;
  readonly issuer: string;
  readonly verifyAccessToken: (token: string) => Promise<AccessTokenCheck>;
  /** Present when DPoP-bound tokens are accepted. */
  readonly dpop: { readonly verifier: DpopProofVerifier; readonly algorithms: readonly string[] } | undefined;
  readonly counter: RequestCounter;
  readonly stats: () => DemoServerStats;
}

type Authentication =
  | { readonly kind: 'none' }
  | { readonly kind: 'invalid'; readonly error: ChallengeError; readonly description: string }
  | { readonly kind: 'valid'; readonly token: VerifiedAccessToken };

/** `Bearer <token>` or `DPoP <token>` (schemes are case-insensitive); anything else is no token. */
function readAuthorization(
  header: string | undefined,
): { scheme: 'bearer' | 'dpop'; token: string } | undefined {
  const match = header === undefined ? null : /^(bearer|dpop) +([A-Za-z0-9\-._~+/]+=*)$/i.exec(header.trim());
  if (match === null) return undefined;
  return { scheme: match[1]?.toLowerCase() === 'dpop' ? 'dpop' : 'bearer', token: match[2] ?? '' };
}

async function authenticate(setup: ResourceServerSetup, request: Request): Promise<Authentication> {
  const presented = readAuthorization(request.headers.authorization);
  if (presented === undefined) return { kind: 'none' };
  const check = await setup.verifyAccessToken(presented.token);
  if (!check.valid) return { kind: 'invalid', error: 'invalid_token', description: check.description };
  const { token } = check;
  if (token.jkt === undefined) {
    if (presented.scheme === 'dpop') {
      return { kind: 'invalid', error: 'invalid_token', description: 'the access token is not DPoP-bound' };
    }
    return { kind: 'valid', token };
  }
  if (setup.dpop === undefined || presented.scheme !== 'dpop') {
    return {
      kind: 'invalid',
      error: 'invalid_token',
      description: 'a DPoP-bound access token must be sent with the DPoP scheme',
    };
  }
  const proof = await setup.dpop.verifier.verify({
    proof: [request.headers.dpop ?? []].flat().join(','),
    method: request.method,
    url: new URL(request.originalUrl, setup.mcpUrl).href,
    accessToken: token.token,
    jkt: token.jkt,
  });
  if (!proof.valid) return { kind: 'invalid', error: 'invalid_dpop_proof', description: proof.description };
  return { kind: 'valid', token };
}

/** The scopes a JSON-RPC body needs beyond {@link TOOLS_SCOPE}: those of each `tools/call` it carries. */
function scopesNeededBy(body: unknown): string[] {
  const messages = Array.isArray(body) ? body : [body];
  const needed = new Set<string>([TOOLS_SCOPE]);
  for (const message of messages) {
    if (typeof message !== 'object' || message === null) continue;
    const { method, params } = message as { method?: unknown; params?: unknown };
    if (method !== 'tools/call' || typeof params !== 'object' || params === null) continue;
    const name = (params as { name?: unknown }).name;
    if (typeof name !== 'string') continue;
    for (const scope of TOOL_SCOPES[name] ?? []) needed.add(scope);
  }
  return [...needed];
}

function classify(path: string): DemoEndpoint {
  if (path.startsWith('/.well-known/oauth-protected-resource')) return 'protectedResourceMetadata';
  if (path === '/mcp') return 'mcp';
  return 'other';
}

function allowCrossOrigin(request: Request, response: Response, next: NextFunction): void {
  response.set({
    'access-control-allow-origin': '*',
    'access-control-allow-headers':
      'authorization, dpop, content-type, accept, mcp-protocol-version, mcp-session-id, mcp-method, mcp-name',
    'access-control-allow-methods': 'GET, POST, DELETE, OPTIONS',
    'access-control-expose-headers': 'www-authenticate, mcp-session-id, mcp-protocol-version',
  });
  if (request.method === 'OPTIONS') {
    response.status(204).end();
    return;
  }
  next();
}

/** The parsed request as a web `Request` (its body is passed separately, already parsed). */
function toWebRequest(request: Request, mcpUrl: string): globalThis.Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  return new globalThis.Request(new URL(request.originalUrl, mcpUrl), {
    method: request.method,
    headers,
    body: JSON.stringify(request.body),
  });
}

async function serveModern(
  handler: McpHttpHandler,
  request: globalThis.Request,
  parsedBody: unknown,
  authInfo: AuthInfo,
  response: Response,
): Promise<void> {
  const answer = await handler.fetch(request, { authInfo, parsedBody });
  response.status(answer.status);
  answer.headers.forEach((value, name) => {
    response.setHeader(name, value);
  });
  response.end(Buffer.from(await answer.arrayBuffer()));
}

export function createResourceServer(setup: ResourceServerSetup): Express {
  const resourcePath = new URL(setup.mcpUrl).pathname;
  const metadataPath = new URL(setup.resourceMetadataUrl).pathname;
  const app = express();
  app.disable('x-powered-by');
  app.use(setup.counter.middleware('mcp', classify));
  app.use(localhostHostValidation());
  app.use(allowCrossOrigin);

  app.get(metadataPath, (_request, response) => {
    response.set('cache-control', 'no-store').json({
      resource: setup.mcpUrl,
      authorization_servers: [setup.issuer],
      scopes_supported: [TOOLS_SCOPE],
      bearer_methods_supported: ['header'],
      resource_name: setup.resourceName,
      ...(setup.dpop === undefined
        ? {}
        : {
            dpop_signing_alg_values_supported: [...setup.dpop.algorithms],
            dpop_bound_access_tokens_required: false,
          }),
    });
  });

  function refuse(
    response: Response,
    status: 401 | 403,
    scope: string,
    error?: { readonly error: ChallengeError; readonly description: string },
  ): void {
    const challenges = buildChallenges({
      resourceMetadataUrl: setup.resourceMetadataUrl,
      scope,
      ...(error === undefined ? {} : { error: error.error, description: error.description }),
      ...(setup.dpop === undefined ? {} : { dpopAlgorithms: setup.dpop.algorithms }),
    });
    response.status(status).set('www-authenticate', challenges);
    if (error === undefined) {
      response.json({ error: 'unauthorized', error_description: 'an access token is required' });
    } else {
      response.json({ error: error.error, error_description: error.description });
    }
  }

  const authenticated = async (request: Request, response: Response, next: NextFunction) => {
    const authentication = await authenticate(setup, request);
    if (authentication.kind === 'none') return refuse(response, 401, TOOLS_SCOPE);
    if (authentication.kind === 'invalid') return refuse(response, 401, TOOLS_SCOPE, authentication);
    response.locals.token = authentication.token;
    next();
  };

  const authorized = (request: Request, response: Response, next: NextFunction) => {
    const token = response.locals.token as VerifiedAccessToken;
    const needed = scopesNeededBy(request.body);
    if (needed.every((scope) => token.scopes.includes(scope))) return next();
    refuse(response, 403, needed.join(' '), {
      error: 'insufficient_scope',
      description: 'the access token lacks a scope this request needs',
    });
  };

  // The 2026-07-28 wire only: every other request keeps the v1 transport below.
  const modern = createMcpHandler(() => createModernMcpServer(setup.stats), { legacy: 'reject' });

  app.post(
    resourcePath,
    authenticated,
    express.json({ limit: '1mb' }),
    authorized,
    async (request, response) => {
      const token = response.locals.token as VerifiedAccessToken;
      const auth: AuthInfo = {
        token: token.token,
        clientId: token.clientId,
        scopes: [...token.scopes],
        expiresAt: token.expiresAt,
        resource: new URL(setup.mcpUrl),
      };
      const webRequest = toWebRequest(request, setup.mcpUrl);
      if (!(await isLegacyRequest(webRequest, request.body))) {
        await serveModern(modern, webRequest, request.body, auth, response);
        return;
      }
      const server = createMcpServer(setup.stats);
      const transport = new StreamableHTTPServerTransport({ enableJsonResponse: true }); // no session id: stateless
      response.on('close', () => {
        void transport.close();
        void server.close();
      });
      await server.connect(transport);
      await transport.handleRequest(Object.assign(request, { auth }), response, request.body);
    },
  );

  // Stateless: no server-initiated stream, no session to end.
  app.all(resourcePath, authenticated, (_request, response) => {
    response.status(405).set('allow', 'POST').json({ error: 'method_not_allowed' });
  });

  // A body that is not JSON: the JSON-RPC parse error, not express's HTML page.
  app.use((error: unknown, _request: Request, response: Response, _next: NextFunction) => {
    const status = (error as { status?: unknown }).status;
    if (status === 400 || status === 413 || status === 415) {
      response
        .status(status)
        .json({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } });
      return;
    }
    response
      .status(500)
      .json({ jsonrpc: '2.0', id: null, error: { code: -32603, message: 'Internal error' } });
  });

  return app;
}
