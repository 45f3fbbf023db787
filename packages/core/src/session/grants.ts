/**
 * Grant strategies: how the session obtains a new grant, one object per grant type, so nothing
 * else in the session branches on the grant. The authorization code strategy lives in
 * `authorization-code.ts`; the device authorization grant in `device-code.ts`, an opt-in module
 * that hands its strategy over in the `grant` option.
 */
import { oauthError } from '../errors.js';
import { selectScopes } from '../scopes.js';
import type { DiscoveryRecord, StoredTokens } from '../stores.js';
import { GRANT_TYPE_JWT_BEARER } from '../token.js';
import type { AuthorizationServerMetadata, ClientInformation } from '../types.js';
import { authorizationCodeGrant } from './authorization-code.js';
import type { GrantOptions } from './options.js';
import { requestTokens } from './renewal.js';
import type { Binding, SessionState } from './state.js';

export interface GrantRequest {
  /** Scopes to ask for; when absent, chosen from the challenge, the metadata and the options. */
  readonly scopes?: readonly string[] | undefined;
  /** Scopes a `401` challenge named, used when `scopes` is absent. */
  readonly challengeScopes?: readonly string[] | undefined;
  readonly signal: AbortSignal | undefined;
}

export interface GrantStrategy {
  /** Needs the user (so a token without a refresh token cannot be renewed silently). */
  readonly interactive: boolean;
  /** The `grant_types` a registration asks for. */
  grantTypes(metadata: AuthorizationServerMetadata): string[];
  /** Runs the grant under `binding` for `scopes` and stores the tokens. */
  obtain(
    state: SessionState,
    binding: Binding,
    scopes: readonly string[],
    signal: AbortSignal | undefined,
  ): Promise<StoredTokens>;
  /** A client that needs no registration (a workload presenting only its assertion). */
  anonymousClient?(state: SessionState, record: DiscoveryRecord): ClientInformation | undefined;
}

/**
 * A grant an opt-in module provides (`deviceCode()` from `@mcp-oauth/core/device`): it carries the
 * strategy that runs it, so the session ships no code for grants it is not given.
 */
export interface ModuleGrant<T extends string> {
  readonly type: T;
  /** @internal How the session runs the grant. */
  readonly strategy: GrantStrategy;
}

/** The scopes for a new grant (RFC 6749 §3.3 and the MCP scope selection order). */
export function chooseScopes(
  state: SessionState,
  binding: Binding,
  challengeScopes: readonly string[],
): string[] {
  return selectScopes({
    explicit: state.scopes,
    challenge: challengeScopes.length > 0 ? challengeScopes : undefined,
    resourceMetadataScopes: binding.discovery.resourceMetadata?.scopes_supported,
    authorizationServerScopes: binding.discovery.authorizationServerMetadata.scopes_supported,
    fallbackToAuthorizationServer: state.scopeFallback.authorizationServer,
    defaults: state.scopeFallback.defaults,
    offlineAccess:
      state.grant.interactive &&
      state.grant.grantTypes(binding.discovery.authorizationServerMetadata).includes('refresh_token'),
  });
}

/** Runs the session's grant under `binding`; scopes are chosen when the request names none. */
export function obtainGrant(
  state: SessionState,
  binding: Binding,
  request: GrantRequest,
): Promise<StoredTokens> {
  const scopes = request.scopes ?? chooseScopes(state, binding, request.challengeScopes ?? []);
  return state.grant.obtain(state, binding, scopes, request.signal);
}

const clientCredentialsGrant: GrantStrategy = {
  interactive: false,
  grantTypes: () => ['client_credentials'],
  obtain: (state, binding, scopes, signal) =>
    requestTokens(state, binding, { type: 'client_credentials', scopes }, scopes, undefined, signal),
};

function jwtBearerGrant(options: Extract<GrantOptions, { type: 'jwt_bearer' }>): GrantStrategy {
  return {
    interactive: false,
    grantTypes: () => [GRANT_TYPE_JWT_BEARER],
    async obtain(state, binding, scopes, signal) {
      const { issuer, resource } = binding.discovery;
      const assertion = await options.assertion({ issuer, resource, signal });
      if (typeof assertion !== 'string' || assertion.length === 0) {
        throw oauthError(
          'invalid_options',
          'the jwt-bearer assertion callback must return a non-empty string',
        );
      }
      return requestTokens(
        state,
        binding,
        { type: 'jwt_bearer', assertion, scopes },
        scopes,
        undefined,
        signal,
      );
    },
    /**
     * The jwt-bearer grant registers nothing: without pre-registered credentials for this issuer the
     * workload presents only its assertion (RFC 7523 §2.1), under an empty client id.
     */
    anonymousClient(state, record) {
      if (state.client.preRegistered?.some((entry) => entry.issuer === record.issuer)) return undefined;
      return {
        issuer: record.issuer,
        clientId: '',
        tokenEndpointAuthMethod: 'none',
        redirectUris: [],
        source: 'pre-registered',
      };
    },
  };
}

export function grantStrategy(options: GrantOptions): GrantStrategy {
  switch (options.type) {
    case 'client_credentials':
      return clientCredentialsGrant;
    case 'jwt_bearer':
      return jwtBearerGrant(options);
    case 'device_code':
      return options.strategy;
    default:
      return authorizationCodeGrant;
  }
}
