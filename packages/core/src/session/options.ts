/**
 * The session's options, documented once, and their validation: every option is checked at
 * construction, and a wrong one is `invalid_options` naming it, never a `TypeError` later.
 */
import { RESERVED_AUTHORIZATION_PARAMETERS } from '../authorize.js';
import type { AuthorizationServerPolicy, AuthorizationServerSelector } from '../discovery.js';
import { oauthError } from '../errors.js';
import type { OAuthHttpClient } from '../http.js';
import { type OAuthLogger, safeLogger, silentLogger } from '../logger.js';
import type { ClientOptions } from '../registration.js';
import { createMemoryStores, type OAuthStores } from '../stores.js';
import { allowsLoopbackHttp, canonicalResourceUrl, tryParseUrl } from '../url.js';
import type { AuthorizationHandler } from './authorization-code.js';
import type { ClientKey } from './client-key.js';
import type { DeviceCodeGrantOptions } from './device-code.js';
import type { DpopSupport } from './dpop-support.js';

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
  /** The device authorization grant (RFC 8628), for machines where no browser can be opened. */
  | DeviceCodeGrantOptions;

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

function invalid(message: string): never {
  throw oauthError('invalid_options', message);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalFunction(value: unknown, name: string): void {
  if (value !== undefined && typeof value !== 'function') invalid(`"${name}" must be a function`);
}

function optionalCount(value: unknown, name: string, minimum: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < minimum) {
    invalid(`"${name}" must be an integer of at least ${minimum}`);
  }
  return value;
}

function checkBoolean(value: unknown, name: string): boolean {
  if (value !== undefined && typeof value !== 'boolean') invalid(`"${name}" must be a boolean`);
  return value === true;
}

function stringArray(value: unknown, name: string): readonly string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string' && item.length > 0)) {
    invalid(`"${name}" must be an array of non-empty strings`);
  }
  return value;
}

function checkStore(value: unknown, name: string, methods: readonly string[]): void {
  if (value === undefined) return;
  if (!isObject(value) && typeof value !== 'object') invalid(`"stores.${name}" must be a store object`);
  if (value === null) invalid(`"stores.${name}" must be a store object`);
  for (const method of methods) {
    if (typeof (value as Record<string, unknown>)[method] !== 'function') {
      invalid(`"stores.${name}" must implement ${method}()`);
    }
  }
}

