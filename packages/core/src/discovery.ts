/**
 * Discovery, as the rest of core and the entry points use it. The steps live in `discovery/`:
 * `protected-resource.ts` (RFC 9728), `authorization-server.ts` (RFC 8414 / OpenID Connect
 * Discovery, the issuer and PKCE checks), `documents.ts` (fetching a document from candidate URLs,
 * checking members by kind) and `discover.ts` (the whole discovery for one MCP server).
 */
export {
  assertPkceSupport,
  discoverAuthorizationServerMetadata,
  validateAuthorizationServerMetadata,
} from './discovery/authorization-server.js';
export {
  type AuthorizationServerPolicy,
  type AuthorizationServerSelector,
  type DiscoveryResult,
  discover,
} from './discovery/discover.js';
export {
  discoverProtectedResource,
  type ProtectedResourceDiscovery,
  validateProtectedResourceMetadata,
} from './discovery/protected-resource.js';
