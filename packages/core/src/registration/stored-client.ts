/** Judging a client record read back from the client store. */

import { isOAuthClientError, oauthError } from '../errors.js';
import { isNonEmptyString } from '../fields.js';
import type { OAuthStore } from '../stores.js';
import type { ClientInformation } from '../types.js';
import { tryParseUrl } from '../url.js';
import { isAuthMethod } from './auth-method.js';
import { isLoopbackHttp } from './client-options.js';

/** Seconds since the epoch, set and not `0` (never expires), at or before `now` (milliseconds). */
export function isExpired(expiresAt: number | undefined, now: number): boolean {
  return expiresAt !== undefined && expiresAt > 0 && expiresAt <= now / 1000;
}

// ---------------------------------------------------------------------------------------------
// Store

export async function guardStore<T>(operation: () => Promise<T>, what: string): Promise<T> {
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

export function isStringList(value: unknown): value is string[] {
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

export function judgeStored(
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
