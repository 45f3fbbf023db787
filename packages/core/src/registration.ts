/**
 * Client registration for one authorization server, in the order of the MCP 2026-07-28
 * authorization spec ("Client Registration"):
 *
 * 1. pre-registered credentials for exactly this issuer (credentials for another issuer are an
 *    error, never a reason to fall through);
 * 2. a registration this client made earlier with this issuer (Dynamic Client Registration is the
 *    only thing ever stored, keyed by issuer);
 * 3. a Client ID Metadata Document URL, when the server advertises
 *    `client_id_metadata_document_supported`;
 * 4. Dynamic Client Registration (RFC 7591) at `registration_endpoint`;
 * 5. otherwise the user has to configure a client.
 *
 * Step 2 comes before CIMD so that a client that already registered keeps its `client_id` (and the
 * tokens bound to it) when the server later starts to support metadata documents.
 */
import {
  invalidField,
  invalidOption,
  isOAuthClientError,
  type OAuthClientError,
  oauthError,
  serverDescription,
  withServerWords,
} from './errors.js';
import { fieldReader, isNonEmptyString, readErrorBody, withoutUndefined } from './fields.js';
import { type HttpContext, type OAuthHttpResponse, parseJsonObject, sendRequest } from './http.js';
import { assertNoMorePrivateNetwork } from './network.js';
import type { OAuthStore } from './stores.js';
import { GRANT_TYPE_DEVICE_CODE } from './token.js';
import type { AuthorizationServerMetadata, ClientInformation, TokenEndpointAuthMethod } from './types.js';
import { assertSafeUrl, displayIssuer, isLoopbackHost, redactUrl, tryParseUrl } from './url.js';
import type { JsonWebKey } from './web-crypto.js';

export interface PreRegisteredClient {
  /** The `issuer` these credentials were issued by; compared exactly with the discovered issuer. */
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret?: string;
  /** Default: `client_secret_basic` when there is a secret, else `none`. */
  readonly tokenEndpointAuthMethod?: TokenEndpointAuthMethod;
}

export interface ClientOptions {
  /** Default `'MCP client'`. */
  readonly clientName?: string;
  /** Required for `authorization_code`; each is https, or http on a loopback host (RFC 8252 §7.3). */
  readonly redirectUris?: readonly string[];
  /** CIMD `client_id`: an https URL with a path, e.g. `https://app.example/oauth/client.json`. */
  readonly clientMetadataUrl?: string;
  readonly preRegistered?: readonly PreRegisteredClient[];
  /** Preferred token endpoint authentication method for Dynamic Client Registration. */
  readonly tokenEndpointAuthMethod?: TokenEndpointAuthMethod;
  /** Default: `native` when every redirect URI is on a loopback host, else `web`. */
  readonly applicationType?: 'native' | 'web';
  readonly clientUri?: string;
  readonly logoUri?: string;
  readonly softwareId?: string;
  readonly softwareVersion?: string;
  /** Public keys for `private_key_jwt` (at most one of `jwksUri` and `jwks`). */
  readonly jwksUri?: string;
  readonly jwks?: { readonly keys: readonly JsonWebKey[] };
  /** More RFC 7591 metadata; it may not set any field this module sets itself. */
  readonly extraMetadata?: Readonly<Record<string, unknown>>;
}

