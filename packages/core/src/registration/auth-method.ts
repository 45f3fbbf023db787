/** The token endpoint authentication method a client registers or uses. */

import { invalidField, invalidOption } from '../errors.js';
import type { TokenEndpointAuthMethod } from '../types.js';
import type { ClientOptions } from './client-options.js';

export const AUTH_METHODS: readonly TokenEndpointAuthMethod[] = [
  'none',
  'client_secret_basic',
  'client_secret_post',
  'private_key_jwt',
];

export function isAuthMethod(value: unknown): value is TokenEndpointAuthMethod {
  return AUTH_METHODS.includes(value as TokenEndpointAuthMethod);
}

/** The methods that authenticate with a client secret. */
export function usesSecret(method: TokenEndpointAuthMethod): boolean {
  return method === 'client_secret_basic' || method === 'client_secret_post';
}

export function hasKey(client: ClientOptions): boolean {
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
export function preferredMethod(
  client: ClientOptions,
  grantTypes: readonly string[],
): TokenEndpointAuthMethod | undefined {
  if (client.tokenEndpointAuthMethod !== undefined) return client.tokenEndpointAuthMethod;
  if (grantTypes.includes('client_credentials'))
    return hasKey(client) ? 'private_key_jwt' : 'client_secret_basic';
  return undefined;
}
