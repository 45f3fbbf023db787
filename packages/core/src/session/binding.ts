/**
 * Binding: which authorization server and which client this session uses for its MCP server.
 * Discovery and client resolution run once (shared by concurrent callers) and are remembered in
 * the stores, so a restarted client needs neither again.
 */
import type { ClientAuthentication } from '../client-auth.js';
import { type DiscoveryResult, discover, discoverProtectedResource } from '../discovery.js';
import { isOAuthClientError, type OAuthClientError, oauthError } from '../errors.js';
import { coversGrantTypes, resolveClient } from '../registration.js';
import { type DiscoveryRecord, tokenKey } from '../stores.js';
import type { ClientInformation } from '../types.js';
import { redirectUriForIssuer } from './redirect-uri.js';
import { abortable, codeOf } from './signals.js';
import type { Binding, SessionState } from './state.js';
import {
  checkClientRecord,
  checkDiscoveryRecord,
  privateNetworksAllowed,
  readTokens,
} from './stored-records.js';

/** The key of the binding's token record. */
export function tokenKeyOf(binding: Binding): string {
  return tokenKey(binding.discovery.issuer, binding.discovery.resource, binding.client.clientId);
}

/** Loads what the stores remember about this server, once. */
export function loadFromStores(state: SessionState): Promise<void> {
  state.loaded ??= (async () => {
    const stored: unknown = await state.stores.discovery.get(state.serverUrl.href);
    if (stored === undefined) return;
    const record = checkDiscoveryRecord(state, stored);
    if (record.clientId === undefined) return;
    const client = await knownClient(state, record);
    if (client === undefined) return;
    state.binding = { discovery: record, client };
    state.tokens = await readTokens(state, tokenKeyOf(state.binding));
  })().then(
    () => {
      state.storesLoaded = true;
    },
    (error: unknown) => {
      state.loaded = undefined;
      throw isOAuthClientError(error)
        ? error
        : oauthError('store_failed', 'reading the session stores failed');
    },
  );
  return state.loaded;
}

async function knownClient(
  state: SessionState,
  record: DiscoveryRecord,
): Promise<ClientInformation | undefined> {
  const workload = state.grant.anonymousClient?.(state, record);
  if (record.clientId === '') return workload;
  const options = state.client;
  const preRegistered = options.preRegistered?.find((entry) => entry.issuer === record.issuer);
  if (
    (preRegistered !== undefined && preRegistered.clientId === record.clientId) ||
    (options.clientMetadataUrl !== undefined && options.clientMetadataUrl === record.clientId)
  ) {
    return resolveClient(state.http, resolveInput(state, record));
  }
  const stored: unknown = await state.stores.clients.get(record.issuer);
  if (stored === undefined) return undefined;
  const client = checkClientRecord(state, stored, record.issuer);
  // A client registered for another grant (a browser login, then a device one) is registered anew.
  return client.clientId === record.clientId &&
    coversGrantTypes(client, state.grant.grantTypes(record.authorizationServerMetadata))
    ? client
    : undefined;
}

function resolveInput(state: SessionState, record: DiscoveryRecord) {
  const { client } = state;
  return {
    issuer: record.issuer,
    metadata: record.authorizationServerMetadata,
    allowPrivateNetworks: privateNetworksAllowed(state, record.issuer),
    // A dynamic registration gets one loopback redirect URI per authorization server.
    client:
      client.redirectUris === undefined
        ? client
        : {
            ...client,
            redirectUris: client.redirectUris.map((uri) => redirectUriForIssuer(uri, record.issuer)),
          },
    grantTypes: state.grant.grantTypes(record.authorizationServerMetadata),
    store: state.stores.clients,
    now: state.now(),
  };
}

/** The current binding, or a fresh discovery and client resolution shared by every concurrent caller. */
export function bind(
  state: SessionState,
  resourceMetadataUrl: string | undefined,
  signal: AbortSignal | undefined,
): Promise<Binding> {
  if (state.binding !== undefined) return Promise.resolve(state.binding);
  // Shared by every waiter, so it runs without any one caller's signal (each stops waiting on its own).
  state.bindingInFlight ??= discoverAndRegister(state, resourceMetadataUrl).finally(() => {
    state.bindingInFlight = undefined;
  });
  return abortable(state.bindingInFlight, signal);
}

