/**
 * The authorization server: oidc-provider (panva's certified implementation) configured for MCP,
 * mounted in an express app together with the consent interaction and the RFC 8414 metadata
 * alias. What the configuration bridges between oidc-provider and MCP is noted where it happens.
 */
import { randomBytes } from 'node:crypto';
import { localhostHostValidation } from '@modelcontextprotocol/sdk/server/middleware/hostHeaderValidation.js';
import express, { type Express } from 'express';
import { compactVerify, type JWK } from 'jose';
import Provider, {
  type ClientMetadata,
  type Configuration,
  errors,
  type KoaContextWithOIDC,
  type ResourceServer,
} from 'oidc-provider';
import { mountInteractions } from './interactions.js';
import { createMemoryAdapterFactory } from './memory-adapter.js';
import type { DemoEndpoint, ResolvedOptions } from './options.js';
import {
  type Page,
  renderDeviceCodePage,
  renderDeviceConfirmPage,
  renderDeviceSuccessPage,
  renderErrorPage,
} from './pages.js';
import type { AccessTokenRevocations } from './revocations.js';
import { ADVERTISED_SCOPES, RESOURCE_SCOPES } from './scopes.js';
import type { RequestCounter } from './stats.js';

export const ROUTES = {
  authorization: '/authorize',
  device_authorization: '/device/auth',
  code_verification: '/device',
  token: '/token',
  registration: '/register',
  revocation: '/revoke',
  jwks: '/jwks',
  introspection: '/introspect',
} as const;

const OAUTH_METADATA_PATH = '/.well-known/oauth-authorization-server';
const OPENID_METADATA_PATH = '/.well-known/openid-configuration';

export const SIGNING_ALG = 'ES256';

export interface AuthorizationServerSetup {
  /** `http://127.0.0.1:PORT`, no trailing slash: the string clients compare metadata against. */
  readonly issuer: string;
  readonly mcpUrl: string;
  /** The MCP server's display name, shown on the consent page. */
  readonly mcpName: string;
  readonly options: ResolvedOptions;
  /** The private ES256 key (with `kid`) that signs access tokens. */
  readonly signingKey: JWK;
  readonly revocations: AccessTokenRevocations;
  readonly counter: RequestCounter;
}

export function classifyAuthorizationServerPath(path: string): DemoEndpoint {
  if (path === OAUTH_METADATA_PATH || path === OPENID_METADATA_PATH) return 'authorizationServerMetadata';
  if (path === ROUTES.jwks) return 'jwks';
  if (path === ROUTES.registration || path.startsWith(`${ROUTES.registration}/`)) return 'registration';
  if (path === ROUTES.authorization || path.startsWith(`${ROUTES.authorization}/`)) return 'authorize';
  if (path.startsWith('/interaction/')) return 'consent';
  if (path === ROUTES.device_authorization) return 'deviceAuthorization';
  if (path === ROUTES.code_verification || path.startsWith(`${ROUTES.code_verification}/`)) {
    return 'deviceVerification';
  }
  if (path === ROUTES.token) return 'token';
  if (path === ROUTES.revocation) return 'revocation';
  return 'other';
}

function resourceServerFor(setup: AuthorizationServerSetup, indicator: string): ResourceServer {
  const known = indicator === setup.mcpUrl || setup.options.otherResources.includes(indicator);
  if (!known) throw new errors.InvalidTarget('this authorization server knows no such resource');
  return {
    // Tokens carry only the scopes the resource understands (oidc-provider filters by this list).
    scope: RESOURCE_SCOPES.join(' '),
    audience: indicator,
    accessTokenTTL: setup.options.accessTokenLifetimeSeconds,
    accessTokenFormat: 'jwt',
    jwt: { sign: { alg: SIGNING_ALG } },
  };
}

function show(ctx: KoaContextWithOIDC, page: Page): void {
  ctx.set(page.headers);
  ctx.body = page.html;
}

/** What went wrong with a typed code, in words for the person at the verification page. */
function deviceCodeProblem(error: unknown): string | undefined {
  if (error === undefined || error === null) return undefined;
  const { name, userCode } = error as { name?: unknown; userCode?: unknown };
  if (name === 'AbortedError') return 'The sign-in was aborted: nothing was granted.';
  if (name === 'NoCodeError' || userCode !== undefined) {
    return 'That code is unknown, used or expired. Check it and try again.';
  }
  return 'The code could not be checked. Try again.';
}

