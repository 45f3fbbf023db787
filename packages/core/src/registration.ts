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
  isOAuthClientError,
  type OAuthClientError,
  oauthError,
  serverDescription,
  withServerWords,
} from './errors.js';
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
const RESERVED_METADATA = new Set([
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
]);

/** JWK members that only a private or symmetric key has (RFC 7518 §6). */
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

function isAuthMethod(value: unknown): value is TokenEndpointAuthMethod {
  return typeof value === 'string' && (AUTH_METHODS as readonly string[]).includes(value);
}

function usesAuthorizationCode(grantTypes: readonly string[]): boolean {
  return grantTypes.includes('authorization_code');
}

function isLoopbackHttpUrl(value: string): boolean {
  const url = tryParseUrl(value);
  return url !== undefined && url.protocol === 'http:' && isLoopbackHost(url.hostname);
}

// ---------------------------------------------------------------------------------------------
// Options

function invalidOptions(message: string): OAuthClientError {
  return oauthError('invalid_options', message);
}

function assertGrantTypes(grantTypes: readonly string[]): void {
  if (
    !Array.isArray(grantTypes) ||
    grantTypes.length === 0 ||
    !grantTypes.every((grant) => typeof grant === 'string' && grant !== '')
  ) {
    throw invalidOptions('"grantTypes" must be a non-empty list of grant type names');
  }
}

function assertRedirectUri(value: unknown): void {
  const url = typeof value === 'string' ? tryParseUrl(value) : undefined;
  if (url === undefined) throw invalidOptions('each of "redirectUris" must be an absolute URL');
  if (url.hash !== '') throw invalidOptions('"redirectUris" must not contain a fragment');
  if (url.username !== '' || url.password !== '') {
    throw invalidOptions('"redirectUris" must not contain credentials');
  }
  if (url.protocol === 'https:') return;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return;
  throw invalidOptions('"redirectUris" must use https, or http on a loopback host');
}

/**
 * A CIMD `client_id` (draft-ietf-oauth-client-id-metadata-document §3): https, a path other than
 * `/`, no dot segments, no fragment, no credentials.
 */
