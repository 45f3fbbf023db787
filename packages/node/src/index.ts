export {
  type CallbackServer,
  type CallbackServerOptions,
  startCallbackServer,
  type WaitForCallbackOptions,
} from './callback-server.js';
export {
  type ConsoleLogger,
  type ConsoleLoggerOptions,
  createConsoleLogger,
  type LogLevel,
} from './console-logger.js';
export {
  createEnvironmentProxyFetch,
  type EnvironmentProxy,
  type EnvironmentProxyOptions,
  readEnvironmentProxy,
} from './environment-proxy.js';
export { createFileStores, type FileStores, type FileStoresOptions } from './file-store.js';
export { formatLogEvent } from './log-format.js';
export {
  createLoopbackAuthorizationHandler,
  type LoopbackAuthorization,
  type LoopbackAuthorizationOptions,
} from './loopback-handler.js';
export {
  type BrowserProcess,
  type OpenBrowserOptions,
  type OpenBrowserResult,
  openBrowser,
  type SpawnBrowser,
} from './open-browser.js';