/**
 * The device authorization grant (RFC 8628): the pages a person sees at the verification URI. The
 * confirmation page is where the person checks the code against their device; the login and
 * consent that follow are the same interaction as for the authorization code flow.
 */
function deviceFlow(): NonNullable<Configuration['features']>['deviceFlow'] {
  return {
    enabled: true,
    userCodeInputSource: async (ctx, form, _out, error) => {
      show(ctx, renderDeviceCodePage({ form, problem: deviceCodeProblem(error) }));
    },
    userCodeConfirmSource: async (ctx, form, client, _deviceInfo, userCode) => {
      show(
        ctx,
        renderDeviceConfirmPage({ form, clientName: client.clientName, clientId: client.clientId, userCode }),
      );
    },
    successSource: async (ctx) => {
      show(ctx, renderDeviceSuccessPage({ clientName: ctx.oidc.client?.clientName }));
    },
  };
}

/** Whether `client` gets refresh tokens: registered for the grant, and the demo issues them. */
export function issuesRefreshTokens(
  options: ResolvedOptions,
  client: { grantTypeAllowed(type: string): boolean },
): boolean {
  return options.issueRefreshTokens && client.grantTypeAllowed('refresh_token');
}

function configure(setup: AuthorizationServerSetup): Configuration {
  const { options } = setup;
  const lifetime = options.accessTokenLifetimeSeconds;
  const confidential: ClientMetadata = {
    client_id: options.confidentialClient.clientId,
    client_secret: options.confidentialClient.clientSecret,
    client_name: 'mcp-oauth demo service (client_credentials)',
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
    scope: RESOURCE_SCOPES.join(' '),
  };
  return {
    adapter: createMemoryAdapterFactory(),
    jwks: { keys: [setup.signingKey] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    clients: [confidential],
    clientDefaults: {
      // Dynamic registrations default to native apps: http redirect URIs only on loopback hosts,
      // and any port on them (RFC 8252 §7.3), which is what a CLI's callback server needs.
      application_type: 'native',
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: SIGNING_ALG,
    },
    scopes: [...ADVERTISED_SCOPES],
    responseTypes: ['code'],
    pkce: { required: () => true },
    routes: ROUTES,
    clientBasedCORS: () => true,
    features: {
      devInteractions: { enabled: false },
      registration: { enabled: true, initialAccessToken: false, issueRegistrationAccessToken: false },
      revocation: {
        enabled: true,
        // RFC 7009 §2.1: a client may revoke its own tokens only.
        allowedPolicy: (_ctx, client, token) => token.clientId === client.clientId,
      },
      clientCredentials: { enabled: true },
      deviceFlow: deviceFlow(),
      dPoP: { enabled: options.dpop },
      userinfo: { enabled: false },
      rpInitiatedLogout: { enabled: false },
      pushedAuthorizationRequests: { enabled: false },
      // A client may name itself with an https URL serving its metadata instead of registering.
      clientIdMetadataDocument: { enabled: true, ack: 'draft-02' },
      resourceIndicators: {
        enabled: true,
        // MCP requires `resource` on the authorization request; without it oidc-provider would
        // issue an opaque token no resource server accepts. Say so at once instead.
        defaultResource: (_ctx, _client, oneOf) => {
          if (oneOf !== undefined) return oneOf;
          throw new errors.InvalidTarget('the resource parameter (RFC 8707) is required');
        },
        // At the token endpoint the granted resource is used when `resource` is omitted.
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, indicator) => resourceServerFor(setup, indicator),
      },
    },
    enabledJWA: {
      dPoPSigningAlgValues: [SIGNING_ALG],
      idTokenSigningAlgValues: [SIGNING_ALG],
    },
    ttl: {
      AccessToken: lifetime,
      ClientCredentials: lifetime,
      AuthorizationCode: 60,
      DeviceCode: 600,
      IdToken: 3600,
      Interaction: 600,
      Session: 24 * 3600,
      Grant: 14 * 24 * 3600,
      RefreshToken: 14 * 24 * 3600,
    },
    // oidc-provider follows OpenID Connect: `offline_access` only counts with `prompt=consent`,
    // which MCP clients do not send. Issue a refresh token to every client registered for the
    // refresh_token grant instead (unless `issueRefreshTokens` is off), rotate it on every use,
    // and keep it independent of the browser session.
    issueRefreshToken: (_ctx, client) => issuesRefreshTokens(options, client),
    rotateRefreshToken: true,
    expiresWithSession: () => false,
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
    renderError: (ctx, out) => {
      const page = renderErrorPage({
        error: typeof out.error === 'string' ? out.error : 'server_error',
        description: typeof out.error_description === 'string' ? out.error_description : undefined,
      });
      ctx.set(page.headers);
      ctx.body = page.html;
    },
  };
}