export interface ResolveClientInput {
  readonly issuer: string;
  readonly metadata: AuthorizationServerMetadata;
  readonly client: ClientOptions;
  /** e.g. `['authorization_code', 'refresh_token']` or `['client_credentials']`. */
  readonly grantTypes: readonly string[];
  /** Dynamic registrations, keyed by issuer. */
  readonly store: OAuthStore<ClientInformation>;
  /** Milliseconds since the epoch. */
  readonly now: number;
  /**
   * Let the registration response name a `registration_client_uri` on a more private network than
   * the issuer (the application's permission for this server; off by default).
   */
  readonly allowPrivateNetworks?: boolean | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** What a registration response is judged against. */
interface RegistrationResponseInput {
  readonly issuer: string;
  readonly requested: Record<string, unknown>;
  readonly now: number;
  readonly allowPrivateNetworks?: boolean | undefined;
}

const DEFAULT_CLIENT_NAME = 'MCP client';

const AUTH_METHODS: readonly TokenEndpointAuthMethod[] = [
  'none',
  'client_secret_basic',
  'client_secret_post',
  'private_key_jwt',
];

/** Registration metadata this module sets itself; `extraMetadata` may not name these. */
const RESERVED_METADATA = [
  'client_id',
  'client_secret',
  'client_name',
  'redirect_uris',
  'grant_types',
  'response_types',
  'token_endpoint_auth_method',
  'application_type',
  'client_uri',
  'logo_uri',
  'software_id',
  'software_version',
  'jwks',
  'jwks_uri',
];

/** JWK members that only a private or symmetric key has (RFC 7518 §6). */
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

export function isAuthMethod(value: unknown): value is TokenEndpointAuthMethod {
  return AUTH_METHODS.includes(value as TokenEndpointAuthMethod);
}

/** The methods that authenticate with a client secret. */
function usesSecret(method: TokenEndpointAuthMethod): boolean {
  return method === 'client_secret_basic' || method === 'client_secret_post';
}

function usesAuthorizationCode(grantTypes: readonly string[]): boolean {
  return grantTypes.includes('authorization_code');
}

function isLoopbackHttp(url: URL | undefined): boolean {
  return url?.protocol === 'http:' && isLoopbackHost(url.hostname);
}

// ---------------------------------------------------------------------------------------------
// Options

/**
 * A configured URL: absolute, with no fragment and no credentials; else `invalid_options` naming
 * the option. `https` and `http` on a loopback host are the schemes a redirect URI may use.
 */
function configuredUrl(value: unknown, option: string, loopbackHttp: boolean): URL {
  const url = typeof value === 'string' ? tryParseUrl(value) : undefined;
  if (url === undefined) throw invalidOption(option, 'must be an absolute URL');
  if (url.hash !== '' || (value as string).includes('#')) {
    throw invalidOption(option, 'must not contain a fragment');
  }
  if (url.username !== '' || url.password !== '') throw invalidOption(option, 'must not contain credentials');
  if (url.protocol !== 'https:' && !(loopbackHttp && isLoopbackHttp(url))) {
    throw invalidOption(
      option,
      loopbackHttp ? 'must use https, or http on a loopback host' : 'must use https',
    );
  }
  return url;
}

/**
 * Validates everything in the options that registration relies on. Throws `invalid_options`.
 * A CIMD `client_id` (draft-ietf-oauth-client-id-metadata-document §3) is https with a path
 * other than `/` and no dot segments.
 */
function assertClientOptions(client: ClientOptions, grantTypes: readonly string[]): void {
  if (!Array.isArray(grantTypes) || grantTypes.length === 0 || !grantTypes.every(isNonEmptyString)) {
    throw invalidOption('grantTypes', 'must be a non-empty list of grant type names');
  }
  const { redirectUris, clientMetadataUrl, jwks, jwksUri, extraMetadata } = client;
  if (redirectUris !== undefined) {
    if (!Array.isArray(redirectUris)) throw invalidOption('redirectUris', 'must be a list of URLs');
    for (const uri of redirectUris) configuredUrl(uri, 'redirectUris', true);
  }
  if (usesAuthorizationCode(grantTypes) && (redirectUris ?? []).length === 0) {
    throw invalidOption('redirectUris', 'is required for the authorization_code grant');
  }
  if (clientMetadataUrl !== undefined) {
    const url = configuredUrl(clientMetadataUrl, 'clientMetadataUrl', false);
    if (url.pathname === '/') {
      throw invalidOption('clientMetadataUrl', 'must have a path, e.g. https://app.example/client.json');
    }
    // The URL parser removes dot segments, so look at the text as written.
    if (/\/(?:\.|%2e){1,2}(?:\/|$)/i.test(clientMetadataUrl.split('?')[0]!)) {
      throw invalidOption('clientMetadataUrl', 'must not contain "." or ".." path segments');
    }
  }
  if (client.tokenEndpointAuthMethod !== undefined && !isAuthMethod(client.tokenEndpointAuthMethod)) {
    throw invalidOption('tokenEndpointAuthMethod', 'is not a supported method');
  }
  if (client.applicationType !== undefined && !['native', 'web'].includes(client.applicationType)) {
    throw invalidOption('applicationType', 'must be "native" or "web"');
  }
  for (const option of ['clientName', 'softwareId', 'softwareVersion'] as const) {
    if (client[option] !== undefined && !isNonEmptyString(client[option])) {
      throw invalidOption(option, 'must be a non-empty string');
    }
  }
  for (const option of ['clientUri', 'logoUri'] as const) {
    const value = client[option];
    if (value !== undefined && !/^https?:$/.test(tryParseUrl(value)?.protocol ?? '')) {
      throw invalidOption(option, 'must be an absolute http(s) URL');
    }
  }
  if (jwks !== undefined && jwksUri !== undefined) {
    throw invalidOption('jwks', 'and "jwksUri" are exclusive (RFC 7591 §2)');
  }
  if (jwksUri !== undefined) configuredUrl(jwksUri, 'jwksUri', false);
  if (jwks !== undefined) {
    const keys = (jwks as { keys?: unknown }).keys;
    if (!Array.isArray(keys) || keys.length === 0) {
      throw invalidOption('jwks', 'must be { keys: [...] } with at least one key');
    }
    for (const key of keys) {
      if (typeof key !== 'object' || key === null || Array.isArray(key)) {
        throw invalidOption('jwks.keys', 'must be JSON Web Keys');
      }
      if (PRIVATE_JWK_MEMBERS.some((member) => member in key)) {
        throw invalidOption('jwks', 'must hold public keys only');
      }
    }
  }
  if (extraMetadata !== undefined) {
    if (typeof extraMetadata !== 'object' || extraMetadata === null) {
      throw invalidOption('extraMetadata', 'must be an object');
    }
    const reserved = Object.keys(extraMetadata).find((key) => RESERVED_METADATA.includes(key));
    if (reserved !== undefined) {
      throw invalidOption('extraMetadata', `must not set "${reserved}"; use the matching client option`);
    }
  }
}

function hasKey(client: ClientOptions): boolean {
  return client.jwks !== undefined || client.jwksUri !== undefined;
}

// ---------------------------------------------------------------------------------------------
// Token endpoint authentication method

/**
 * Picks the token endpoint authentication method to register.
 *
 * - `preferred` wins when the server lists it, or lists nothing (`undefined` or `[]`).
 * - Otherwise the first supported of: `private_key_jwt` (only with a key), `none` (only when the
 *   preference was not a confidential method: a confidential client is never silently made public),
 *   `client_secret_basic`, `client_secret_post`.
 * - With no preference and no list: `private_key_jwt` with a key, else `none`.
 *
 * Throws `invalid_options` for `private_key_jwt` without a key, and `registration_failed` when the
 * server supports none of the usable methods.
 */
export function chooseTokenEndpointAuthMethod(
  supported: readonly string[] | undefined,
  preferred: TokenEndpointAuthMethod | undefined,
  hasKey: boolean,
): TokenEndpointAuthMethod {
  if (preferred === 'private_key_jwt' && !hasKey) {
    throw invalidOption('tokenEndpointAuthMethod', 'private_key_jwt needs "jwks" or "jwksUri"');
  }
  const listed = supported?.length ? supported : undefined;
  if (preferred !== undefined && (listed === undefined || listed.includes(preferred))) return preferred;
  const order: TokenEndpointAuthMethod[] = [];
  if (hasKey) order.push('private_key_jwt');
  if (preferred === undefined || preferred === 'none') order.push('none');
  order.push('client_secret_basic', 'client_secret_post');
  const chosen = listed === undefined ? order[0] : order.find((method) => listed.includes(method));
  if (chosen === undefined) {
    throw invalidField(
      'registration_failed',
      'authorization server metadata',
      'token_endpoint_auth_methods_supported',
      'lists no method this client can use',
    );
  }
  return chosen;
}

/** The method asked for when the options name none: client_credentials needs a confidential client. */
function preferredMethod(
  client: ClientOptions,
  grantTypes: readonly string[],
): TokenEndpointAuthMethod | undefined {
  if (client.tokenEndpointAuthMethod !== undefined) return client.tokenEndpointAuthMethod;
  if (grantTypes.includes('client_credentials'))
    return hasKey(client) ? 'private_key_jwt' : 'client_secret_basic';
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Dynamic Client Registration (RFC 7591)

/**
 * The RFC 7591 §2 registration request body. `redirect_uris` are sent only with the
 * `authorization_code` grant; without it `response_types` is `[]` (RFC 7591 §2 reads an omitted
 * list as `["code"]`, and servers then demand redirect URIs); `application_type` is always sent
 * (MCP requires it): `native` for loopback redirect URIs, and for the device authorization grant
 * without redirect URIs (RFC 8628 clients are native applications on the user's device), else `web`.
 */
export function buildRegistrationRequest(input: {
  client: ClientOptions;
  grantTypes: readonly string[];
  metadata: AuthorizationServerMetadata;
}): Record<string, unknown> {
  const { client, grantTypes, metadata } = input;
  assertClientOptions(client, grantTypes);
  const authorizationCode = usesAuthorizationCode(grantTypes);
  const redirectUris = authorizationCode ? [...(client.redirectUris ?? [])] : undefined;
  // Extra metadata first; the reserved names were refused above, so nothing it holds can replace
  // a field of ours. Object.fromEntries defines properties, so a "__proto__" key stays a key.
  return Object.fromEntries(
    [
      ...Object.entries(client.extraMetadata ?? {}),
      ['client_name', client.clientName ?? DEFAULT_CLIENT_NAME],
      ['redirect_uris', redirectUris],
      ['grant_types', [...grantTypes]],
      // RFC 7591 §2 defaults `response_types` to ["code"], which makes a server demand redirect
      // URIs of a machine client: say "none" explicitly.
      ['response_types', authorizationCode ? ['code'] : []],
      [
        'token_endpoint_auth_method',
        chooseTokenEndpointAuthMethod(
          metadata.token_endpoint_auth_methods_supported,
          preferredMethod(client, grantTypes),
          hasKey(client),
        ),
      ],
      [
        'application_type',
        client.applicationType ??
          ((
            redirectUris?.length
              ? redirectUris.every((uri) => isLoopbackHost(tryParseUrl(uri)?.hostname ?? ''))
              : grantTypes.includes(GRANT_TYPE_DEVICE_CODE)
          )
            ? 'native'
            : 'web'),
      ],
      ['client_uri', client.clientUri],
      ['logo_uri', client.logoUri],
      ['software_id', client.softwareId],
      ['software_version', client.softwareVersion],
      ['jwks_uri', client.jwksUri],
      ['jwks', client.jwks && { keys: client.jwks.keys.map((key) => ({ ...key })) }],
    ].filter(([, value]) => value !== undefined),
  );
}

function registrationError(response: OAuthHttpResponse): OAuthClientError {
  const { error, description } = readErrorBody(response);
  // Fixed text per known error, then the server's own error_description, sanitized and marked.
  const rejected = 'dynamic client registration was rejected: the authorization server does not accept';
  const message =
    error === 'invalid_redirect_uri'
      ? `${rejected} the redirect URIs (check "redirectUris" and "applicationType")`
      : error === 'invalid_client_metadata'
        ? `${rejected} the client metadata`
        : error === 'invalid_software_statement' || error === 'unapproved_software_statement'
          ? `${rejected} the software statement`
          : `dynamic client registration failed with HTTP status ${response.status}`;
  return oauthError('registration_failed', withServerWords(message, serverDescription(description)), {
    oauthError: error,
    status: response.status,
  });
}

/**
 * Validates an RFC 7591 §3.2 registration response (`201`, or `200` from lenient servers) against
 * the request that produced it, and returns the client bound to `issuer`.
 *
 * - `client_secret_expires_at` is required with a secret; when a server omits it the secret is
 *   taken not to expire (`0`, as RFC 7591 defines `0`) and `resolveClient` logs a warning
 *   (`registration.secret_expiry_missing`). A secret that has already expired at `now` is refused.
 * - A changed `token_endpoint_auth_method` is accepted when it is one this engine supports and can
 *   use (a secret for `client_secret_*`, a registered key for `private_key_jwt`).
 * - Echoed `redirect_uris` must contain every redirect URI that was sent.
 */
export function parseRegistrationResponse(
  response: OAuthHttpResponse,
  input: RegistrationResponseInput,
): ClientInformation {
  return readRegistrationResponse(response, input).info;
}

function readRegistrationResponse(
  response: OAuthHttpResponse,
  input: RegistrationResponseInput,
): { info: ClientInformation; expiryMissing: boolean } {
  const { status } = response;
  if (status !== 200 && status !== 201) {
    if (status >= 200 && status < 300) {
      throw oauthError(
        'registration_failed',
        `dynamic client registration answered with unexpected HTTP status ${status}`,
        { status },
      );
    }
    throw registrationError(response);
  }
  const body = parseJsonObject(response, 'registration response', 'registration_failed');
  const fail = (field: string, rule: string) =>
    invalidField('registration_failed', 'registration response', field, rule, { status });
  const fields = fieldReader(body, fail);

  const clientId = fields.string('client_id', true)!;
  const clientSecret = fields.string('client_secret');
  const expiryMissing = clientSecret !== undefined && fields.get('client_secret_expires_at') === undefined;
  const clientSecretExpiresAt = fields.number('client_secret_expires_at') ?? (expiryMissing ? 0 : undefined);
  if (clientSecret !== undefined && isExpired(clientSecretExpiresAt, input.now)) {
    throw fail('client_secret_expires_at', 'is in the past');
  }
  fields.number('client_id_issued_at');

  const registrationAccessToken = fields.string('registration_access_token');
  const registrationClientUri = fields.string('registration_client_uri');
  if (registrationClientUri !== undefined) {
    const issuerUrl = tryParseUrl(input.issuer);
    if (issuerUrl === undefined) throw invalidOption('issuer', 'must be an absolute URL');
    const rule = { ...input, what: 'registration_client_uri', learnedFrom: issuerUrl };
    let url: URL;
    try {
      url = assertSafeUrl(registrationClientUri, { ...rule, allowLoopbackHttp: isLoopbackHttp(issuerUrl) });
    } catch {
      throw fail('registration_client_uri', 'must be an https URL, and not link-local');
    }
    try {
      assertNoMorePrivateNetwork(url, rule);
    } catch {
      throw fail(
        'registration_client_uri',
        'must not point to a more private network than the authorization server',
      );
    }
  }

  const requested = input.requested;
  const echoedMethod = fields.get('token_endpoint_auth_method');
  if (echoedMethod !== undefined && !isAuthMethod(echoedMethod)) {
    throw fail('token_endpoint_auth_method', 'is not a method this client supports');
  }
  // RFC 7591 §2 default when the request named none: client_secret_basic.
  const method =
    echoedMethod ??
    (isAuthMethod(requested.token_endpoint_auth_method)
      ? requested.token_endpoint_auth_method
      : 'client_secret_basic');
  if (usesSecret(method) && clientSecret === undefined) {
    throw fail('client_secret', `is required for ${method}`);
  }
  if (method === 'private_key_jwt' && requested.jwks === undefined && requested.jwks_uri === undefined) {
    throw fail('token_endpoint_auth_method', 'is private_key_jwt but no key was registered');
  }

  const sentRedirectUris = Array.isArray(requested.redirect_uris)
    ? requested.redirect_uris.filter((uri): uri is string => typeof uri === 'string')
    : [];
  const echoedRedirectUris = fields.strings('redirect_uris');
  if (
    echoedRedirectUris !== undefined &&
    !sentRedirectUris.every((uri) => echoedRedirectUris.includes(uri))
  ) {
    throw fail('redirect_uris', 'must contain every redirect URI that was registered');
  }

  // The grants the server registered (RFC 7591 §3.2.1 echoes them), else the ones asked for.
  const echoedGrantTypes = fields.get('grant_types');
  const grantTypes = isStringList(echoedGrantTypes)
    ? [...echoedGrantTypes]
    : Array.isArray(requested.grant_types)
      ? requested.grant_types.filter((grant): grant is string => typeof grant === 'string')
      : [];

  const info = withoutUndefined<ClientInformation>({
    issuer: input.issuer,
    clientId,
    clientSecret,
    clientSecretExpiresAt: clientSecret === undefined ? undefined : clientSecretExpiresAt,
    tokenEndpointAuthMethod: method,
    redirectUris: sentRedirectUris,
    grantTypes,
    source: 'dynamic',
    registrationAccessToken,
    registrationClientUri,
  });
  return { info, expiryMissing };
}

/** Seconds since the epoch, set and not `0` (never expires), at or before `now` (milliseconds). */
function isExpired(expiresAt: number | undefined, now: number): boolean {
  return expiresAt !== undefined && expiresAt > 0 && expiresAt <= now / 1000;
}

// ---------------------------------------------------------------------------------------------
// Store

async function guardStore<T>(operation: () => Promise<T>, what: string): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (isOAuthClientError(error)) throw error;
    throw oauthError('store_failed', `client store ${what} failed`);
  }
}

