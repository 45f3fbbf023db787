/**
 * The session's options, documented once, and their validation: every option is checked at
 * construction, and a wrong one is `invalid_options` naming it, never a `TypeError` later.
 */
import { RESERVED_AUTHORIZATION_PARAMETERS } from '../authorize.js';
import type { AuthorizationServerPolicy, AuthorizationServerSelector } from '../discovery.js';
import { invalidOption } from '../errors.js';
import { isNonEmptyString } from '../fields.js';
import type { OAuthHttpClient } from '../http.js';
import { type OAuthLogger, safeLogger, silentLogger } from '../logger.js';
import type { ClientOptions } from '../registration.js';
import { createMemoryStores, type OAuthStores } from '../stores.js';
import { allowsLoopbackHttp, canonicalResourceUrl, tryParseUrl } from '../url.js';
import type { AuthorizationHandler } from './authorization-code.js';
import type { ClientKey } from './client-key.js';
import type { DpopSupport } from './dpop-support.js';
import type { ModuleGrant } from './grants.js';

/** How the session obtains tokens. */
export type GrantOptions =
  | { readonly type: 'authorization_code' }
  | { readonly type: 'client_credentials' }
  | {
      readonly type: 'jwt_bearer';
      /**
       * Supplies the RFC 7523 assertion (a workload identity token, or an ID-JAG from
       * `@mcp-oauth/core/enterprise`) for an issuer.
       */
      readonly assertion: (context: {
        readonly issuer: string;
        readonly resource: string;
        readonly signal: AbortSignal | undefined;
      }) => string | Promise<string>;
    }
  /**
   * The device authorization grant (RFC 8628), for machines where no browser can be opened:
   * `deviceCode({ onUserCode })` from `@mcp-oauth/core/device`.
   */
  | ModuleGrant<'device_code'>;

/** Which scopes a refresh request carries: the granted ones, the requested ones, or none (`scope` left out). */
export type RefreshScopePolicy = 'granted' | 'requested' | 'none';