function assertClientMetadataUrl(value: unknown): void {
  const url = typeof value === 'string' ? tryParseUrl(value) : undefined;
  if (url === undefined || typeof value !== 'string') {
    throw invalidOptions('"clientMetadataUrl" must be an absolute https URL');
  }
  if (url.protocol !== 'https:') throw invalidOptions('"clientMetadataUrl" must use https');
  if (url.pathname === '/' || url.pathname === '') {
    throw invalidOptions('"clientMetadataUrl" must have a path, e.g. https://app.example/client.json');
  }
  if (url.hash !== '' || value.includes('#'))
    throw invalidOptions('"clientMetadataUrl" must not contain a fragment');
  if (url.username !== '' || url.password !== '') {
    throw invalidOptions('"clientMetadataUrl" must not contain credentials');
  }
  // The URL parser removes dot segments, so look at the text as written.
  const path = value.split(/[?#]/, 1)[0] ?? '';
  if (/\/(?:\.|%2e){1,2}(?:\/|$)/i.test(path)) {
    throw invalidOptions('"clientMetadataUrl" must not contain "." or ".." path segments');
  }
}

function assertOptionalHttpUrl(value: string | undefined, name: string): void {
  if (value === undefined) return;
  const url = tryParseUrl(value);
  if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw invalidOptions(`"${name}" must be an absolute http(s) URL`);
  }
}

function assertOptionalString(value: unknown, name: string): void {
  if (value !== undefined && (typeof value !== 'string' || value === '')) {
    throw invalidOptions(`"${name}" must be a non-empty string`);
  }
}

function assertKeys(client: ClientOptions): void {
  if (client.jwks !== undefined && client.jwksUri !== undefined) {
    throw invalidOptions('set at most one of "jwks" and "jwksUri" (RFC 7591 §2)');
  }
  if (client.jwksUri !== undefined) {
    const url = tryParseUrl(client.jwksUri);
    if (url === undefined || url.protocol !== 'https:' || url.hash !== '') {
      throw invalidOptions('"jwksUri" must be an absolute https URL');
    }
  }
  if (client.jwks !== undefined) {
    const keys = (client.jwks as { keys?: unknown }).keys;
    if (!Array.isArray(keys) || keys.length === 0) {
      throw invalidOptions('"jwks" must be { keys: [...] } with at least one key');
    }
    for (const key of keys) {
      if (typeof key !== 'object' || key === null || Array.isArray(key)) {
        throw invalidOptions('"jwks.keys" must be JSON Web Keys');
      }
      if (PRIVATE_JWK_MEMBERS.some((member) => member in key)) {
        throw invalidOptions('"jwks" must hold public keys only');
      }
    }
  }
}

/** Validates everything in the options that registration relies on. Throws `invalid_options`. */
function assertClientOptions(client: ClientOptions, grantTypes: readonly string[]): void {
  assertGrantTypes(grantTypes);
  if (client.redirectUris !== undefined) {
    if (!Array.isArray(client.redirectUris)) throw invalidOptions('"redirectUris" must be a list of URLs');
    for (const uri of client.redirectUris) assertRedirectUri(uri);
  }
  if (usesAuthorizationCode(grantTypes) && (client.redirectUris ?? []).length === 0) {
    throw invalidOptions('"redirectUris" is required for the authorization_code grant');
  }
  if (client.clientMetadataUrl !== undefined) assertClientMetadataUrl(client.clientMetadataUrl);
  if (client.tokenEndpointAuthMethod !== undefined && !isAuthMethod(client.tokenEndpointAuthMethod)) {
    throw invalidOptions('"tokenEndpointAuthMethod" is not a supported token endpoint authentication method');
  }
  if (
    client.applicationType !== undefined &&
    client.applicationType !== 'native' &&
    client.applicationType !== 'web'
  ) {
    throw invalidOptions('"applicationType" must be "native" or "web"');
  }
  assertOptionalString(client.clientName, 'clientName');
  assertOptionalString(client.softwareId, 'softwareId');
  assertOptionalString(client.softwareVersion, 'softwareVersion');
  assertOptionalHttpUrl(client.clientUri, 'clientUri');
  assertOptionalHttpUrl(client.logoUri, 'logoUri');
  assertKeys(client);
  if (client.extraMetadata !== undefined) {
    if (typeof client.extraMetadata !== 'object' || client.extraMetadata === null) {
      throw invalidOptions('"extraMetadata" must be an object');
    }
    for (const key of Object.keys(client.extraMetadata)) {
      if (RESERVED_METADATA.has(key)) {
        throw invalidOptions(`"extraMetadata" must not set "${key}"; use the matching client option`);
      }
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
    throw invalidOptions('"tokenEndpointAuthMethod" private_key_jwt needs "jwks" or "jwksUri"');
  }
  const listed = supported === undefined || supported.length === 0 ? undefined : supported;
  if (preferred !== undefined && (listed === undefined || listed.includes(preferred))) return preferred;
  const order: TokenEndpointAuthMethod[] = [];
  if (hasKey) order.push('private_key_jwt');
  if (preferred === undefined || preferred === 'none') order.push('none');
  order.push('client_secret_basic', 'client_secret_post');
  if (listed === undefined) return order[0]!;
  const chosen = order.find((method) => listed.includes(method));
  if (chosen === undefined) {
    throw oauthError(
      'registration_failed',
      'the authorization server supports no token endpoint authentication method this client can use',
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

/**
 * `native` for loopback redirect URIs, and for the device authorization grant without redirect
 * URIs (RFC 8628 clients are native applications on the user's device); else `web`.
 */
function defaultApplicationType(
  redirectUris: readonly string[],
  grantTypes: readonly string[],
): 'native' | 'web' {
  if (redirectUris.length === 0) return grantTypes.includes(GRANT_TYPE_DEVICE_CODE) ? 'native' : 'web';
  return redirectUris.every((uri) => {
    const url = tryParseUrl(uri);
    return url !== undefined && isLoopbackHost(url.hostname);
  })
    ? 'native'
    : 'web';
}

// ---------------------------------------------------------------------------------------------
// Dynamic Client Registration (RFC 7591)

/**
 * The RFC 7591 §2 registration request body. `redirect_uris` are sent only with the
 * `authorization_code` grant; without it `response_types` is `[]` (RFC 7591 §2 reads an omitted
 * list as `["code"]`, and servers then demand redirect URIs); `application_type` is always sent
 * (MCP requires it).
 */
export function buildRegistrationRequest(input: {
  client: ClientOptions;
  grantTypes: readonly string[];
  metadata: AuthorizationServerMetadata;
}): Record<string, unknown> {
  const { client, grantTypes, metadata } = input;
  assertClientOptions(client, grantTypes);
  const authorizationCode = usesAuthorizationCode(grantTypes);
  const redirectUris = authorizationCode ? [...(client.redirectUris ?? [])] : [];
  const method = chooseTokenEndpointAuthMethod(
    metadata.token_endpoint_auth_methods_supported,
    preferredMethod(client, grantTypes),
    hasKey(client),
  );
  const fields: [string, unknown][] = [
    ['client_name', client.clientName ?? DEFAULT_CLIENT_NAME],
    ...(authorizationCode ? ([['redirect_uris', redirectUris]] as [string, unknown][]) : []),
    ['grant_types', [...grantTypes]],
    // RFC 7591 §2 defaults `response_types` to ["code"], which makes a server demand redirect URIs
    // of a machine client: say "none" explicitly.
    ['response_types', authorizationCode ? ['code'] : []],
    ['token_endpoint_auth_method', method],
    ['application_type', client.applicationType ?? defaultApplicationType(redirectUris, grantTypes)],
  ];
  const optional: [string, unknown][] = [
    ['client_uri', client.clientUri],
    ['logo_uri', client.logoUri],
    ['software_id', client.softwareId],
    ['software_version', client.softwareVersion],
    ['jwks_uri', client.jwksUri],
    ['jwks', client.jwks === undefined ? undefined : { keys: client.jwks.keys.map((key) => ({ ...key })) }],
  ];
  for (const [name, value] of optional) if (value !== undefined) fields.push([name, value]);
  // Extra metadata first; the reserved names were refused above, so nothing it holds can replace
  // a field of ours. Object.fromEntries defines properties, so a "__proto__" key stays a key.
  return Object.fromEntries([...Object.entries(client.extraMetadata ?? {}), ...fields]);
}

function registrationError(response: OAuthHttpResponse): OAuthClientError {
  let error: string | undefined;
  let description: string | undefined;
  try {
    const body: unknown = JSON.parse(response.body);
    if (typeof body === 'object' && body !== null) {
      const { error: code, error_description: text } = body as Record<string, unknown>;
      if (typeof code === 'string') error = code;
      description = serverDescription(text);
    }
  } catch {
    // not JSON: only the status is reported
  }
  // Fixed text per known error, then the server's own error_description, sanitized and marked.
  const message =
    error === 'invalid_redirect_uri'
      ? 'dynamic client registration was rejected: the authorization server does not accept the redirect URIs (check "redirectUris" and "applicationType")'
      : error === 'invalid_client_metadata'
        ? 'dynamic client registration was rejected: the authorization server does not accept the client metadata'
        : error === 'invalid_software_statement' || error === 'unapproved_software_statement'
          ? 'dynamic client registration was rejected: the software statement was not accepted'
          : `dynamic client registration failed with HTTP status ${response.status}`;
  return oauthError('registration_failed', withServerWords(message, description), {
    oauthError: error,
    status: response.status,
  });
}

function fieldError(field: string, requirement: string, status: number): OAuthClientError {
  return oauthError('registration_failed', `registration response "${field}" ${requirement}`, { status });
}

/** An optional member: absent or JSON `null` read as absent. */
function optionalMember(body: Record<string, unknown>, name: string): unknown {
  const value = body[name];
  return value === null ? undefined : value;
}

function optionalString(body: Record<string, unknown>, name: string, status: number): string | undefined {
  const value = optionalMember(body, name);
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw fieldError(name, 'must be a non-empty string', status);
  return value;
}

function optionalTimestamp(body: Record<string, unknown>, name: string, status: number): number | undefined {
  const value = optionalMember(body, name);
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw fieldError(name, 'must be a non-negative number', status);
  }
  return value;
}

function requestedStrings(requested: Record<string, unknown>, name: string): string[] {
  const value = requested[name];
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
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

  const clientId = body.client_id;
  if (typeof clientId !== 'string' || clientId === '')
    throw fieldError('client_id', 'must be a non-empty string', status);

  const clientSecret = optionalString(body, 'client_secret', status);
  let clientSecretExpiresAt = optionalTimestamp(body, 'client_secret_expires_at', status);
  const expiryMissing = clientSecret !== undefined && clientSecretExpiresAt === undefined;
  if (expiryMissing) clientSecretExpiresAt = 0;
  if (
    clientSecret !== undefined &&
    clientSecretExpiresAt !== undefined &&
    clientSecretExpiresAt > 0 &&
    clientSecretExpiresAt <= input.now / 1000
  ) {
    throw fieldError('client_secret_expires_at', 'is in the past', status);
  }
  optionalTimestamp(body, 'client_id_issued_at', status);

  const registrationAccessToken = optionalString(body, 'registration_access_token', status);
  const registrationClientUri = optionalString(body, 'registration_client_uri', status);
  if (registrationClientUri !== undefined) {
    let url: URL;
    try {
      url = assertSafeUrl(registrationClientUri, {
        what: 'registration_client_uri',
        allowLoopbackHttp: isLoopbackHttpUrl(input.issuer),
      });
    } catch {
      throw fieldError('registration_client_uri', 'must be an https URL, and not link-local', status);
    }
    const issuerUrl = tryParseUrl(input.issuer);
    if (issuerUrl === undefined) throw invalidOptions('the registration "issuer" must be an absolute URL');
    try {
      assertNoMorePrivateNetwork(url, {
        what: 'registration_client_uri',
        learnedFrom: issuerUrl,
        allowPrivateNetworks: input.allowPrivateNetworks,
      });
    } catch {
      throw fieldError(
        'registration_client_uri',
        'must not point to a more private network than the authorization server',
        status,
      );
    }
  }

  const requestedMethod = isAuthMethod(input.requested.token_endpoint_auth_method)
    ? input.requested.token_endpoint_auth_method
    : 'client_secret_basic'; // RFC 7591 §2 default when the request named none
  const echoedMethod = optionalMember(body, 'token_endpoint_auth_method');
  if (echoedMethod !== undefined && !isAuthMethod(echoedMethod)) {
    throw fieldError('token_endpoint_auth_method', 'is not a method this client supports', status);
  }
  const method = echoedMethod ?? requestedMethod;
  if ((method === 'client_secret_basic' || method === 'client_secret_post') && clientSecret === undefined) {
    throw fieldError('client_secret', `is required for ${method}`, status);
  }
  if (
    method === 'private_key_jwt' &&
    input.requested.jwks === undefined &&
    input.requested.jwks_uri === undefined
  ) {
    throw fieldError('token_endpoint_auth_method', 'is private_key_jwt but no key was registered', status);
  }

  const sentRedirectUris = requestedStrings(input.requested, 'redirect_uris');
  const echoedRedirectUris = optionalMember(body, 'redirect_uris');
  if (echoedRedirectUris !== undefined) {
    if (!Array.isArray(echoedRedirectUris) || !echoedRedirectUris.every((uri) => typeof uri === 'string')) {
      throw fieldError('redirect_uris', 'must be a list of strings', status);
    }
    if (!sentRedirectUris.every((uri) => echoedRedirectUris.includes(uri))) {
      throw fieldError('redirect_uris', 'must contain every redirect URI that was registered', status);
    }
  }

  // The grants the server registered (RFC 7591 §3.2.1 echoes them), else the ones asked for.
  const echoedGrantTypes = optionalMember(body, 'grant_types');
  const grantTypes =
    Array.isArray(echoedGrantTypes) && echoedGrantTypes.every((grant) => typeof grant === 'string')
      ? [...echoedGrantTypes]
      : requestedStrings(input.requested, 'grant_types');

  const info: ClientInformation = {
    issuer: input.issuer,
    clientId,
    ...(clientSecret === undefined ? {} : { clientSecret }),
    ...(clientSecret === undefined || clientSecretExpiresAt === undefined ? {} : { clientSecretExpiresAt }),
    tokenEndpointAuthMethod: method,
    redirectUris: sentRedirectUris,
    grantTypes,
    source: 'dynamic',
    ...(registrationAccessToken === undefined ? {} : { registrationAccessToken }),
    ...(registrationClientUri === undefined ? {} : { registrationClientUri }),
  };
  return { info, expiryMissing };
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

type StoredVerdict =
  | 'usable'
  | 'invalid'
  | 'other-issuer'
  | 'expired'
  | 'redirect-uris-changed'
  | 'grant-types-changed';

/**
 * Whether a client was registered for every grant the session runs (`refresh_token` aside: without
 * it there is just no refresh token). A client whose grant types are unknown counts as covering them.
 */
export function coversGrantTypes(client: ClientInformation, grantTypes: readonly string[]): boolean {
  const registered = client.grantTypes;
  if (registered === undefined) return true;
  return grantTypes.every((grant) => grant === 'refresh_token' || registered.includes(grant));
}

function judgeStored(
  stored: ClientInformation,
  issuer: string,
  requiredRedirectUris: readonly string[],
  grantTypes: readonly string[],
  now: number,
): StoredVerdict {
  const record = stored as unknown as Record<string, unknown>;
  if (
    typeof record !== 'object' ||
    record === null ||
    record.source !== 'dynamic' ||
    typeof record.clientId !== 'string' ||
    record.clientId === '' ||
    !isAuthMethod(record.tokenEndpointAuthMethod) ||
    !Array.isArray(record.redirectUris) ||
    (record.clientSecret !== undefined && typeof record.clientSecret !== 'string') ||
    (record.clientSecretExpiresAt !== undefined && typeof record.clientSecretExpiresAt !== 'number') ||
    (record.grantTypes !== undefined &&
      (!Array.isArray(record.grantTypes) || !record.grantTypes.every((grant) => typeof grant === 'string')))
  ) {
    return 'invalid';
  }
  if (record.issuer !== issuer) return 'other-issuer';
  const expiresAt = stored.clientSecretExpiresAt;
  if (expiresAt !== undefined && expiresAt > 0 && expiresAt <= now / 1000) return 'expired';
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
  if (url === undefined || url.protocol !== 'http:' || !isLoopbackHost(url.hostname)) return uri;
  url.port = '';
  return url.href;
}

// ---------------------------------------------------------------------------------------------
// Resolution

function resolvePreRegistered(input: ResolveClientInput): ClientInformation | undefined {
  const entries = input.client.preRegistered;
  if (entries === undefined || entries.length === 0) return undefined;
  const matches = entries.filter((entry) => entry.issuer === input.issuer);
  if (matches.length > 1)
    throw invalidOptions('"preRegistered" lists more than one client for the same issuer');
  const entry = matches[0];
  if (entry === undefined) {
    throw oauthError(
      'client_configuration_required',
      `the pre-registered client is for a different authorization server than ${displayIssuer(input.issuer)}; configure a pre-registered client for this issuer in "client.preRegistered" (credentials are never used with another server)`,
    );
  }
  if (typeof entry.clientId !== 'string' || entry.clientId === '') {
    throw invalidOptions('"preRegistered" clientId must be a non-empty string');
  }
  if (
    entry.clientSecret !== undefined &&
    (typeof entry.clientSecret !== 'string' || entry.clientSecret === '')
  ) {
    throw invalidOptions('"preRegistered" clientSecret must be a non-empty string');
  }
  if (entry.tokenEndpointAuthMethod !== undefined && !isAuthMethod(entry.tokenEndpointAuthMethod)) {
    throw invalidOptions('"preRegistered" tokenEndpointAuthMethod is not a supported method');
  }
  const method =
    entry.tokenEndpointAuthMethod ?? (entry.clientSecret === undefined ? 'none' : 'client_secret_basic');
  if (
    (method === 'client_secret_basic' || method === 'client_secret_post') &&
    entry.clientSecret === undefined
  ) {
    throw invalidOptions(`"preRegistered" ${method} needs a clientSecret`);
  }
  return {
    issuer: input.issuer,
    clientId: entry.clientId,
    ...(entry.clientSecret === undefined ? {} : { clientSecret: entry.clientSecret }),
    tokenEndpointAuthMethod: method,
    redirectUris: [...(input.client.redirectUris ?? [])],
    source: 'pre-registered',
  };
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
    allowLoopbackHttp: isLoopbackHttpUrl(input.issuer),
  });
  const requested = buildRegistrationRequest({
    client: input.client,
    grantTypes: input.grantTypes,
    metadata: input.metadata,
  });
  let body: string;
  try {
    body = JSON.stringify(requested);
  } catch {
    throw invalidOptions('"extraMetadata" must be JSON-serialisable');
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
    throw oauthError(
      'issuer_mismatch',
      'authorization server metadata "issuer" does not match the issuer being registered with',
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

  const hint =
    client.clientMetadataUrl === undefined
      ? 'configure a pre-registered client id for this issuer, or a client metadata URL ("clientMetadataUrl") if the server supports Client ID Metadata Documents'
      : 'configure a pre-registered client id for this issuer (the server supports neither Client ID Metadata Documents nor Dynamic Client Registration)';
  throw oauthError(
    'client_configuration_required',
    `no client is configured for ${displayIssuer(issuer)} and it offers no way to register one: ${hint} (the "client.preRegistered" option)`,
  );
}
