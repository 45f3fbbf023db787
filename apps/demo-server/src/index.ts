export {
  approveAuthorization,
  type DeviceDecisionOptions,
  decideDeviceAuthorization,
  type FollowAuthorizationOptions,
  followAuthorization,
} from './headless.js';
export { ADMIN_STATS_TOOL, ECHO_TOOL } from './mcp-tools.js';
export type {
  ConfidentialClient,
  ConsentRequest,
  DemoEndpoint,
  DemoRequestEvent,
  DemoServerOptions,
} from './options.js';
export { ADMIN_SCOPE, OFFLINE_ACCESS_SCOPE, TOOLS_SCOPE } from './scopes.js';
export { type DemoServer, startDemoServer } from './start.js';
export type { DemoServerStats } from './stats.js';
