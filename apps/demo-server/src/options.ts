import { randomBytes } from 'node:crypto';

/** What the demo server counts, one entry per endpoint (see {@link DemoServer.stats}). */
export type DemoEndpoint =
  | 'protectedResourceMetadata'
  | 'authorizationServerMetadata'
  | 'jwks'
  | 'registration'
  | 'authorize'
  | 'consent'
  | 'deviceAuthorization'
  | 'deviceVerification'
  | 'token'
  | 'revocation'
  | 'mcp'
  | 'other';

/** One answered request. Never carries a token, a code or a query string. */
export interface DemoRequestEvent {
  readonly server: 'authorization' | 'mcp';
  readonly endpoint: DemoEndpoint;
  readonly method: string;
  /** The path alone, without the query. */
  readonly path: string;
  readonly status: number;
}

/** An authorization request as the demo user sees it on the consent page. */
export interface ConsentRequest {
  readonly clientId: string;
  /** The scopes of the authorization request, as oidc-provider read them. */
  readonly scopes: readonly string[];
  /** The resource indicators (RFC 8707) of the authorization request. */
  readonly resources: readonly string[];
}

/** A client registered at start-up, for the `client_credentials` grant. */
export interface ConfidentialClient {
  readonly clientId: string;
  readonly clientSecret: string;
}

export interface DemoServerOptions {
  /** Port of the authorization server on 127.0.0.1. Default 0: any free port. */
  readonly authorizationServerPort?: number;
  /** Port of the MCP server on 127.0.0.1. Default 0: any free port. */
  readonly mcpPort?: number;
  /** Lifetime of access tokens, in seconds. Default 60: short, so that refreshes show. */
  readonly accessTokenLifetimeSeconds?: number;
  /** Grant every authorization request without showing the consent page. Default false. */
  readonly autoApprove?: boolean;
  /**
   * Which of the requested scopes an approval grants, on the consent page or with `autoApprove`:
   * a person who grants less than asked (e.g. no `mcp:admin`). The rest is recorded as rejected,
   * so oidc-provider issues the code without asking again, and the token response's `scope` names
   * what was granted. A scope that was not requested is never granted. Default: every one.
   */
  readonly grantScopes?: (request: ConsentRequest) => readonly string[];
  /**
   * Issue refresh tokens to clients registered for the `refresh_token` grant. False: none, as
   * authorization servers that keep public clients on short-lived access tokens do. Default true.
   */
  readonly issueRefreshTokens?: boolean;
  /** Offer DPoP (RFC 9449) at the authorization server and accept DPoP-bound tokens. Default true. */
  readonly dpop?: boolean;
  /** The `interval` of device authorization responses (RFC 8628 §3.2), in seconds. Default 5. */
  readonly devicePollIntervalSeconds?: number;
  /**
   * The pre-registered confidential client for `client_credentials`. Default: client id
   * `demo-service` with a random secret, readable from {@link DemoServer.confidentialClient}.
   */
  readonly confidentialClient?: ConfidentialClient;
  /**
   * Further resource indicators the authorization server issues tokens for, besides the MCP
   * server. Tokens for them carry that audience, so the MCP server rejects them: a way to show
   * audience binding. Default none.
   */
  readonly otherResources?: readonly string[];
  /** Called once for each answered request. */
  readonly onRequest?: (event: DemoRequestEvent) => void;
  /**
   * How the authorization server fetches Client ID Metadata Documents (a `client_id` that is an
   * https URL). Default: the global `fetch`, behind oidc-provider's guard against requests to
   * private and loopback addresses.
   */
  readonly fetch?: (input: string | URL | Request, init?: RequestInit) => Promise<Response>;
}

export interface ResolvedOptions {
  readonly authorizationServerPort: number;
  readonly mcpPort: number;
  readonly accessTokenLifetimeSeconds: number;
  readonly autoApprove: boolean;
  readonly grantScopes: ((request: ConsentRequest) => readonly string[]) | undefined;
  readonly issueRefreshTokens: boolean;
  readonly dpop: boolean;
  readonly devicePollIntervalSeconds: number;
  readonly confidentialClient: ConfidentialClient;
  readonly otherResources: readonly string[];
  readonly onRequest: ((event: DemoRequestEvent) => void) | undefined;
  readonly fetch: ((input: string | URL | Request, init?: RequestInit) => Promise<Response>) | undefined;
}

export const DEFAULT_ACCESS_TOKEN_LIFETIME_SECONDS = 60;
export const DEFAULT_DEVICE_POLL_INTERVAL_SECONDS = 5;

function assertPort(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 65_535) {
    throw new TypeError(`"${name}" must be an integer from 0 to 65535`);
  }
  return value;
}

function assertPositiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new TypeError(`"${name}" must be a positive integer`);
  }
  return value;
}

function assertResource(value: string): string {
  const url = URL.canParse(value) ? new URL(value) : undefined;
  if (url === undefined || url.hash !== '') {
    throw new TypeError('each of "otherResources" must be an absolute URL without a fragment');
  }
  return value;
}

export function resolveOptions(options: DemoServerOptions): ResolvedOptions {
  const confidentialClient = options.confidentialClient ?? {
    clientId: 'demo-service',
    clientSecret: randomBytes(24).toString('base64url'),
  };
  if (confidentialClient.clientId === '' || confidentialClient.clientSecret.length < 16) {
    throw new TypeError('"confidentialClient" needs a client id and a secret of at least 16 characters');
  }
  return {
    authorizationServerPort: assertPort(options.authorizationServerPort ?? 0, 'authorizationServerPort'),
    mcpPort: assertPort(options.mcpPort ?? 0, 'mcpPort'),
    accessTokenLifetimeSeconds: assertPositiveInteger(
      options.accessTokenLifetimeSeconds ?? DEFAULT_ACCESS_TOKEN_LIFETIME_SECONDS,
      'accessTokenLifetimeSeconds',
    ),
    devicePollIntervalSeconds: assertPositiveInteger(
      options.devicePollIntervalSeconds ?? DEFAULT_DEVICE_POLL_INTERVAL_SECONDS,
      'devicePollIntervalSeconds',
    ),
    autoApprove: options.autoApprove ?? false,
    grantScopes: options.grantScopes,
    issueRefreshTokens: options.issueRefreshTokens ?? true,
    dpop: options.dpop ?? true,
    confidentialClient,
    otherResources: (options.otherResources ?? []).map(assertResource),
    onRequest: options.onRequest,
    fetch: options.fetch,
  };
}