/** Removes the stored registration for `issuer`, so the next `resolveClient` registers again. */
export async function forgetClient(store: OAuthStore<ClientInformation>, issuer: string): Promise<void> {
  await guardStore(() => store.delete(issuer), 'delete');
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

/**
 * A client record read back from a store is well formed: a client id, a supported method, string
 * secret, redirect URIs and grant types, a numeric secret expiry.
 */
export function isClientRecord(value: unknown): value is ClientInformation {
  const record = value as Partial<Record<keyof ClientInformation, unknown>> | null;
  return (
    typeof record === 'object' &&
    record !== null &&
    isNonEmptyString(record.clientId) &&
    isAuthMethod(record.tokenEndpointAuthMethod) &&
    isStringList(record.redirectUris) &&
    (record.grantTypes === undefined || isStringList(record.grantTypes)) &&
    ['undefined', 'string'].includes(typeof record.clientSecret) &&
    ['undefined', 'number'].includes(typeof record.clientSecretExpiresAt)
  );
}

/**
 * Whether a client was registered for every grant the session runs (`refresh_token` aside: without
 * it there is just no refresh token). A client whose grant types are unknown counts as covering them.
 */
export function coversGrantTypes(client: ClientInformation, grantTypes: readonly string[]): boolean {
  const registered = client.grantTypes;
  return grantTypes.every((grant) => grant === 'refresh_token' || registered?.includes(grant) !== false);
}

function judgeStored(
  stored: ClientInformation,
  issuer: string,
  requiredRedirectUris: readonly string[],
  grantTypes: readonly string[],
  now: number,
): string {
  if (!isClientRecord(stored) || stored.source !== 'dynamic') return 'invalid';
  if (stored.issuer !== issuer) return 'other-issuer';
  if (isExpired(stored.clientSecretExpiresAt, now)) return 'expired';
  const registered = stored.redirectUris.map(withoutLoopbackPort);
  if (!requiredRedirectUris.every((uri) => registered.includes(withoutLoopbackPort(uri)))) {
    return 'redirect-uris-changed';
  }
  if (!coversGrantTypes(stored, grantTypes)) return 'grant-types-changed';
  return 'usable';
}

/**
 * A loopback redirect URI without its port: RFC 8252 §7.3 requires authorization servers to accept
 * any port for loopback IP redirects, so a callback server on a new port keeps the registration.
 */
function withoutLoopbackPort(uri: string): string {
  const url = tryParseUrl(uri);
  if (!isLoopbackHttp(url)) return uri;
  url!.port = '';
  return url!.href;
}

// ---------------------------------------------------------------------------------------------
// Resolution

function resolvePreRegistered(input: ResolveClientInput): ClientInformation | undefined {
  const entries = input.client.preRegistered;
  if (!entries?.length) return undefined;
  const matches = entries.filter((entry) => entry.issuer === input.issuer);
  const option = 'client.preRegistered';
  if (matches.length > 1) throw invalidOption(option, 'lists more than one client for the same issuer');
  const entry = matches[0];
  if (entry === undefined) {
    throw oauthError(
      'client_configuration_required',
      `"${option}" has no client for ${displayIssuer(input.issuer)} (credentials are never used with another server)`,
    );
  }
  const { clientId, clientSecret, tokenEndpointAuthMethod } = entry;
  if (!isNonEmptyString(clientId)) throw invalidOption(`${option}[].clientId`, 'must be a non-empty string');
  if (clientSecret !== undefined && !isNonEmptyString(clientSecret)) {
    throw invalidOption(`${option}[].clientSecret`, 'must be a non-empty string');
  }
  if (tokenEndpointAuthMethod !== undefined && !isAuthMethod(tokenEndpointAuthMethod)) {
    throw invalidOption(`${option}[].tokenEndpointAuthMethod`, 'is not a supported method');
  }
  const method = tokenEndpointAuthMethod ?? (clientSecret === undefined ? 'none' : 'client_secret_basic');
  if (usesSecret(method) && clientSecret === undefined) {
    throw invalidOption(`${option}[].clientSecret`, `is required for ${method}`);
  }
  return withoutUndefined<ClientInformation>({
    issuer: input.issuer,
    clientId,
    clientSecret,
    tokenEndpointAuthMethod: method,
    redirectUris: [...(input.client.redirectUris ?? [])],
    source: 'pre-registered',
  });
}

function resolveMetadataDocument(input: ResolveClientInput): ClientInformation | undefined {
  const url = input.client.clientMetadataUrl;
  if (url === undefined || input.metadata.client_id_metadata_document_supported !== true) return undefined;
  // A metadata document cannot carry a secret: CIMD clients are public or use private_key_jwt.
  const method: TokenEndpointAuthMethod =
    input.client.tokenEndpointAuthMethod === 'private_key_jwt' ? 'private_key_jwt' : 'none';
  // client_credentials needs client authentication, which `none` is not.
  if (method === 'none' && input.grantTypes.includes('client_credentials')) return undefined;
  return {
    issuer: input.issuer,
    clientId: url,
    tokenEndpointAuthMethod: method,
    redirectUris: [...(input.client.redirectUris ?? [])],
    source: 'metadata-document',
  };
}

async function registerDynamically(
  context: HttpContext,
  input: ResolveClientInput,
  endpoint: string,
): Promise<ClientInformation> {
  const url = assertSafeUrl(endpoint, {
    what: 'registration_endpoint',
    allowLoopbackHttp: isLoopbackHttp(tryParseUrl(input.issuer)),
  });
  const requested = buildRegistrationRequest(input);
  let body: string;
  try {
    body = JSON.stringify(requested);
  } catch {
    throw invalidOption('extraMetadata', 'must be JSON-serialisable');
  }
  const response = await sendRequest(context, {
    method: 'POST',
    url: url.href,
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body,
    redirect: 'same-origin',
    signal: input.signal,
  });
  const { info, expiryMissing } = readRegistrationResponse(response, {
    issuer: input.issuer,
    requested,
    now: input.now,
    allowPrivateNetworks: input.allowPrivateNetworks,
  });
  if (expiryMissing) context.logger.warn('registration.secret_expiry_missing', { issuer: input.issuer });
  return info;
}

/**
 * Finds or obtains the client identity to use with `input.issuer` (see the module comment for the
 * order). Only dynamic registrations are stored, under `input.issuer`.
 *
 * Errors: `invalid_options`, `issuer_mismatch`, `client_configuration_required`, `unsafe_url`,
 * `registration_failed`, `store_failed`, and the transport codes of `sendRequest`.
 */
export async function resolveClient(
  context: HttpContext,
  input: ResolveClientInput,
): Promise<ClientInformation> {
  const { issuer, metadata, client, grantTypes, store, now } = input;
  const logger = context.logger;
  assertClientOptions(client, grantTypes);
  if (metadata.issuer !== issuer) {
    throw invalidField(
      'issuer_mismatch',
      'authorization server metadata',
      'issuer',
      'does not match the issuer being registered with',
    );
  }

  const preRegistered = resolvePreRegistered(input);
  if (preRegistered !== undefined) {
    logger.debug('registration.pre_registered', { issuer, client_id: preRegistered.clientId });
    return preRegistered;
  }

  const requiredRedirectUris = usesAuthorizationCode(grantTypes) ? (client.redirectUris ?? []) : [];
  const stored = await guardStore(() => store.get(issuer), 'read');
  if (stored !== undefined) {
    const verdict = judgeStored(stored, issuer, requiredRedirectUris, grantTypes, now);
    if (verdict === 'usable') {
      logger.debug('registration.reused', { issuer, client_id: stored.clientId });
      return stored;
    }
    logger.debug('registration.stored_unusable', { issuer, reason: verdict });
  }

  const document = resolveMetadataDocument(input);
  if (document !== undefined) {
    logger.debug('registration.metadata_document', { issuer, client_id: redactUrl(document.clientId) });
    return document;
  }

  const endpoint = metadata.registration_endpoint;
  if (endpoint !== undefined) {
    const info = await registerDynamically(context, input, endpoint);
    await guardStore(() => store.set(issuer, info), 'write');
    logger.debug('registration.dynamic', { issuer, client_id: info.clientId });
    return info;
  }

  // Name the options that fix it: a pre-registered client, or a metadata document URL when none
  // is configured (the server may support them).
  throw oauthError(
    'client_configuration_required',
    client.clientMetadataUrl === undefined
      ? `${displayIssuer(issuer)} offers no dynamic client registration: configure "client.preRegistered" for it, or "client.clientMetadataUrl" if it supports client metadata documents`
      : `${displayIssuer(issuer)} supports neither client metadata documents nor dynamic client registration: configure "client.preRegistered" for it`,
  );
}
