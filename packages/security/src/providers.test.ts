/**
 * The identity providers MCP servers sit behind, each played on 127.0.0.1 by a server that behaves
 * as the provider documents: what a user following the README needs, and the first error naming
 * the option that fixes it.
 */
import { OAuthSession, type OAuthSessionOptions } from '@mcp-oauth/core';
import { createFetchHttpClient, withOAuth } from '@mcp-oauth/fetch';
import { afterEach, describe, expect, it } from 'vitest';
import { type HostileServer, json, type RecordedRequest, startHostileServer } from './hostile-server.js';

const open: HostileServer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((server) => server.close()));
});

async function server(): Promise<HostileServer> {
  const started = await startHostileServer();
  open.push(started);
  return started;
}

const REDIRECT = 'http://127.0.0.1:9/callback';

/** An MCP server that accepts `token` and names `issuer` in its resource metadata. */
async function mcpServer(issuer: string, accepted: () => string | undefined) {
  const resource = await server();
  resource.route('GET', '/.well-known/oauth-protected-resource/mcp', () =>
    json(200, { resource: resource.url('/mcp'), authorization_servers: [issuer], scopes_supported: ['mcp'] }),
  );
  resource.route('POST', '/mcp', (request) =>
    request.headers.authorization === `Bearer ${accepted()}`
      ? json(200, { ok: true })
      : {
          status: 401,
          headers: {
            'www-authenticate': `Bearer resource_metadata="${resource.url('/.well-known/oauth-protected-resource/mcp')}"`,
          },
        },
  );
  return resource;
}

/** The user's browser: follows the authorization URL the provider's way and brings back the redirect. */
function browser(provider: HostileServer) {
  const authorizations: URL[] = [];
  const handler: OAuthSessionOptions['authorizationHandler'] = async ({ authorizationUrl }) => {
    const url = new URL(authorizationUrl);
    authorizations.push(url);
    const response = await fetch(url, { redirect: 'manual' });
    const location = response.headers.get('location');
    if (location === null) throw new Error(`the provider answered ${response.status}`);
    return location;
  };
  return { handler, authorizations, provider };
}

function approveWithCode(provider: HostileServer, path: string, extra: Record<string, string> = {}) {
  provider.route('GET', path, (request) => {
    const query = new URL(request.url).searchParams;
    const redirect = new URL(query.get('redirect_uri') ?? REDIRECT);
    redirect.searchParams.set('code', 'provider-code');
    redirect.searchParams.set('state', query.get('state') ?? '');
    for (const [name, value] of Object.entries(extra)) redirect.searchParams.set(name, value);
    return { status: 302, headers: { location: redirect.href } };
  });
}

async function call(authorizedFetch: typeof fetch, url: string) {
  return authorizedFetch(url, {
    method: 'POST',
    body: '{}',
    headers: { 'content-type': 'application/json' },
  });
}

describe('Microsoft Entra ID (v2)', () => {
  async function entra() {
    const provider = await server();
    const issuer = provider.url('/tenant/v2.0');
    // No code_challenge_methods_supported and no registration endpoint, as Entra's document.
    provider.route('GET', '/tenant/v2.0/.well-known/openid-configuration', () =>
      json(200, {
        issuer,
        authorization_endpoint: provider.url('/tenant/oauth2/v2.0/authorize'),
        token_endpoint: provider.url('/tenant/oauth2/v2.0/token'),
        response_types_supported: ['code'],
      }),
    );
    provider.route('*', '/.well-known/oauth-authorization-server/tenant/v2.0', () => json(404, {}));
    approveWithCode(provider, '/tenant/oauth2/v2.0/authorize');
    provider.route('POST', '/tenant/oauth2/v2.0/token', (request) =>
      request.form.has('resource')
        ? json(400, {
            error: 'invalid_target',
            error_description: 'AADSTS901002: The resource request parameter is not supported.',
          })
        : json(200, {
            access_token: 'entra-token',
            token_type: 'Bearer',
            expires_in: 3600,
            scope: request.form.get('scope'),
          }),
    );
    const resource = await mcpServer(issuer, () => 'entra-token');
    return { provider, issuer, resource };
  }

  it('the first error names the PKCE allowance', async () => {
    const { provider, issuer, resource } = await entra();
    const { handler } = browser(provider);
    const session = new OAuthSession({
      serverUrl: resource.url('/mcp'),
      httpClient: createFetchHttpClient(),
      client: { preRegistered: [{ issuer, clientId: 'entra-app' }], redirectUris: [REDIRECT] },
      authorizationHandler: handler,
    });
    const failure = await call(withOAuth(fetch, session), resource.url('/mcp')).catch((error) => error);
    expect(failure).toMatchObject({ code: 'pkce_unsupported' });
    expect(failure.message).toContain(`authorizationServerPolicies["${issuer}"].allowMissingPkceMetadata`);
  });

  it('works with the PKCE allowance, api:// scopes and no resource parameter', async () => {
    const { provider, issuer, resource } = await entra();
    const { handler, authorizations } = browser(provider);
    const authorizedFetch = withOAuth(fetch, {
      serverUrl: resource.url('/mcp'),
      client: { preRegistered: [{ issuer, clientId: 'entra-app' }], redirectUris: [REDIRECT] },
      scopes: ['api://mcp-app/mcp.tools'],
      authorizationServerPolicies: { [issuer]: { allowMissingPkceMetadata: true, sendResource: false } },
      authorizationHandler: handler,
    });
    expect((await call(authorizedFetch, resource.url('/mcp'))).status).toBe(200);
    expect(authorizations[0]!.searchParams.has('resource')).toBe(false);
    expect(authorizations[0]!.searchParams.get('scope')).toBe('api://mcp-app/mcp.tools');
    expect(authorizations[0]!.searchParams.get('code_challenge_method')).toBe('S256');
  });
});