/**
 * oidc-provider stores no JWT access token, so its revocation endpoint answers
 * `unsupported_token_type` for one (allowed by RFC 7009 §2.2.1, but it leaves a signed-out token
 * usable until it expires). For a JWT it signed itself, the demo answers 200 instead, and when the
 * token belongs to the authenticated client, adds it to the list the MCP server consults.
 */
function bridgeAccessTokenRevocation(provider: Provider, setup: AuthorizationServerSetup): void {
  const verificationKey = publicKeyOf(setup.signingKey);
  provider.use(async (ctx: KoaContextWithOIDC, next) => {
    await next();
    if (ctx.oidc?.route !== 'revocation' || ctx.status !== 400) return;
    if ((ctx.body as { error?: unknown } | undefined)?.error !== 'unsupported_token_type') return;
    const token = ctx.oidc.params?.token;
    const clientId = ctx.oidc.client?.clientId;
    if (typeof token !== 'string' || clientId === undefined) return;
    let payload: { iss?: unknown; jti?: unknown; exp?: unknown; client_id?: unknown };
    try {
      // Signature only: an expired token of ours is revoked (a no-op) with a 200 all the same.
      const { payload: bytes, protectedHeader } = await compactVerify(token, verificationKey, {
        algorithms: [SIGNING_ALG],
      });
      if (protectedHeader.typ !== 'at+jwt') return;
      payload = JSON.parse(new TextDecoder().decode(bytes)) as typeof payload;
    } catch {
      return; // Not one of ours: oidc-provider's answer stands.
    }
    if (payload.iss !== setup.issuer) return;
    if (
      payload.client_id === clientId &&
      typeof payload.jti === 'string' &&
      typeof payload.exp === 'number'
    ) {
      setup.revocations.revokeToken(payload.jti, payload.exp);
    }
    ctx.status = 200;
    ctx.body = '';
  });
}

/**
 * oidc-provider sends no `interval` in a device authorization response, so clients poll every 5 s
 * (RFC 8628 §3.2). The demo names its own interval, which tests shorten.
 */
function announcePollingInterval(provider: Provider, intervalSeconds: number): void {
  provider.use(async (ctx: KoaContextWithOIDC, next) => {
    await next();
    if (ctx.oidc?.route !== 'device_authorization' || ctx.status !== 200) return;
    const body = ctx.body;
    if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
      ctx.body = { ...body, interval: intervalSeconds };
    }
  });
}

function publicKeyOf(key: JWK): JWK {
  const { d: _private, ...publicKey } = key;
  return publicKey;
}

export interface AuthorizationServer {
  readonly app: Express;
  readonly provider: Provider;
}

export function createAuthorizationServer(setup: AuthorizationServerSetup): AuthorizationServer {
  const provider = new Provider(setup.issuer, configure(setup));

  provider.on('access_token.issued', (token) => {
    if (token.grantId !== undefined) {
      setup.revocations.recordIssued(token.jti, token.grantId, token.iat + token.expiration);
    }
  });
  provider.on('grant.revoked', (_ctx, grantId) => setup.revocations.revokeGrant(grantId));
  bridgeAccessTokenRevocation(provider, setup);
  announcePollingInterval(provider, setup.options.devicePollIntervalSeconds);

  const app = express();
  app.disable('x-powered-by');
  app.use(setup.counter.middleware('authorization', classifyAuthorizationServerPath));
  // Only 127.0.0.1/localhost Host headers: no DNS rebinding onto the loopback server.
  app.use(localhostHostValidation());
  // oidc-provider serves OpenID Connect Discovery only. RFC 8414 metadata (which MCP clients try
  // first) is the same document for this issuer, so the path is rewritten to it.
  app.get(OAUTH_METADATA_PATH, (request, _response, next) => {
    request.url = OPENID_METADATA_PATH;
    next();
  });
  mountInteractions(app, {
    provider,
    autoApprove: setup.options.autoApprove,
    grantScopes: setup.options.grantScopes,
    refreshes: (client) => issuesRefreshTokens(setup.options, client),
    resourceNames: new Map([[setup.mcpUrl, setup.mcpName]]),
  });
  app.use(provider.callback());
  return { app, provider };
}
