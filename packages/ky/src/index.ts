export { createKyHttpClient } from './http-client.js';
export { withOAuth } from './with-oauth.js';