describe('GitHub OAuth apps', () => {
  it('works with endpoints given by hand, Accept: application/json and comma-separated scopes', async () => {
    const provider = await server();
    const issuer = provider.url('/login/oauth');
    // GitHub publishes no metadata at all.
    approveWithCode(provider, '/login/oauth/authorize');
    provider.route('POST', '/login/oauth/access_token', (request: RecordedRequest) =>
      request.headers.accept?.includes('application/json')
        ? json(200, { access_token: 'gho_token', token_type: 'bearer', scope: 'repo,read:user' })
        : {
            status: 200,
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: 'access_token=gho_token&scope=repo%2Cread%3Auser&token_type=bearer',
          },
    );
    const resource = await mcpServer(issuer, () => 'gho_token');
    const { handler } = browser(provider);
    const options: OAuthSessionOptions = {
      serverUrl: resource.url('/mcp'),
      httpClient: createFetchHttpClient(),
      client: {
        preRegistered: [{ issuer, clientId: 'gh-app', clientSecret: 'gh-secret' }],
        redirectUris: [REDIRECT],
      },
      scopes: ['repo', 'read:user'],
      authorizationHandler: handler,
    };
    const without = await call(withOAuth(fetch, new OAuthSession(options)), resource.url('/mcp')).catch(
      (error) => error,
    );
    expect(without).toMatchObject({ code: 'discovery_failed' });
    expect(without.message).toContain(`authorizationServerPolicies["${issuer}"].metadata`);

    const session = new OAuthSession({
      ...options,
      authorizationServerPolicies: {
        [issuer]: {
          metadata: {
            authorization_endpoint: `${issuer}/authorize`,
            token_endpoint: `${issuer}/access_token`,
            code_challenge_methods_supported: ['S256'],
          },
        },
      },
    });
    expect((await call(withOAuth(fetch, session), resource.url('/mcp'))).status).toBe(200);
    expect(session.getTokenInfo()!.grantedScopes).toEqual(['repo', 'read:user']);
  });
});

describe('Auth0 and Google', () => {
  async function provider(tokenOrigin?: HostileServer) {
    const as = await server();
    const token = tokenOrigin ?? as;
    as.route('GET', '/.well-known/oauth-authorization-server', () =>
      json(200, {
        issuer: as.origin,
        authorization_endpoint: as.url('/authorize'),
        token_endpoint: token.url('/token'),
        response_types_supported: ['code'],
        code_challenge_methods_supported: ['S256'],
      }),
    );
    approveWithCode(as, '/authorize');
    token.route('POST', '/token', () =>
      json(200, {
        access_token: 'provider-token',
        token_type: 'Bearer',
        expires_in: 3600,
        refresh_token: 'provider-refresh',
      }),
    );
    return as;
  }

  it('Auth0: an API token needs the audience parameter (authorizationParams)', async () => {
    const as = await provider();
    const resource = await mcpServer(as.origin, () => 'provider-token');
    const { handler, authorizations } = browser(as);
    const authorizedFetch = withOAuth(fetch, {
      serverUrl: resource.url('/mcp'),
      client: { preRegistered: [{ issuer: as.origin, clientId: 'auth0-app' }], redirectUris: [REDIRECT] },
      authorizationParams: { audience: 'https://mcp.example.com/api' },
      authorizationHandler: handler,
    });
    expect((await call(authorizedFetch, resource.url('/mcp'))).status).toBe(200);
    expect(authorizations[0]!.searchParams.get('audience')).toBe('https://mcp.example.com/api');
  });

  it('Google: a token endpoint on another origin, and access_type=offline for a refresh token', async () => {
    const tokens = await server();
    const as = await provider(tokens);
    const resource = await mcpServer(as.origin, () => 'provider-token');
    const { handler, authorizations } = browser(as);
    const authorizedFetch = withOAuth(fetch, {
      serverUrl: resource.url('/mcp'),
      client: { preRegistered: [{ issuer: as.origin, clientId: 'google-app' }], redirectUris: [REDIRECT] },
      authorizationParams: { access_type: 'offline', prompt: 'consent' },
      authorizationHandler: handler,
    });
    expect((await call(authorizedFetch, resource.url('/mcp'))).status).toBe(200);
    expect(authorizations[0]!.searchParams.get('access_type')).toBe('offline');
    expect(tokens.requestsTo('/token', 'POST')).toHaveLength(1);
    expect(authorizedFetch.oauthSession.getTokenInfo()!.hasRefreshToken).toBe(true);
  });
});
