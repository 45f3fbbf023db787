/**
 * Records read back from the stores, held to the rules a fresh discovery, registration or token
 * response is held to: a record edited on disk or in a shared store is reported (`store_failed`),
 * never used to send a token or a secret anywhere the engine would not have sent it.
 */
import { validateAuthorizationServerMetadata, validateProtectedResourceMetadata } from '../discovery.js';
import { oauthError } from '../errors.js';
import { isNonEmptyString } from '../fields.js';
import { assertNoMorePrivateNetwork } from '../network.js';
import { isClientRecord } from '../registration.js';
import type { DiscoveryRecord, StoredTokens } from '../stores.js';
import type { ClientInformation } from '../types.js';
import { allowsLoopbackHttp, assertSafeUrl } from '../url.js';
import type { SessionState } from './state.js';

/** The application's permission for private networks: for the whole session, or for `issuer`. */
export function privateNetworksAllowed(state: SessionState, issuer: string): boolean {
  return (
    state.allowPrivateNetworks || state.authorizationServerPolicies[issuer]?.allowPrivateNetworks === true
  );
}

function tampered(what: string): never {
  throw oauthError(
    'store_failed',
    `the ${what} store holds a record for this server that fails validation; delete it to discover again`,
  );
}

/**
 * A discovery record read back from a store, held to the rules fresh discovery applies: the same
 * MCP server, a safe issuer, authorization server metadata that validates against that issuer
 * (safe endpoints), and resource metadata that names this server. A record edited on disk can
 * therefore not send a token or a secret anywhere discovery would not have.
 */
export function checkDiscoveryRecord(state: SessionState, value: unknown): DiscoveryRecord {
  const { serverUrl, authorizationServerPolicies } = state;
  const record = value as DiscoveryRecord;
  try {
    const { issuer, resource, resourceMetadata } = record;
    if (record.serverUrl !== serverUrl.href || !['undefined', 'string'].includes(typeof record.clientId))
      throw 0;
    // Endpoints the application gave by hand are its own word; everything else is held to the
    // rules fresh discovery applies, private networks included.
    const allowPrivateNetworks =
      privateNetworksAllowed(state, issuer) || record.metadataSource === 'configured';
    const allowLoopbackHttp = allowsLoopbackHttp(serverUrl) || allowPrivateNetworks;
    // Each URL is no more private than the one it was learned from.
    const checked = (url: unknown, what: string, learnedFrom: URL) => {
      const safe = assertSafeUrl(url, { what, allowLoopbackHttp });
      assertNoMorePrivateNetwork(safe, { what, learnedFrom, allowPrivateNetworks });
      return safe;
    };
    const documentUrl =
      typeof record.resourceMetadataUrl === 'string'
        ? checked(record.resourceMetadataUrl, 'stored resource_metadata', serverUrl)
        : serverUrl;
    checked(issuer, 'stored issuer', documentUrl);
    const metadata = validateAuthorizationServerMetadata(
      record.authorizationServerMetadata as unknown as Record<string, unknown>,
      {
        expectedIssuer: issuer,
        allowIssuerMismatch: authorizationServerPolicies[issuer]?.allowIssuerMismatch,
        allowLoopbackHttp,
        allowPrivateNetworks,
      },
    );
    if (resourceMetadata === undefined) {
      assertSafeUrl(resource, { what: 'stored resource', allowLoopbackHttp });
    } else if (
      validateProtectedResourceMetadata(resourceMetadata as unknown as Record<string, unknown>, serverUrl, {
        documentUrl,
        allowPrivateNetworks,
      }).resource !== resource ||
      !resourceMetadata.authorization_servers?.includes(issuer)
    ) {
      throw 0;
    }
    return { ...record, authorizationServerMetadata: metadata };
  } catch {
    // Anything wrong, a field of the wrong type included, is the same finding.
    return tampered('discovery');
  }
}

/** A client registration read back from a store: the issuer it is filed under, and well-formed fields. */
export function checkClientRecord(state: SessionState, value: unknown, issuer: string): ClientInformation {
  const client = value as ClientInformation;
  try {
    if (!isClientRecord(client) || client.issuer !== issuer) throw 0;
    if (client.registrationClientUri !== undefined) {
      assertSafeUrl(client.registrationClientUri, {
        what: 'stored registration_client_uri',
        allowLoopbackHttp: allowsLoopbackHttp(state.serverUrl),
      });
    }
    return client;
  } catch {
    return tampered('client');
  }
}

/** A token record from the store, checked field by field: a damaged store is reported, not used. */
export async function readTokens(state: SessionState, key: string): Promise<StoredTokens | undefined> {
  const stored: unknown = await state.stores.tokens.get(key);
  if (stored === undefined) return undefined;
  if (!isStoredTokens(stored)) {
    throw oauthError(
      'store_failed',
      'the token store holds a malformed record for this server; delete it to authorize again',
    );
  }
  return stored;
}

const isStringArray = (value: unknown) =>
  Array.isArray(value) && value.every((item) => typeof item === 'string');
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null;

function isStoredTokens(value: unknown): value is StoredTokens {
  if (!isObject(value)) return false;
  const { accessToken, tokenType, dpopKey: key } = value;
  const optional = (field: unknown, type: string) =>
    field === undefined || (typeof field === type && (type !== 'number' || Number.isFinite(field)));
  return (
    isNonEmptyString(accessToken) &&
    (tokenType === 'Bearer' || (tokenType === 'DPoP' && key !== undefined)) &&
    optional(value.expiresAt, 'number') &&
    optional(value.refreshToken, 'string') &&
    optional(value.idToken, 'string') &&
    isStringArray(value.grantedScopes) &&
    isStringArray(value.requestedScopes) &&
    typeof value.issuedAt === 'number' &&
    (key === undefined || (isObject(key) && isObject(key.publicJwk) && isObject(key.privateJwk)))
  );
}
