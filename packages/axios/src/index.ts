export { createAxiosHttpClient } from './http-client.js';
export { installOAuth, isOAuthRetry } from './interceptors.js';
