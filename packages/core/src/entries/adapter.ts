/**
 * For adapter authors: the per-request object an adapter drives, the pieces an `OAuthHttpClient`
 * over a fetch-like library needs, and redaction of credentials in a library's own objects.
 */
export { readTextWithLimit } from '../body.js';
export { type HeadersInput, readHeader } from '../headers.js';
export {
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_TIMEOUT_MS,
  type OAuthHttpClient,
  type OAuthHttpRequest,
  type OAuthHttpResponse,
  type RedirectPolicy,
} from '../http.js';
export {
  isCredentialHeader,
  REDACTED,
  redactCredentialHeaders,
  redactRawHeaders,
  redactSentRequest,
} from '../redaction.js';
export { CREDENTIAL_HEADER_NAMES, MAX_REDIRECTS } from '../redirect-policy.js';
export { carryOut, type StepTransport, stepHeaders } from '../session/carry-out.js';
export {
  attachSession,
  type OAuthSessionInput,
  sessionFromInput,
  type WithOAuthSession,
} from '../session/input.js';
export type {
  NextStep,
  ResourceRequest,
  ResourceRequestInit,
  ResourceResponse,
  SendStep,
} from '../session/resource-request.js';
export { KeyedQueue } from '../stores.js';
