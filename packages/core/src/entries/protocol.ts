/**
 * The protocol's pieces as build/parse pairs and validators, for applications that drive OAuth
 * themselves. Each `build*` returns a request as plain data; each `parse*` validates a response
 * field by field and throws an `OAuthClientError` with a stable code.
 */
export {
  type AuthorizationRequest,
  type AuthorizationRequestInput,
  createAuthorizationRequest,
} from '../authorize.js';
export { type CallbackParameters, parseCallback, validateCallback } from '../callback.js';
export {
  type AuthChallenge,
  parseWwwAuthenticate,
  type ResourceChallenge,
  readResourceChallenge,
} from '../challenge.js';
export { applyClientAuthentication, type ClientAuthentication, type JwtSigner } from '../client-auth.js';
export { type Decision, type DecisionInput, decide, type HeldTokens } from '../decide.js';
export {
  buildDeviceAuthorizationRequest,
  type DeviceAuthorization,
  type DeviceAuthorizationInput,
  type DeviceUserCode,
  parseDeviceAuthorizationResponse,
  requestDeviceAuthorization,
} from '../device.js';
export {
  type DevicePollOptions,
  type DevicePollResult,
  pollDeviceAuthorization,
  readDevicePollResponse,
} from '../device-poll.js';
export {
  assertPkceSupport,
  type DiscoveryResult,
  discover,
  discoverAuthorizationServerMetadata,
  discoverProtectedResource,
  type ProtectedResourceDiscovery,
  validateAuthorizationServerMetadata,
  validateProtectedResourceMetadata,
} from '../discovery.js';
export { createHttpContext, type HttpContext, sendRequest } from '../http.js';
export { computeCodeChallenge, generateCodeVerifier, generateState } from '../pkce.js';
export { isCrossOrigin, planRedirect, type RedirectHop } from '../redirect-policy.js';
export { buildRegistrationRequest, parseRegistrationResponse, resolveClient } from '../registration.js';
export { buildRevocationRequest, parseRevocationResponse, revokeToken } from '../revoke.js';
export { formatScope, parseScope, selectScopes, unionScopes } from '../scopes.js';
export {
  buildTokenRequest,
  type DpopProofSource,
  GRANT_TYPE_DEVICE_CODE,
  requestToken,
  requestTokenExchange,
  TOKEN_TYPE_ID_JAG,
  TOKEN_TYPE_ID_TOKEN,
  type TokenGrant,
} from '../token.js';
export {
  parseTokenExchangeResponse,
  parseTokenResponse,
  type TokenExchangeResult,
} from '../token-response.js';
export type {
  AuthorizationServerMetadata,
  ProtectedResourceMetadata,
  TokenEndpointAuthMethod,
} from '../types.js';
export { canonicalResourceUrl, isLoopbackHost } from '../url.js';
