/**
 * What an application uses. Adapter authors import `@mcp-oauth/core/adapter`; the protocol's
 * build/parse pairs are in `@mcp-oauth/core/protocol`; DPoP (`/dpop`), `private_key_jwt` signing
 * (`/jwt`) and ID-JAG (`/enterprise`) are opt-in modules, so an application that does not use
 * them does not ship them.
 */
export type { AuthorizationServerPolicy, AuthorizationServerSelector } from './discovery.js';
export {
  AuthorizationRequiredError,
  isOAuthClientError,
  OAUTH_CLIENT_ERROR_CODES,
  OAuthClientError,
  type OAuthClientErrorCode,
} from './errors.js';
export type { OAuthHttpClient, OAuthHttpRequest, OAuthHttpResponse, RedirectPolicy } from './http.js';
export { type OAuthLogEvent, type OAuthLogEvents, type OAuthLogger, silentLogger } from './logger.js';
export type { ClientOptions, PreRegisteredClient } from './registration.js';
export type { AuthorizationHandler, CallbackInput } from './session/authorization-code.js';
export type { ClientKey } from './session/client-key.js';
export type { DpopSupport } from './session/dpop-support.js';
export type { OAuthSessionInput, WithOAuthSession } from './session/input.js';
export type { GrantOptions, OAuthSessionOptions, RefreshScopePolicy } from './session/options.js';
export { OAuthSession, type TokenInfo } from './session/session.js';
export {
  createMemoryStores,
  type DiscoveryRecord,
  type OAuthStore,
  type OAuthStores,
  type PendingAuthorizationStore,
  type StoredTokens,
  type TokenStore,
  tokenKey,
} from './stores.js';
export type { ClientInformation, PendingAuthorization, TokenSet } from './types.js';
