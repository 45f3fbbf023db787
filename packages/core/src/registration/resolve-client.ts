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

import { invalidField, invalidOption, oauthError } from '../errors.js';
import { withoutUndefined } from '../fields.js';
import type { HttpContext } from '../http.js';
import type { OAuthStore } from '../stores.js';
import type { AuthorizationServerMetadata, ClientInformation, TokenEndpointAuthMethod } from '../types.js';
import { displayIssuer, redactUrl } from '../url.js';
import { AUTH_METHODS, usesSecret } from './auth-method.js';
import {
  assertClientOptions,
  assertOneOf,
  assertString,
  type ClientOptions,
  usesAuthorizationCode,
} from './client-options.js';
import { registerDynamically } from './dynamic-registration.js';
import { guardStore, judgeStored } from './stored-client.js';

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
  const field = `${option}[].`;
  assertString(clientId, `${field}clientId`, true);
  assertString(clientSecret, `${field}clientSecret`);
  assertOneOf(tokenEndpointAuthMethod, `${field}tokenEndpointAuthMethod`, AUTH_METHODS);
  const method = tokenEndpointAuthMethod ?? (clientSecret === undefined ? 'none' : 'client_secret_basic');
  if (usesSecret(method) && clientSecret === undefined) {
    throw invalidOption(`${field}clientSecret`, `is required for ${method}`);
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
