/**
 * The client options registration relies on, checked once (`invalid_options` naming the option).
 */

import { invalidOption } from '../errors.js';
import { isNonEmptyString } from '../fields.js';
import type { TokenEndpointAuthMethod } from '../types.js';
import { allowsLoopbackHttp, tryParseUrl } from '../url.js';
import type { JsonWebKey } from '../web-crypto.js';
import { AUTH_METHODS } from './auth-method.js';

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

/**
 * The client options sent as RFC 7591 §2 metadata, each under its name in snake_case (see
 * {@link metadataName}): `client_name`, `redirect_uris`, `grant_types`, `response_types`,
 * `token_endpoint_auth_method`, `application_type`, `client_uri`, `logo_uri`, `software_id`,
 * `software_version`, `jwks_uri` and `jwks`. `extraMetadata` may set none of these, nor
 * `client_id` and `client_secret`.
 */
export const METADATA_OPTIONS = [
  'clientName',
  'redirectUris',
  'grantTypes',
  'responseTypes',
  'tokenEndpointAuthMethod',
  'applicationType',
  'clientUri',
  'logoUri',
  'softwareId',
  'softwareVersion',
  'jwksUri',
  'jwks',
] as const;

/** `clientUri` → `client_uri`. */
export function metadataName(option: string): string {
  return option.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

const RESERVED_METADATA = ['clientId', 'clientSecret', ...METADATA_OPTIONS].map(metadataName);

/** JWK members that only a private or symmetric key has (RFC 7518 §6). */
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

export function usesAuthorizationCode(grantTypes: readonly string[]): boolean {
  return grantTypes.includes('authorization_code');
}

/** An http URL on a loopback host (none for a value that did not parse). */
export function isLoopbackHttp(url: URL | undefined): boolean {
  return url !== undefined && allowsLoopbackHttp(url);
}

/** A set `value` is a non-empty string; with `required`, an unset one is an error too. */
export function assertString(value: unknown, option: string, required?: boolean): void {
  if ((required || value !== undefined) && !isNonEmptyString(value)) {
    throw invalidOption(option, 'must be a non-empty string');
  }
}

/** A set `value` is one of `allowed`. */
export function assertOneOf(value: unknown, option: string, allowed: readonly string[]): void {
  if (value !== undefined && !allowed.includes(value as string)) {
    throw invalidOption(option, `must be one of ${allowed.map((item) => `"${item}"`).join(', ')}`);
  }
}

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
export function assertClientOptions(client: ClientOptions, grantTypes: readonly string[]): void {
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
  assertOneOf(client.tokenEndpointAuthMethod, 'tokenEndpointAuthMethod', AUTH_METHODS);
  assertOneOf(client.applicationType, 'applicationType', ['native', 'web']);
  for (const option of ['clientName', 'softwareId', 'softwareVersion'] as const) {
    assertString(client[option], option);
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
