export { oauthHooks, withOAuth } from './hooks.js';
export { createKyHttpClient } from './http-client.js';
