/**
 * A minimal OAuth client for the tests, written with plain `fetch` so that every request the
 * tests make is visible: registration, PKCE, the authorization URL, token requests, DPoP proofs
 * and MCP calls.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { followAuthorization } from '../headless.js';
import type { DemoServer } from '../start.js';

export const CALLBACK = 'http://127.0.0.1:49999/callback';
export const MCP_ACCEPT = 'application/json, text/event-stream';

export interface RegisteredClient {
  readonly client_id: string;
  readonly [field: string]: unknown;
}

export async function registerClient(
  demo: DemoServer,
  metadata: Record<string, unknown> = {},
): Promise<RegisteredClient> {
  const response = await fetch(`${demo.issuer}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: 'Test Client',
      redirect_uris: [CALLBACK],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      application_type: 'native',
      ...metadata,
    }),
  });
  if (response.status !== 201) throw new Error(`registration answered ${response.status}`);
  return (await response.json()) as RegisteredClient;
}

export interface Pkce {
  readonly verifier: string;
  readonly challenge: string;
}

export function createPkce(): Pkce {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export function authorizationUrl(
  demo: DemoServer,
  parameters: {
    clientId: string;
    pkce: Pkce;
    state: string;
    scope?: string;
    resource?: string | undefined;
    redirectUri?: string;
  },
): string {
  const url = new URL(`${demo.issuer}/authorize`);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', parameters.clientId);
  url.searchParams.set('redirect_uri', parameters.redirectUri ?? CALLBACK);
  url.searchParams.set('scope', parameters.scope ?? 'mcp:tools offline_access');
  url.searchParams.set('state', parameters.state);
  url.searchParams.set('code_challenge', parameters.pkce.challenge);
  url.searchParams.set('code_challenge_method', 'S256');
  if (parameters.resource !== undefined) url.searchParams.set('resource', parameters.resource);
  return url.href;
}

export interface TokenResponse {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

export async function tokenRequest(
  demo: DemoServer,
  parameters: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<TokenResponse> {
  const response = await fetch(`${demo.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(parameters),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

export function decodeJwtPayload(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}

export function stringField(body: Record<string, unknown>, field: string): string {
  const value = body[field];
  if (typeof value !== 'string') throw new Error(`"${field}" is not a string`);
  return value;
}

export interface DpopKey {
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
  readonly thumbprint: string;
}

export async function createDpopKey(): Promise<DpopKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const publicJwk = await exportJWK(publicKey);
  return { privateKey, publicJwk, thumbprint: await calculateJwkThumbprint(publicJwk, 'sha256') };
}

export async function createDpopProof(
  key: DpopKey,
  claims: { htm: string; htu: string; accessToken?: string; iat?: number; jti?: string },
): Promise<string> {
  const payload: Record<string, unknown> = {
    jti: claims.jti ?? randomUUID(),
    htm: claims.htm,
    htu: claims.htu,
  };
  if (claims.accessToken !== undefined) {
    payload.ath = createHash('sha256').update(claims.accessToken).digest('base64url');
  }
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: key.publicJwk })
    .setIssuedAt(claims.iat ?? Math.floor(Date.now() / 1000))
    .sign(key.privateKey);
}

export interface McpResponse {
  readonly status: number;
  readonly wwwAuthenticate: string | null;
  readonly body: Record<string, unknown>;
}

let nextId = 1;

/** One JSON-RPC request to the MCP server. `authorization` is the whole header value. */
export async function callMcp(
  demo: DemoServer,
  message: { method: string; params?: Record<string, unknown> },
  headers: Record<string, string> = {},
): Promise<McpResponse> {
  const response = await fetch(demo.mcpUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: MCP_ACCEPT,
      'mcp-protocol-version': '2025-06-18',
      ...headers,
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, ...message }),
  });
  const text = await response.text();
  return {
    status: response.status,
    wwwAuthenticate: response.headers.get('www-authenticate'),
    body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
  };
}

export const INITIALIZE = {
  method: 'initialize',
  params: {
    protocolVersion: '2025-06-18',
    capabilities: {},
    clientInfo: { name: 'demo-server tests', version: '0' },
  },
} as const;

/** Authorization (auto-approved) and the code exchange, as a client would run them. */
export async function obtainTokens(
  demo: DemoServer,
  client: RegisteredClient,
  options: { scope?: string; dpopKey?: DpopKey } = {},
): Promise<TokenResponse> {
  const pkce = createPkce();
  const state = randomBytes(8).toString('hex');
  const callback = new URL(
    await followAuthorization(
      authorizationUrl(demo, {
        clientId: client.client_id,
        pkce,
        state,
        resource: demo.mcpUrl,
        ...(options.scope === undefined ? {} : { scope: options.scope }),
      }),
    ),
  );
  if (callback.searchParams.get('state') !== state) throw new Error('state mismatch');
  const headers: Record<string, string> =
    options.dpopKey === undefined
      ? {}
      : { dpop: await createDpopProof(options.dpopKey, { htm: 'POST', htu: `${demo.issuer}/token` }) };
  return tokenRequest(
    demo,
    {
      grant_type: 'authorization_code',
      code: callback.searchParams.get('code') ?? '',
      redirect_uri: CALLBACK,
      client_id: client.client_id,
      code_verifier: pkce.verifier,
      resource: demo.mcpUrl,
    },
    headers,
  );
}

export function bearer(token: TokenResponse): Record<string, string> {
  return { authorization: `Bearer ${stringField(token.body, 'access_token')}` };
}
