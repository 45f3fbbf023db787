/**
 * A session that starts where a restarted application starts: its stores already hold the
 * discovery record, the registered client and a valid access token, so it sends no OAuth request.
 * The overhead and memory runs use it against the token server, which has no OAuth endpoints.
 */
import {
  createMemoryStores,
  type OAuthHttpClient,
  OAuthSession,
  type StoredTokens,
  tokenKey,
} from '@mcp-oauth/core';

const CLIENT_ID = 'bench-client';
const REDIRECT_URI = 'http://127.0.0.1:53682/callback';

export async function createSeededSession(
  serverUrl: string,
  accessToken: string,
  httpClient: OAuthHttpClient,
): Promise<OAuthSession> {
  const { origin } = new URL(serverUrl);
  const stores = createMemoryStores();
  const now = Date.now();
  await stores.discovery.set(serverUrl, {
    serverUrl,
    resource: serverUrl,
    issuer: origin,
    authorizationServerMetadata: {
      issuer: origin,
      authorization_endpoint: `${origin}/authorize`,
      token_endpoint: `${origin}/token`,
      response_types_supported: ['code'],
      code_challenge_methods_supported: ['S256'],
    },
    metadataSource: 'oauth',
    discoveredAt: now,
    clientId: CLIENT_ID,
  });
  await stores.clients.set(origin, {
    issuer: origin,
    clientId: CLIENT_ID,
    tokenEndpointAuthMethod: 'none',
    redirectUris: [REDIRECT_URI],
    source: 'dynamic',
  });
  const tokens: StoredTokens = {
    accessToken,
    tokenType: 'Bearer',
    expiresAt: now + 24 * 3600_000,
    grantedScopes: ['mcp:read'],
    requestedScopes: ['mcp:read'],
    issuedAt: now,
  };
  await stores.tokens.set(tokenKey(origin, serverUrl, CLIENT_ID), tokens);
  return new OAuthSession({
    serverUrl,
    httpClient,
    client: { redirectUris: [REDIRECT_URI] },
    stores,
  });
}
