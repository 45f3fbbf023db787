export { type OAuthHooks, oauthHooks, withOAuth } from './hooks.js';
export { createGotHttpClient } from './http-client.js';
