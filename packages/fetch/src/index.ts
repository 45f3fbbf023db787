export {
  createMcpAuthProvider,
  type InsufficientScopeChallenge,
  type McpAuthProvider,
} from './auth-provider.js';
export { createFetchHttpClient } from './http-client.js';
export { withOAuth } from './with-oauth.js';