export interface OAuthSessionOptions {
  /** The MCP server's URL, e.g. `https://mcp.example.com/mcp`. Tokens are sent only to this URL and the paths below it. */
  readonly serverUrl: string | URL;
  /** Carries the engine's own OAuth requests (each adapter package provides one; adapters fill it in when given options). */
  readonly httpClient: OAuthHttpClient;
  /**
   * How tokens are obtained.
   * @default { type: 'authorization_code' }
   */
  readonly grant?: GrantOptions;
  /**
   * Client identity: redirect URIs, name, pre-registered credentials, metadata document URL.
   * @default {} (dynamic registration as "MCP client")
   */
  readonly client?: ClientOptions;
  /**
   * For `private_key_jwt`: `privateKeyJwt({ privateKey })` from `@mcp-oauth/core/jwt`.
   * @default undefined
   */
  readonly clientKey?: ClientKey;
  /**
   * Brings the user in: opens the authorization URL and resolves with the redirect it got.
   * Without it, authorization throws `AuthorizationRequiredError` carrying the URL.
   * @default undefined
   */
  readonly authorizationHandler?: AuthorizationHandler;
  /**
   * Scopes fixed by the caller. They win over every discovered value.
   * @default undefined (from the challenge, then the resource metadata)
   */
  readonly scopes?: readonly string[];
  /**
   * More authorization request parameters a provider needs: `prompt`, `login_hint`, `audience`
   * (Auth0), `access_type` (Google). The protocol's own (`response_type`, `client_id`,
   * `redirect_uri`, `state`, `code_challenge*`, `scope`, `resource`, …) are refused.
   * @default {}
   */
  readonly authorizationParams?: Readonly<Record<string, string>>;
  /**
   * Opt-in fallbacks when neither the challenge nor the resource metadata names scopes.
   * @default {} (no fallback: the authorization request carries no `scope`)
   */
  readonly scopeFallback?: { readonly authorizationServer?: boolean; readonly defaults?: readonly string[] };
  /**
   * Which scopes a refresh request carries.
   * @default 'granted'
   */
  readonly refreshScopes?: RefreshScopePolicy;
  /**
   * Interactive step-up authorizations a server may cause per window, whatever it answers in
   * between. Past the bound a `403 insufficient_scope` fails with `insufficient_scope` and no prompt.
   * @default { max: 3, windowMs: 600_000 }
   */
  readonly stepUps?: { readonly max?: number; readonly windowMs?: number };
  /**
   * Refresh this long before expiry (never more than half of a token's lifetime).
   * @default 30_000
   */
  readonly refreshSkewMs?: number;
  /**
   * DPoP (RFC 9449): `dpop()` from `@mcp-oauth/core/dpop`.
   * @default undefined (Bearer tokens)
   */
  readonly dpop?: DpopSupport;
  /**
   * Where tokens, registrations, discovery results and pending authorizations live. Missing ones are in memory.
   * @default in-memory stores
   */
  readonly stores?: Partial<OAuthStores>;
  /**
   * Chooses among several authorization servers.
   * @default the first whose metadata validates
   */
  readonly selectAuthorizationServer?: AuthorizationServerSelector;
  /**
   * Explicit exceptions for known non-compliant servers, keyed by issuer: a missing PKCE
   * advertisement, an issuer mismatch, no `resource` parameter.
   * @default {}
   */
  readonly authorizationServerPolicies?: Readonly<Record<string, AuthorizationServerPolicy>>;
  /**
   * Let URLs the servers hand out lead to a more private network than the server that named them
   * (a public MCP server naming an authorization server on `10.x` or loopback). Off by default: a
   * server's word never leads the client inward. Per issuer: `authorizationServerPolicies[issuer].allowPrivateNetworks`.
   * @default false
   */
  readonly allowPrivateNetworks?: boolean;
  /**
   * How long a started authorization stays valid.
   * @default 600_000
   */
  readonly pendingAuthorizationTtlMs?: number;
  /**
   * Timeout of each OAuth request the engine makes.
   * @default 30_000
   */
  readonly timeoutMs?: number;
  /**
   * Largest OAuth response body the engine reads.
   * @default 1_048_576
   */
  readonly maxResponseBytes?: number;
  /**
   * Receives one event per step (discovery, registration, authorization, refresh, step-up), never a secret.
   * @default silent
   */
  readonly logger?: OAuthLogger;
  /**
   * Milliseconds since the epoch; injectable for tests.
   * @default Date.now
   */
  readonly clock?: () => number;
}

/** The options with defaults resolved and every value checked. */
export interface SessionConfig {
  readonly serverUrl: URL;
  readonly httpClient: OAuthHttpClient;
  readonly grant: GrantOptions;
  readonly client: ClientOptions;
  readonly clientKey: ClientKey | undefined;
  readonly authorizationHandler: AuthorizationHandler | undefined;
  readonly scopes: readonly string[] | undefined;
  readonly authorizationParams: Readonly<Record<string, string>>;
  readonly scopeFallback: { readonly authorizationServer?: boolean; readonly defaults?: readonly string[] };
  readonly refreshScopes: RefreshScopePolicy;
  readonly stepUps: { readonly max: number; readonly windowMs: number };
  readonly refreshSkewMs: number;
  readonly dpop: DpopSupport | undefined;
  readonly stores: OAuthStores;
  readonly selectAuthorizationServer: AuthorizationServerSelector | undefined;
  readonly authorizationServerPolicies: Readonly<Record<string, AuthorizationServerPolicy>>;
  readonly pendingAuthorizationTtlMs: number;
  readonly allowPrivateNetworks: boolean;
  readonly timeoutMs: number | undefined;
  readonly maxResponseBytes: number | undefined;
  readonly logger: OAuthLogger;
  readonly clock: () => number;
}

