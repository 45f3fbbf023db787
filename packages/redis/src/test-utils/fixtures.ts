/** Records for the store tests: every secret field contains `SECRET`, so leaks are easy to find. */
import {
  type ClientInformation,
  type DiscoveryRecord,
  type PendingAuthorization,
  type StoredTokens,
  tokenKey,
} from '@mcp-oauth/core';
import { createClient, type RedisClientType, type RedisDefaultModules } from 'redis';

export const ISSUER = 'https://as.example';
export const RESOURCE = 'https://mcp.example/mcp';
export const KEY = tokenKey(ISSUER, RESOURCE, 'client-1');

export function tokens(accessToken = 'access-SECRET'): StoredTokens {
  return {
    accessToken,
    tokenType: 'Bearer',
    expiresAt: 2_000_000_000_000,
    refreshToken: 'refresh-SECRET',
    grantedScopes: ['mcp'],
    requestedScopes: ['mcp'],
    issuedAt: 1_700_000_000_000,
  };
}

export const CLIENT: ClientInformation = {
  issuer: ISSUER,
  clientId: 'client-1',
  clientSecret: 'client-SECRET',
  tokenEndpointAuthMethod: 'client_secret_basic',
  redirectUris: ['http://127.0.0.1:33418/callback'],
  source: 'dynamic',
};

export const DISCOVERY: DiscoveryRecord = {
  serverUrl: RESOURCE,
  resource: RESOURCE,
  issuer: ISSUER,
  authorizationServerMetadata: { issuer: ISSUER, token_endpoint: `${ISSUER}/token` },
  metadataSource: 'oauth',
  discoveredAt: 1_700_000_000_000,
  clientId: 'client-1',
};

export function pending(state: string, ttlMs = 600_000): PendingAuthorization {
  const now = Date.now();
  return {
    state,
    codeVerifier: 'verifier-SECRET',
    issuer: ISSUER,
    resource: RESOURCE,
    serverUrl: RESOURCE,
    clientId: 'client-1',
    redirectUri: 'http://127.0.0.1:33418/callback',
    scopes: ['mcp'],
    issParameterSupported: false,
    createdAt: now,
    expiresAt: now + ttlMs,
  };
}

// biome-ignore lint/complexity/noBannedTypes: node-redis's own defaults for functions and scripts
export type TestClient = RedisClientType<RedisDefaultModules, {}, {}, 3, {}>;

/** A node-redis client that gives up reconnecting quickly (tests stop servers on purpose). */
export function connect(url: string): Promise<TestClient> {
  const client = createClient({
    url,
    socket: { reconnectStrategy: (retries) => Math.min(20 + retries * 20, 200), connectTimeout: 2_000 },
  });
  // Connection errors surface through commands; without a listener node-redis would throw them.
  client.on('error', () => {});
  return client.connect();
}