function checkClient(value: unknown): ClientOptions {
  if (value === undefined) return {};
  if (!isObject(value)) invalid('"client" must be an object');
  stringArray(value.redirectUris, 'client.redirectUris');
  if (value.preRegistered !== undefined) {
    if (!Array.isArray(value.preRegistered)) invalid('"client.preRegistered" must be an array');
    for (const entry of value.preRegistered as unknown[]) {
      if (!isObject(entry) || typeof entry.issuer !== 'string' || typeof entry.clientId !== 'string') {
        invalid('each "client.preRegistered" entry needs string "issuer" and "clientId"');
      }
      if (entry.clientSecret !== undefined && typeof entry.clientSecret !== 'string') {
        invalid('"client.preRegistered[].clientSecret" must be a string');
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
    if (value[name] !== undefined && typeof value[name] !== 'string')
      invalid(`"client.${name}" must be a string`);
  }
  return value as ClientOptions;
}

function checkGrant(value: unknown): GrantOptions {
  if (value === undefined) return { type: 'authorization_code' };
  if (!isObject(value)) invalid('"grant" must be an object with a "type"');
  switch (value.type) {
    case 'authorization_code':
    case 'client_credentials':
      return value as GrantOptions;
    case 'jwt_bearer':
      if (typeof value.assertion !== 'function')
        invalid('"grant.assertion" must be a function for jwt_bearer');
      return value as GrantOptions;
    case 'device_code':
      if (typeof value.onUserCode !== 'function')
        invalid('"grant.onUserCode" must be a function for device_code');
      if (value.sleep !== undefined && typeof value.sleep !== 'function')
        invalid('"grant.sleep" must be a function');
      return value as GrantOptions;
    default:
      return invalid(
        '"grant.type" must be "authorization_code", "device_code", "client_credentials" or "jwt_bearer"',
      );
  }
}

function checkAuthorizationParams(value: unknown): Readonly<Record<string, string>> {
  if (value === undefined) return {};
  if (!isObject(value)) invalid('"authorizationParams" must be an object of strings');
  for (const [name, parameter] of Object.entries(value)) {
    if (RESERVED_AUTHORIZATION_PARAMETERS.has(name)) {
      invalid(`"authorizationParams" must not set "${name}": the session sets it`);
    }
    if (name === '' || typeof parameter !== 'string')
      invalid('"authorizationParams" must map names to strings');
  }
  return value as Record<string, string>;
}

/** Validates `options` and fills in every default. */
export function resolveOptions(options: OAuthSessionOptions): SessionConfig {
  if (!isObject(options)) invalid('options must be an object');
  const raw = options.serverUrl as unknown;
  const parsed = typeof raw === 'string' ? tryParseUrl(raw) : raw instanceof URL ? raw : undefined;
  if (parsed === undefined || (parsed.protocol !== 'https:' && !allowsLoopbackHttp(parsed))) {
    invalid('serverUrl must be an https URL (http is allowed only for loopback)');
  }
  if (typeof (options.httpClient as { send?: unknown } | undefined)?.send !== 'function') {
    invalid('httpClient must implement send(request)');
  }
  const scopes = stringArray(options.scopes, 'scopes');
  if (options.scopeFallback !== undefined && !isObject(options.scopeFallback)) {
    invalid('"scopeFallback" must be an object');
  }
  stringArray(options.scopeFallback?.defaults, 'scopeFallback.defaults');
  const refreshScopes = options.refreshScopes ?? 'granted';
  if (!['granted', 'requested', 'none'].includes(refreshScopes)) {
    invalid('"refreshScopes" must be "granted", "requested" or "none"');
  }
  if (options.stepUps !== undefined && !isObject(options.stepUps)) invalid('"stepUps" must be an object');
  const stores = options.stores;
  if (stores !== undefined && !isObject(stores)) invalid('"stores" must be an object');
  for (const [name, methods] of [
    ['tokens', ['get', 'set', 'delete']],
    ['clients', ['get', 'set', 'delete']],
    ['discovery', ['get', 'set', 'delete']],
    ['pending', ['get', 'set', 'delete', 'take']],
  ] as const) {
    if (stores !== undefined && name in stores) checkStore(stores[name], name, methods);
  }
  const tokenLock = (stores?.tokens as { lock?: unknown } | undefined)?.lock;
  if (tokenLock !== undefined && typeof tokenLock !== 'function')
    invalid('"stores.tokens.lock" must be a function');
  optionalFunction(options.authorizationHandler, 'authorizationHandler');
  optionalFunction(options.selectAuthorizationServer, 'selectAuthorizationServer');
  optionalFunction(options.clock, 'clock');
  if (
    options.logger !== undefined &&
    (!isObject(options.logger) ||
      typeof options.logger.debug !== 'function' ||
      typeof options.logger.warn !== 'function')
  ) {
    invalid('"logger" must have debug() and warn() methods');
  }
  if (
    options.dpop !== undefined &&
    (!isObject(options.dpop) || typeof options.dpop.createProof !== 'function')
  ) {
    invalid('"dpop" must come from dpop() in @mcp-oauth/core/dpop');
  }
  if (
    options.clientKey !== undefined &&
    (!isObject(options.clientKey) || typeof options.clientKey.signer !== 'function')
  ) {
    invalid('"clientKey" must come from privateKeyJwt() in @mcp-oauth/core/jwt');
  }
  if (options.authorizationServerPolicies !== undefined && !isObject(options.authorizationServerPolicies)) {
    invalid('"authorizationServerPolicies" must be an object keyed by issuer');
  }
  const merged = { ...createMemoryStores(), ...stores };
  return {
    serverUrl: new URL(canonicalResourceUrl(parsed)),
    httpClient: options.httpClient,
    grant: checkGrant(options.grant),
    client: checkClient(options.client),
    clientKey: options.clientKey,
    authorizationHandler: options.authorizationHandler,
    scopes,
    authorizationParams: checkAuthorizationParams(options.authorizationParams),
    scopeFallback: options.scopeFallback ?? {},
    refreshScopes,
    stepUps: {
      max: optionalCount(options.stepUps?.max, 'stepUps.max', 0) ?? 3,
      windowMs: optionalCount(options.stepUps?.windowMs, 'stepUps.windowMs', 1) ?? 600_000,
    },
    refreshSkewMs: optionalCount(options.refreshSkewMs, 'refreshSkewMs', 0) ?? 30_000,
    dpop: options.dpop,
    stores: merged,
    selectAuthorizationServer: options.selectAuthorizationServer,
    authorizationServerPolicies: options.authorizationServerPolicies ?? {},
    pendingAuthorizationTtlMs:
      optionalCount(options.pendingAuthorizationTtlMs, 'pendingAuthorizationTtlMs', 1) ?? 600_000,
    allowPrivateNetworks: checkBoolean(options.allowPrivateNetworks, 'allowPrivateNetworks'),
    timeoutMs: optionalCount(options.timeoutMs, 'timeoutMs', 1),
    maxResponseBytes: optionalCount(options.maxResponseBytes, 'maxResponseBytes', 1),
    logger: options.logger === undefined ? silentLogger : safeLogger(options.logger),
    clock: options.clock ?? Date.now,
  };
}