async function discoverAndRegister(
  state: SessionState,
  resourceMetadataUrl: string | undefined,
): Promise<Binding> {
  const result = await discover(state.http, {
    serverUrl: state.serverUrl,
    allowPrivateNetworks: state.allowPrivateNetworks,
    resourceMetadataUrl,
    selectAuthorizationServer: state.selectAuthorizationServer,
    policyFor: (issuer) => state.authorizationServerPolicies[issuer],
  });
  const record = toRecord(state, result);
  const client =
    state.grant.anonymousClient?.(state, record) ??
    (await resolveClient(state.http, resolveInput(state, record)).catch((error: unknown) => {
      throw record.metadataSource === 'fallback' &&
        isOAuthClientError(error, 'registration_failed') &&
        error.status === 404
        ? noMetadata(record.issuer, error)
        : error;
    }));
  const discovery: DiscoveryRecord = { ...record, clientId: client.clientId };
  await state.stores.discovery.set(state.serverUrl.href, discovery);
  state.binding = { discovery, client };
  state.tokens = await readTokens(state, tokenKeyOf(state.binding));
  return state.binding;
}

/** The server published no OAuth metadata, and the 2025-03-26 default endpoints are not there either. */
function noMetadata(origin: string, cause: OAuthClientError): OAuthClientError {
  return oauthError(
    'discovery_failed',
    `discovery found no OAuth metadata for this server: no protected resource metadata, no authorization server metadata at ${origin}, and the default registration endpoint ${origin}/register answered 404; give the endpoints in authorizationServerPolicies["${origin}"].metadata, or a client in "client.preRegistered"`,
    { cause },
  );
}

function toRecord(state: SessionState, result: DiscoveryResult): DiscoveryRecord {
  // `resource`, and the resource metadata and its URL when there was one.
  const { authorizationServer: server, ...resource } = result;
  return {
    serverUrl: state.serverUrl.href,
    ...resource,
    issuer: server.issuer,
    authorizationServerMetadata: server.metadata,
    metadataSource: server.source,
    discoveredAt: state.now(),
  };
}

/** Forgets the binding (and its discovery record), so the next request discovers again. */
export async function unbind(state: SessionState): Promise<void> {
  state.tokens = undefined;
  state.binding = undefined;
  await state.stores.discovery.delete(state.serverUrl.href);
}

/**
 * Whether the protected resource now names other authorization servers than the binding's
 * (a server migration). Failures to re-read the metadata keep the binding.
 */
export async function authorizationServerChanged(
  state: SessionState,
  binding: Binding,
  resourceMetadataUrl: string | undefined,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  if (binding.discovery.resourceMetadata === undefined) return false;
  try {
    const found = await discoverProtectedResource(state.http, {
      serverUrl: state.serverUrl,
      allowPrivateNetworks: state.allowPrivateNetworks,
      resourceMetadataUrl: resourceMetadataUrl ?? binding.discovery.resourceMetadataUrl,
      signal,
    });
    const servers = found?.metadata.authorization_servers ?? [];
    return servers.length > 0 && !servers.includes(binding.discovery.issuer);
  } catch (error) {
    if (isOAuthClientError(error, 'resource_mismatch') || isOAuthClientError(error, 'unsafe_url'))
      throw error;
    state.logger.debug('session.rediscovery_failed', { code: codeOf(error) });
    return false;
  }
}

/** How the client authenticates at the token and revocation endpoints; `undefined` for an anonymous workload. */
export async function clientAuthentication(
  state: SessionState,
  client: ClientInformation,
): Promise<ClientAuthentication | undefined> {
  if (client.clientId === '') return undefined;
  const method = client.tokenEndpointAuthMethod;
  let signer: ClientAuthentication['signer'];
  if (method === 'private_key_jwt') {
    const key = state.clientKey;
    if (key === undefined) {
      throw oauthError(
        'invalid_options',
        'private_key_jwt needs the "clientKey" option (privateKeyJwt from @mcp-oauth/core/jwt)',
      );
    }
    state.signer ??= key.signer().catch((error: unknown) => {
      state.signer = undefined;
      throw error;
    });
    signer = await state.signer;
  }
  return { clientId: client.clientId, method, clientSecret: client.clientSecret, signer };
}
