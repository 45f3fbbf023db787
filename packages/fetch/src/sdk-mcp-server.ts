// Test-only: an MCP server built the way the MCP TypeScript SDK's own examples build one — v1
// `McpServer` over a stateless `StreamableHTTPServerTransport` in `createMcpExpressApp`, its
// protected resource metadata from `mcpAuthMetadataRouter`, and the SDK's `requireBearerAuth`
// checking each token by introspection at the authorization server. `echo` needs `mcp:tools`;
// `admin_echo` needs `mcp:admin` as well, so calling it with a smaller token is answered
// 403 insufficient_scope by `requireBearerAuth` itself.
import type { ServerResponse } from 'node:http';
import { closeServer, listenOnLoopback } from '@mcp-oauth/testkit';
import { InvalidTokenError, ServerError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import {
  getOAuthProtectedResourceMetadataUrl,
  mcpAuthMetadataRouter,
} from '@modelcontextprotocol/sdk/server/auth/router.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { OAuthMetadataSchema } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { Request, Response } from 'express';
import * as z from 'zod';

export const TOOLS_SCOPE = 'mcp:tools';
export const ADMIN_SCOPE = 'mcp:admin';
export const ADMIN_TOOL = 'admin_echo';

/** One request to `/mcp` as the resource server saw and answered it. */
export interface ResourceRequestRecord {
  readonly httpMethod: string;
  /** The JSON-RPC method of a POST body (`initialize`, `tools/call`, …). */
  readonly rpcMethod: string | undefined;
  /** For `tools/call`, the tool's name. */
  readonly tool: string | undefined;
  /** The `Authorization` header as received. */
  readonly authorization: string | undefined;
  /** What introspection said about the presented token; unset when none was checked. */
  tokenActive?: boolean;
  status?: number;
  wwwAuthenticate?: string;
}

export interface SdkMcpServer {
  /** `http://127.0.0.1:PORT/mcp` */
  readonly mcpUrl: URL;
  readonly resourceMetadataUrl: string;
  readonly requests: ResourceRequestRecord[];
  close(): Promise<void>;
}

function createMcpServer(): McpServer {
  const server = new McpServer({ name: 'mcp-oauth-sdk-integration', version: '1.0.0' });
  server.registerTool(
    'echo',
    { description: 'Returns its text', inputSchema: { text: z.string() } },
    async ({ text }) => ({ content: [{ type: 'text', text }] }),
  );
  server.registerTool(
    ADMIN_TOOL,
    {
      description: `Returns its text and the token's scopes; needs ${ADMIN_SCOPE}`,
      inputSchema: { text: z.string() },
    },
    async ({ text }, extra) => ({
      content: [{ type: 'text', text: `${text} [${(extra.authInfo?.scopes ?? []).join(' ')}]` }],
    }),
  );
  return server;
}

/** RFC 7662 introspection, as in the SDK's `simpleStreamableHttp` example. */
async function introspect(endpoint: URL, token: string): Promise<AuthInfo> {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }).toString(),
  });
  if (!response.ok) throw new ServerError('token introspection failed');
  const body = (await response.json()) as {
    active?: unknown;
    client_id?: unknown;
    scope?: unknown;
    exp?: unknown;
    aud?: unknown;
  };
  if (body.active !== true) throw new InvalidTokenError('the access token is not active');
  return {
    token,
    clientId: String(body.client_id),
    scopes: typeof body.scope === 'string' ? body.scope.split(' ') : [],
    ...(typeof body.exp === 'number' ? { expiresAt: body.exp } : {}),
    ...(typeof body.aud === 'string' ? { resource: new URL(body.aud) } : {}),
  };
}

function describeRequest(request: Request): ResourceRequestRecord {
  const body: unknown = request.body;
  const message =
    typeof body === 'object' && body !== null && !Array.isArray(body)
      ? (body as { method?: unknown; params?: { name?: unknown } })
      : undefined;
  const rpcMethod = typeof message?.method === 'string' ? message.method : undefined;
  const tool =
    rpcMethod === 'tools/call' && typeof message?.params?.name === 'string' ? message.params.name : undefined;
  return { httpMethod: request.method, rpcMethod, tool, authorization: request.headers.authorization };
}

/** Records the status and challenge at `writeHead`, before a byte reaches the client. */
function recordAnswer(response: ServerResponse, record: ResourceRequestRecord): void {
  const writeHead = response.writeHead;
  response.writeHead = function (this: ServerResponse, ...args: Parameters<typeof writeHead>) {
    record.status = args[0];
    const challenge = this.getHeader('www-authenticate');
    if (typeof challenge === 'string') record.wwwAuthenticate = challenge;
    return writeHead.apply(this, args);
  } as typeof writeHead;
}

function methodNotAllowed(_request: Request, response: Response): void {
  response
    .status(405)
    .set('allow', 'POST')
    .json({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed.' }, id: null });
}

/** Starts the MCP server on 127.0.0.1 (ephemeral port), trusting the given authorization server. */
export async function startSdkMcpServer(options: {
  readonly issuer: URL;
  readonly introspectionEndpoint: URL;
}): Promise<SdkMcpServer> {
  const { server, origin } = await listenOnLoopback();
  const mcpUrl = new URL('/mcp', origin);
  const resourceMetadataUrl = getOAuthProtectedResourceMetadataUrl(mcpUrl);
  const metadataResponse = await fetch(new URL('/.well-known/oauth-authorization-server', options.issuer));
  const oauthMetadata = OAuthMetadataSchema.parse(await metadataResponse.json());
  const requests: ResourceRequestRecord[] = [];

  const app = createMcpExpressApp();
  app.use(
    mcpAuthMetadataRouter({
      oauthMetadata,
      resourceServerUrl: mcpUrl,
      scopesSupported: [TOOLS_SCOPE, ADMIN_SCOPE],
      resourceName: 'mcp-oauth SDK integration test',
    }),
  );
  app.all('/mcp', (request, response, next) => {
    const record = describeRequest(request);
    requests.push(record);
    recordAnswer(response, record);
    const guard = requireBearerAuth({
      verifier: {
        verifyAccessToken: async (token) => {
          try {
            const info = await introspect(options.introspectionEndpoint, token);
            record.tokenActive = true;
            return info;
          } catch (error) {
            record.tokenActive = false;
            throw error;
          }
        },
      },
      requiredScopes: record.tool === ADMIN_TOOL ? [TOOLS_SCOPE, ADMIN_SCOPE] : [TOOLS_SCOPE],
      resourceMetadataUrl,
      expectedResource: mcpUrl,
    });
    void guard(request, response, next);
  });
  app.post('/mcp', async (request, response) => {
    const mcpServer = createMcpServer();
    // Stateless: no sessionIdGenerator, a fresh server and transport for each request.
    const transport = new StreamableHTTPServerTransport();
    response.on('close', () => {
      void transport.close();
      void mcpServer.close();
    });
    await mcpServer.connect(transport);
    await transport.handleRequest(request, response, request.body);
  });
  app.get('/mcp', methodNotAllowed);
  app.delete('/mcp', methodNotAllowed);
  server.on('request', app);

  return { mcpUrl, resourceMetadataUrl, requests, close: () => closeServer(server) };
}
