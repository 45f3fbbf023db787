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

const GRANT_TYPES = 'must be "authorization_code", "device_code", "client_credentials" or "jwt_bearer"';

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
  readonly scopeFallback: NonNullable<OAuthSessionOptions['scopeFallback']>;
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

type Test = (value: unknown) => boolean;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isFunction: Test = (value) => typeof value === 'function';
const isString: Test = (value) => typeof value === 'string';
const isStrings: Test = (value) => Array.isArray(value) && value.every(isNonEmptyString);
/** Has each of `methods` as a function (`undefined` when it has, else the first missing one). */
const missingMethod = (value: unknown, methods: readonly string[]) =>
  methods.find((method) => typeof (value as Record<string, unknown> | null)?.[method] !== 'function');
const implementing =
  (...methods: string[]): Test =>
  (value) =>
    missingMethod(value, methods) === undefined;

const OBJECT = 'must be an object';
const FUNCTION = 'must be a function';
const STRINGS = 'must be an array of non-empty strings';

/** Optional options, `[path, test, rule]`, each checked when present; a parent comes before its members. */
const CHECKS: ReadonlyArray<readonly [string, Test, string]> = [
  ['scopeFallback', isObject, OBJECT],
  ['scopeFallback.defaults', isStrings, STRINGS],
  ['stepUps', isObject, OBJECT],
  ['stores', isObject, OBJECT],
  ['authorizationHandler', isFunction, FUNCTION],
  ['selectAuthorizationServer', isFunction, FUNCTION],
  ['clock', isFunction, FUNCTION],
  ['logger', implementing('debug', 'warn'), 'must have debug() and warn() methods'],
  ['dpop', implementing('start'), 'must come from dpop() in @mcp-oauth/core/dpop'],
  ['clientKey', implementing('signer'), 'must come from privateKeyJwt() in @mcp-oauth/core/jwt'],
  ['authorizationServerPolicies', isObject, 'must be an object keyed by issuer'],
  ['allowPrivateNetworks', (value) => typeof value === 'boolean', 'must be a boolean'],
  ['grant', isObject, 'must be an object with a "type"'],
  ['client', isObject, OBJECT],
  ['client.redirectUris', isStrings, STRINGS],
  ['client.preRegistered', Array.isArray, 'must be an array'],
  ...['clientName', 'clientMetadataUrl', 'clientUri', 'logoUri', 'softwareId', 'softwareVersion'].map(
    (name) => [`client.${name}`, isString, 'must be a string'] as const,
  ),
  ['scopes', isStrings, STRINGS],
  ['authorizationParams', isObject, 'must be an object of strings'],
];

/** Validates `options` and fills in every default. */
export function resolveOptions(options: OAuthSessionOptions): SessionConfig {
  const invalid = (option: string, rule: string): never => {
    throw invalidOption(option, rule);
  };
  const read = (path: string): unknown =>
    path
      .split('.')
      .reduce<unknown>((value, key) => (value as Record<string, unknown> | undefined)?.[key], options);
  /** An integer of at least `minimum`, or `fallback` when absent. */
  const count = <T extends number | undefined>(path: string, minimum: number, fallback?: T) => {
    const value = read(path) ?? fallback;
    if (value !== undefined && !(Number.isInteger(value) && (value as number) >= minimum)) {
      invalid(path, `must be an integer of at least ${minimum}`);
    }
    return value as number | T;
  };

  if (!isObject(options)) invalid('options', 'must be an object');
  const raw = options.serverUrl as unknown;
  const serverUrl = typeof raw === 'string' ? tryParseUrl(raw) : raw instanceof URL ? raw : undefined;
  if (serverUrl === undefined || (serverUrl.protocol !== 'https:' && !allowsLoopbackHttp(serverUrl))) {
    invalid('serverUrl', 'must be an https URL (http is allowed only for loopback)');
  }
  if (!implementing('send')(options.httpClient)) invalid('httpClient', 'must implement send()');
  for (const [path, test, rule] of CHECKS) {
    const value = read(path);
    if (value !== undefined && !test(value)) invalid(path, rule);
  }

  const stores = (options.stores ?? {}) as Record<string, unknown>;
  for (const name of ['tokens', 'clients', 'discovery', 'pending']) {
    const method =
      name in stores &&
      missingMethod(stores[name], ['get', 'set', 'delete', ...(name === 'pending' ? ['take'] : [])]);
    if (method) invalid(`stores.${name}`, `must implement ${method}()`);
  }
  const lock = read('stores.tokens.lock');
  if (lock !== undefined && !isFunction(lock)) invalid('stores.tokens.lock', FUNCTION);

  const refreshScopes = options.refreshScopes ?? 'granted';
  if (!['granted', 'requested', 'none'].includes(refreshScopes)) {
    invalid('refreshScopes', 'must be "granted", "requested" or "none"');
  }

  const grant = options.grant ?? { type: 'authorization_code' };
  if (!['authorization_code', 'device_code', 'client_credentials', 'jwt_bearer'].includes(grant.type)) {
    invalid('grant.type', GRANT_TYPES);
  }
  if (grant.type === 'jwt_bearer' && !isFunction(grant.assertion)) {
    invalid('grant.assertion', 'must be a function for jwt_bearer');
  }
  if (grant.type === 'device_code' && !isFunction(grant.strategy?.obtain)) {
    invalid('grant', 'for device_code must come from deviceCode() in @mcp-oauth/core/device');
  }

  const client = options.client ?? {};
  for (const entry of client.preRegistered ?? []) {
    if (!isObject(entry) || !isString(entry.issuer) || !isString(entry.clientId)) {
      invalid('client.preRegistered', 'entries need string "issuer" and "clientId"');
    }
    if (entry.clientSecret !== undefined && !isString(entry.clientSecret)) {
      invalid('client.preRegistered[].clientSecret', 'must be a string');
    }
  }

  const authorizationParams = options.authorizationParams ?? {};
  for (const [name, value] of Object.entries(authorizationParams)) {
    if (RESERVED_AUTHORIZATION_PARAMETERS.has(name)) {
      invalid('authorizationParams', `must not set "${name}": the session sets it`);
    }
    if (name === '' || !isString(value)) invalid('authorizationParams', 'must map names to strings');
  }

  // Named one by one: the session state is built from this object, so nothing else may come along.
  return {
    httpClient: options.httpClient,
    clientKey: options.clientKey,
    authorizationHandler: options.authorizationHandler,
    scopes: options.scopes,
    dpop: options.dpop,
    selectAuthorizationServer: options.selectAuthorizationServer,
    serverUrl: new URL(canonicalResourceUrl(serverUrl!)),
    grant,
    client,
    authorizationParams,
    scopeFallback: options.scopeFallback ?? {},
    refreshScopes,
    stepUps: { max: count('stepUps.max', 0, 3), windowMs: count('stepUps.windowMs', 1, 600_000) },
    refreshSkewMs: count('refreshSkewMs', 0, 30_000),
    stores: { ...createMemoryStores(), ...options.stores },
    authorizationServerPolicies: options.authorizationServerPolicies ?? {},
    allowPrivateNetworks: options.allowPrivateNetworks === true,
    pendingAuthorizationTtlMs: count('pendingAuthorizationTtlMs', 1, 600_000),
    timeoutMs: count('timeoutMs', 1),
    maxResponseBytes: count('maxResponseBytes', 1),
    logger: options.logger === undefined ? silentLogger : safeLogger(options.logger),
    clock: options.clock ?? Date.now,
  };
}
