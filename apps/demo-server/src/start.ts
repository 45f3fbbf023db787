/**
 * Starts the authorization server and the MCP server on two 127.0.0.1 ports (two origins, as in
 * a real deployment) in this process, and returns their URLs and a way to stop them.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, exportJWK, generateKeyPair } from 'jose';
import { createAccessTokenVerifier } from './access-token.js';
import { createAuthorizationServer, ROUTES, SIGNING_ALG } from './authorization-server.js';
import { DpopProofVerifier } from './dpop-proof.js';
import { type ConfidentialClient, type DemoServerOptions, resolveOptions } from './options.js';
import { createResourceServer } from './resource-server.js';
import { AccessTokenRevocations } from './revocations.js';
import { type DemoServerStats, RequestCounter } from './stats.js';

export interface DemoServer {
  /** The authorization server's issuer, `http://127.0.0.1:PORT` (no trailing slash). */
  readonly issuer: string;
  /** The MCP endpoint and resource identifier, `http://127.0.0.1:PORT/mcp`. */
  readonly mcpUrl: string;
  /** RFC 9728 metadata of the MCP server. */
  readonly resourceMetadataUrl: string;
  /** RFC 8414 metadata of the authorization server. */
  readonly authorizationServerMetadataUrl: string;
  /** The pre-registered client for `client_credentials`. */
  readonly confidentialClient: ConfidentialClient;
  readonly accessTokenLifetimeSeconds: number;
  readonly autoApprove: boolean;
  readonly dpop: boolean;
  /** Requests received per endpoint since start. */
  stats(): DemoServerStats;
  /** Stops both servers, closing open connections. */
  close(): Promise<void>;
}

const MCP_NAME = 'mcp-oauth demo MCP server';

async function listen(port: number): Promise<{ server: Server; origin: string }> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port: actual } = server.address() as AddressInfo;
  return { server, origin: `http://127.0.0.1:${actual}` };
}

async function stop(server: Server): Promise<void> {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export async function startDemoServer(options: DemoServerOptions = {}): Promise<DemoServer> {
  const resolved = resolveOptions(options);
  const counter = new RequestCounter(resolved.onRequest);
  const revocations = new AccessTokenRevocations();

  const authorization = await listen(resolved.authorizationServerPort);
  let mcp: Awaited<ReturnType<typeof listen>>;
  try {
    mcp = await listen(resolved.mcpPort);
  } catch (error) {
    await stop(authorization.server);
    throw error;
  }

  const issuer = authorization.origin;
  const mcpUrl = `${mcp.origin}/mcp`;
  const resourceMetadataUrl = `${mcp.origin}/.well-known/oauth-protected-resource/mcp`;

  const { privateKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
  const signingKey = { ...(await exportJWK(privateKey)), kid: randomUUID(), alg: SIGNING_ALG, use: 'sig' };

  const { app: authorizationApp } = createAuthorizationServer({
    issuer,
    mcpUrl,
    mcpName: MCP_NAME,
    options: resolved,
    signingKey,
    revocations,
    counter,
  });
  authorization.server.on('request', authorizationApp);

  const mcpApp = createResourceServer({
    mcpUrl,
    resourceMetadataUrl,
    resourceName: MCP_NAME,
    issuer,
    verifyAccessToken: createAccessTokenVerifier({
      issuer,
      audience: mcpUrl,
      // The MCP server fetches the keys from the authorization server like any resource server would.
      keys: createRemoteJWKSet(new URL(ROUTES.jwks, issuer)),
      algorithms: [SIGNING_ALG],
      isRevoked: (jti) => revocations.isRevoked(jti),
      // Both servers read the same clock, so a token is dead the second it expires.
      clockToleranceSeconds: 0,
    }),
    dpop: resolved.dpop
      ? { verifier: new DpopProofVerifier({ algorithms: [SIGNING_ALG] }), algorithms: [SIGNING_ALG] }
      : undefined,
    counter,
    stats: () => counter.snapshot(),
  });
  mcp.server.on('request', mcpApp);

  let closing: Promise<void> | undefined;
  return {
    issuer,
    mcpUrl,
    resourceMetadataUrl,
    authorizationServerMetadataUrl: `${issuer}/.well-known/oauth-authorization-server`,
    confidentialClient: resolved.confidentialClient,
    accessTokenLifetimeSeconds: resolved.accessTokenLifetimeSeconds,
    autoApprove: resolved.autoApprove,
    dpop: resolved.dpop,
    stats: () => counter.snapshot(),
    close: () => {
      closing ??= Promise.all([stop(authorization.server), stop(mcp.server)]).then(() => undefined);
      return closing;
    },
  };
}
