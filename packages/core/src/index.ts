export {
  AUTHORIZATION_HEADER_NAMES,
  type AuthorizedExchange,
  exchangeWithAuthorization,
  isCrossOrigin,
  MAX_REDIRECTS,
  type ObservedResponse,
  planRedirect,
  type RedirectPlan,
  readTextWithLimit,
  requestNotReplayable,
} from './adapter.js';
export {
  type AuthorizationRequest,
  type AuthorizationRequestInput,
  createAuthorizationRequest,
} from './authorize.js';
export { type CallbackParameters, parseCallback, validateCallback } from './callback.js';
export {
  type AuthChallenge,
  parseWwwAuthenticate,
  type ResourceChallenge,
  readResourceChallenge,
} from './challenge.js';
export { applyClientAuthentication, type ClientAuthentication } from './client-auth.js';
export { type Decision, type DecisionInput, decide, type HeldTokens } from './decide.js';
export {
  type AuthorizationServerPolicy,
  type AuthorizationServerSelector,
  assertPkceSupport,
  type DiscoveryResult,
  discover,
  discoverAuthorizationServerMetadata,
  discoverProtectedResource,
  type ProtectedResourceDiscovery,
  validateAuthorizationServerMetadata,
  validateProtectedResourceMetadata,
} from './discovery.js';
export {
  computeJwkThumbprint,
  createDpopProof,
  type DpopKey,
  DpopNonceStore,
  exportDpopKey,
  generateDpopKey,
  importDpopKey,
} from './dpop.js';
export {
  createIdJagAssertion,
  createIdJagRequester,
  ID_JAG_JWT_TYPE,
  type IdentityAssertionSupplier,
  type IdentityProviderClient,
  type IdentityProviderOptions,
  type IdJagOptions,
  type IdJagTarget,
  type JwtBearerAssertionCallback,
  requestIdJag,
  TOKEN_TYPE_SAML2,
} from './enterprise.js';
export {
  AuthorizationRequiredError,
  isOAuthClientError,
  OAUTH_CLIENT_ERROR_CODES,
  OAuthClientError,
  type OAuthClientErrorCode,
} from './errors.js';
export { type HeadersInput, readHeader } from './headers.js';
export {
  createHttpContext,
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_TIMEOUT_MS,
  type HttpContext,
  type OAuthHttpClient,
  type OAuthHttpRequest,
  type OAuthHttpResponse,
  type RedirectPolicy,
  sendRequest,
} from './http.js';
export {
  importSigningKey,
  type PrivateKeyInput,
  type SigningAlgorithm,
  type SigningKey,
  signJwt,
} from './jwt.js';
export { type OAuthLogger, silentLogger } from './logger.js';
export { computeCodeChallenge, generateCodeVerifier, generateState } from './pkce.js';
export {
  type ClientOptions,
  type PreRegisteredClient,
  resolveClient,
} from './registration.js';
export { revokeToken } from './revoke.js';
export { formatScope, parseScope, selectScopes, unionScopes } from './scopes.js';
export {
  type AuthorizationHandler,
  type CallbackInput,
  type GrantOptions,
  OAuthSession,
  type OAuthSessionOptions,
  type RefreshScopePolicy,
  type RequestInfo,
  type ResponseInfo,
  type TokenInfo,
} from './session.js';
export {
  createMemoryStores,
  type DiscoveryRecord,
  KeyedQueue,
  MemoryPendingAuthorizationStore,
  MemoryStore,
  MemoryTokenStore,
  type OAuthStore,
  type OAuthStores,
  type PendingAuthorizationStore,
  type StoredTokens,
  type TokenStore,
  tokenKey,
} from './stores.js';
export {
  buildTokenRequest,
  parseTokenExchangeResponse,
  parseTokenResponse,
  requestToken,
  requestTokenExchange,
  TOKEN_TYPE_ID_JAG,
  TOKEN_TYPE_ID_TOKEN,
  type TokenExchangeResult,
  type TokenGrant,
} from './token.js';
export type {
  AuthorizationServerMetadata,
  ClientInformation,
  PendingAuthorization,
  ProtectedResourceMetadata,
  TokenEndpointAuthMethod,
  TokenSet,
} from './types.js';
export { canonicalResourceUrl, isLoopbackHost } from './url.js';
