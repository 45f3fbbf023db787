/** Wire types keep the specifications' snake_case; the engine's own records are camelCase. */

/** RFC 9728 Protected Resource Metadata, after validation. */
export interface ProtectedResourceMetadata {
  readonly resource: string;
  readonly authorization_servers?: readonly string[];
  readonly scopes_supported?: readonly string[];
  readonly bearer_methods_supported?: readonly string[];
  readonly resource_name?: string;
  readonly dpop_signing_alg_values_supported?: readonly string[];
  readonly dpop_bound_access_tokens_required?: boolean;
  readonly [extension: string]: unknown;
}

/** RFC 8414 / OpenID Connect Discovery metadata, after validation. */
export interface AuthorizationServerMetadata {
  readonly issuer: string;
  readonly authorization_endpoint?: string;
  readonly token_endpoint?: string;
  readonly registration_endpoint?: string;
  readonly revocation_endpoint?: string;
  readonly introspection_endpoint?: string;
  readonly jwks_uri?: string;
  /** RFC 8628 §4. */
  readonly device_authorization_endpoint?: string;
  readonly scopes_supported?: readonly string[];
  readonly response_types_supported?: readonly string[];
  readonly grant_types_supported?: readonly string[];
  readonly code_challenge_methods_supported?: readonly string[];
  readonly token_endpoint_auth_methods_supported?: readonly string[];
  readonly token_endpoint_auth_signing_alg_values_supported?: readonly string[];
  readonly revocation_endpoint_auth_methods_supported?: readonly string[];
  readonly authorization_response_iss_parameter_supported?: boolean;
  readonly client_id_metadata_document_supported?: boolean;
  readonly dpop_signing_alg_values_supported?: readonly string[];
  readonly [extension: string]: unknown;
}

/** How the engine found the authorization server's metadata. */
export type MetadataSource = 'oauth' | 'openid' | 'fallback' | 'configured';

export interface DiscoveredAuthorizationServer {
  readonly issuer: string;
  readonly metadata: AuthorizationServerMetadata;
  readonly source: MetadataSource;
}

export type TokenEndpointAuthMethod =
  | 'none'
  | 'client_secret_basic'
  | 'client_secret_post'
  | 'private_key_jwt';

/** A client identity bound to one authorization server (by issuer). */
export interface ClientInformation {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret?: string;
  /** Seconds since the epoch; `0` or absent means it does not expire (RFC 7591 §3.2.1). */
  readonly clientSecretExpiresAt?: number;
  readonly tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  readonly redirectUris: readonly string[];
  /** The grant types a dynamic registration was made for; absent when unknown. */
  readonly grantTypes?: readonly string[];
  readonly source: 'pre-registered' | 'metadata-document' | 'dynamic';
  readonly registrationAccessToken?: string;
  readonly registrationClientUri?: string;
}

/** Tokens for one (issuer, resource, client). Times are milliseconds since the epoch. */
export interface TokenSet {
  readonly accessToken: string;
  readonly tokenType: 'Bearer' | 'DPoP';
  readonly expiresAt?: number;
  readonly refreshToken?: string;
  /** Scopes the server granted (its `scope` field, or the requested scopes when it echoed none). */
  readonly grantedScopes: readonly string[];
  /** Scopes this client asked for when the tokens were obtained. */
  readonly requestedScopes: readonly string[];
  readonly issuedAt: number;
  readonly idToken?: string;
}

/** A started authorization, kept until the callback arrives. */
export interface PendingAuthorization {
  readonly state: string;
  readonly codeVerifier: string;
  readonly issuer: string;
  readonly resource: string;
  readonly serverUrl: string;
  readonly clientId: string;
  readonly redirectUri: string;
  readonly scopes: readonly string[];
  /** Whether the issuer's metadata set `authorization_response_iss_parameter_supported` (RFC 9207). */
  readonly issParameterSupported: boolean;
  readonly createdAt: number;
  readonly expiresAt: number;
}
