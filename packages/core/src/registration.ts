/**
 * Client registration, as the rest of core and the entry points use it. The parts live in
 * `registration/`: `client-options.ts` (the options and their checks), `auth-method.ts` (the token
 * endpoint authentication method), `dynamic-registration.ts` (RFC 7591 request and response),
 * `stored-client.ts` (judging a stored registration) and `resolve-client.ts` (which client identity
 * to use with an issuer: pre-registered, stored, metadata document, or a new registration).
 */
export { chooseTokenEndpointAuthMethod, isAuthMethod } from './registration/auth-method.js';
export type { ClientOptions, PreRegisteredClient } from './registration/client-options.js';
export { buildRegistrationRequest, parseRegistrationResponse } from './registration/dynamic-registration.js';
export { type ResolveClientInput, resolveClient } from './registration/resolve-client.js';
export { coversGrantTypes, isClientRecord } from './registration/stored-client.js';