function invalid(option: string, rule: string): never {
  throw invalidOption(option, rule);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `value` when absent or an object (`what`, e.g. "an object of strings", names what it must be). */
function optionalObject(
  value: unknown,
  option: string,
  what = 'an object',
): Record<string, unknown> | undefined {
  if (value !== undefined && !isObject(value)) invalid(option, `must be ${what}`);
  return value as Record<string, unknown> | undefined;
}

/** Absent, or an object whose `methods` are functions. */
function checkMethods(value: unknown, option: string, methods: readonly string[], rule?: string): void {
  if (value === undefined) return;
  for (const method of methods) {
    if (typeof (value as Record<string, unknown> | null)?.[method] !== 'function') {
      invalid(option, rule ?? `must implement ${method}()`);
    }
  }
}

function optionalFunction(value: unknown, option: string): void {
  if (value !== undefined && typeof value !== 'function') invalid(option, 'must be a function');
}

function optionalCount(value: unknown, option: string, minimum: number, fallback: number): number;
function optionalCount(value: unknown, option: string, minimum: number): number | undefined;
function optionalCount(
  value: unknown,
  option: string,
  minimum: number,
  fallback?: number,
): number | undefined {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || (value as number) < minimum) {
    invalid(option, `must be an integer of at least ${minimum}`);
  }
  return value as number;
}

function stringArray(value: unknown, option: string): readonly string[] | undefined {
  if (value !== undefined && !(Array.isArray(value) && value.every(isNonEmptyString))) {
    invalid(option, 'must be an array of non-empty strings');
  }
  return value as readonly string[] | undefined;
}

function checkClient(value: unknown): ClientOptions {
  const client = optionalObject(value, 'client') ?? {};
  stringArray(client.redirectUris, 'client.redirectUris');
  const preRegistered = client.preRegistered;
  if (preRegistered !== undefined) {
    if (!Array.isArray(preRegistered)) invalid('client.preRegistered', 'must be an array');
    for (const entry of preRegistered) {
      if (!isObject(entry) || typeof entry.issuer !== 'string' || typeof entry.clientId !== 'string') {
        invalid('client.preRegistered', 'entries need string "issuer" and "clientId"');
      }
      if (!['undefined', 'string'].includes(typeof entry.clientSecret)) {
        invalid('client.preRegistered[].clientSecret', 'must be a string');
      }
    }
  }
  for (const name of [
    'clientName',
    'clientMetadataUrl',
    'clientUri',
    'logoUri',
    'softwareId',
    'softwareVersion',
  ]) {
    if (!['undefined', 'string'].includes(typeof client[name])) invalid(`client.${name}`, 'must be a string');
  }
  return client as ClientOptions;
}

function checkGrant(value: unknown): GrantOptions {
  const grant = optionalObject(value, 'grant', 'an object with a "type"') ?? { type: 'authorization_code' };
  const type = grant.type as string;
  if (!['authorization_code', 'device_code', 'client_credentials', 'jwt_bearer'].includes(type)) {
    invalid(
      'grant.type',
      'must be "authorization_code", "device_code", "client_credentials" or "jwt_bearer"',
    );
  }
  if (type === 'jwt_bearer' && typeof grant.assertion !== 'function') {
    invalid('grant.assertion', 'must be a function for jwt_bearer');
  }
  if (
    type === 'device_code' &&
    typeof (grant.strategy as { obtain?: unknown } | undefined)?.obtain !== 'function'
  ) {
    invalid('grant', 'for device_code must come from deviceCode() in @mcp-oauth/core/device');
  }
  return grant as GrantOptions;
}

function checkAuthorizationParams(value: unknown): Readonly<Record<string, string>> {
  const parameters = optionalObject(value, 'authorizationParams', 'an object of strings') ?? {};
  for (const [name, parameter] of Object.entries(parameters)) {
    if (RESERVED_AUTHORIZATION_PARAMETERS.has(name)) {
      invalid('authorizationParams', `must not set "${name}": the session sets it`);
    }
    if (name === '' || typeof parameter !== 'string')
      invalid('authorizationParams', 'must map names to strings');
  }
  return parameters as Record<string, string>;
}

/** Validates `options` and fills in every default. */
export function resolveOptions(options: OAuthSessionOptions): SessionConfig {
  if (!isObject(options)) invalid('options', 'must be an object');
  const raw = options.serverUrl as unknown;
  const parsed = typeof raw === 'string' ? tryParseUrl(raw) : raw instanceof URL ? raw : undefined;
  if (parsed === undefined || (parsed.protocol !== 'https:' && !allowsLoopbackHttp(parsed))) {
    invalid('serverUrl', 'must be an https URL (http is allowed only for loopback)');
  }
  checkMethods(options.httpClient ?? {}, 'httpClient', ['send']);
  const scopeFallback = optionalObject(options.scopeFallback, 'scopeFallback') ?? {};
  stringArray(scopeFallback.defaults, 'scopeFallback.defaults');
  const refreshScopes = options.refreshScopes ?? 'granted';
  if (!['granted', 'requested', 'none'].includes(refreshScopes)) {
    invalid('refreshScopes', 'must be "granted", "requested" or "none"');
  }
  const stepUps = optionalObject(options.stepUps, 'stepUps') ?? {};
  const stores = optionalObject(options.stores, 'stores') ?? {};
  for (const name of ['tokens', 'clients', 'discovery', 'pending']) {
    if (name in stores) {
      checkMethods(stores[name] ?? 0, `stores.${name}`, [
        'get',
        'set',
        'delete',
        ...(name === 'pending' ? ['take'] : []),
      ]);
    }
  }
  optionalFunction((stores.tokens as { lock?: unknown } | undefined)?.lock, 'stores.tokens.lock');
  for (const name of ['authorizationHandler', 'selectAuthorizationServer', 'clock'] as const) {
    optionalFunction(options[name], name);
  }
  checkMethods(options.logger, 'logger', ['debug', 'warn'], 'must have debug() and warn() methods');
  checkMethods(options.dpop, 'dpop', ['start'], 'must come from dpop() in @mcp-oauth/core/dpop');
  checkMethods(
    options.clientKey,
    'clientKey',
    ['signer'],
    'must come from privateKeyJwt() in @mcp-oauth/core/jwt',
  );
  optionalObject(
    options.authorizationServerPolicies,
    'authorizationServerPolicies',
    'an object keyed by issuer',
  );
  if (!['undefined', 'boolean'].includes(typeof options.allowPrivateNetworks)) {
    invalid('allowPrivateNetworks', 'must be a boolean');
  }
  return {
    serverUrl: new URL(canonicalResourceUrl(parsed)),
    httpClient: options.httpClient,
    grant: checkGrant(options.grant),
    client: checkClient(options.client),
    clientKey: options.clientKey,
    authorizationHandler: options.authorizationHandler,
    scopes: stringArray(options.scopes, 'scopes'),
    authorizationParams: checkAuthorizationParams(options.authorizationParams),
    scopeFallback,
    refreshScopes,
    stepUps: {
      max: optionalCount(stepUps.max, 'stepUps.max', 0, 3),
      windowMs: optionalCount(stepUps.windowMs, 'stepUps.windowMs', 1, 600_000),
    },
    refreshSkewMs: optionalCount(options.refreshSkewMs, 'refreshSkewMs', 0, 30_000),
    dpop: options.dpop,
    stores: { ...createMemoryStores(), ...(stores as Partial<OAuthStores>) },
    selectAuthorizationServer: options.selectAuthorizationServer,
    authorizationServerPolicies: options.authorizationServerPolicies ?? {},
    allowPrivateNetworks: options.allowPrivateNetworks === true,
    pendingAuthorizationTtlMs: optionalCount(
      options.pendingAuthorizationTtlMs,
      'pendingAuthorizationTtlMs',
      1,
      600_000,
    ),
    timeoutMs: optionalCount(options.timeoutMs, 'timeoutMs', 1),
    maxResponseBytes: optionalCount(options.maxResponseBytes, 'maxResponseBytes', 1),
    logger: options.logger === undefined ? silentLogger : safeLogger(options.logger),
    clock: options.clock ?? Date.now,
  };
}
