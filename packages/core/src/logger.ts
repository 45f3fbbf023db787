/**
 * Structured, opt-in logging. Every event the engine emits is listed in {@link OAuthLogEvents}
 * with the shape of its data, which holds only non-secret facts: URLs without query, issuers,
 * scopes, status codes, counts, error codes.
 */

type Url = string;

/** Each event name and its data. */
export interface OAuthLogEvents {
  'http.request': { method: string; url: Url };
  'discovery.prm.candidate': { url: Url };
  'discovery.prm.absent': { url: Url; status: number };
  'discovery.prm.failed': { url: Url; code: string; status?: number | undefined };
  'discovery.prm.found': { url: Url };
  'discovery.as.candidate': { url: Url };
  'discovery.as.absent': { url: Url; status: number };
  'discovery.as.failed': { url: Url; code: string; status?: number | undefined };
  'discovery.as.found': { url: Url; issuer: string; source: string };
  'discovery.as.rejected': { issuer: string; code: string };
  'discovery.as.default_endpoints': { issuer: string };
  'discovery.legacy_fallback': { serverUrl: Url };
  'discovery.legacy_issuer_accepted': { issuer: string };
  'discovery.pkce_metadata_missing': { issuer: string };
  'discovery.issuer_mismatch_allowed': { expected: string; actual: string };
  'discovery.response_type_code_missing': { issuer: string };
  'registration.pre_registered': { issuer: string; client_id: string };
  'registration.reused': { issuer: string; client_id: string };
  'registration.stored_unusable': { issuer: string; reason: string };
  'registration.metadata_document': { issuer: string; client_id: string };
  'registration.dynamic': { issuer: string; client_id: string };
  'registration.secret_expiry_missing': { issuer: string };
  'token.request': { grant: string; endpoint: Url; dpop: boolean; attempt: number };
  'token.response': { grant: string; status: number };
  'token.dpop_nonce_retry': { endpoint: Url };
  'token.revoke': { endpoint: Url; hint: string | undefined };
  'device.authorization_request': { endpoint: Url };
  'device.authorization_issued': { expiresInSeconds: number; intervalSeconds: number; verificationUri: Url };
  'device.pending': { poll: number };
  'device.slow_down': { intervalMs: number };
  'device.poll_failed': { code?: string; status?: number; intervalMs: number };
  'device.authorized': { polls: number };
  'enterprise.id_jag_issued': { audience: string; scopes: readonly string[] };
  'session.decision': { status: number; decision: string; error: string | undefined; retries: number };
  'session.outside_scope': { status: number; url: Url; reason: 'origin' | 'path' };
  'session.authorization_started': { issuer: string; scopes: readonly string[] };
  'session.authorized': { issuer: string; scopes: readonly string[] };
  'session.step_up': { scopes: readonly string[]; recent: number };
  'session.refresh': { issuer: string };
  'session.refresh_token_rejected': { issuer: string };
  'session.renewal_failed_token_still_valid': { code: string };
  'session.authorization_server_changed': { from: string };
  'session.rediscovery_failed': { code: string };
  'session.revocation_failed': { hint: string; code: string };
}

export type OAuthLogEvent = keyof OAuthLogEvents;

export interface OAuthLogger {
  debug<E extends OAuthLogEvent>(event: E, data: OAuthLogEvents[E]): void;
  warn<E extends OAuthLogEvent>(event: E, data: OAuthLogEvents[E]): void;
}

export const silentLogger: OAuthLogger = {
  debug() {},
  warn() {},
};

/** `logger` with every call guarded: a logger that throws can neither break a flow nor leak through it. */
export function safeLogger(logger: OAuthLogger): OAuthLogger {
  return {
    debug(event, data) {
      try {
        logger.debug(event, data);
      } catch {
        // A broken logger loses the line, never the request.
      }
    },
    warn(event, data) {
      try {
        logger.warn(event, data);
      } catch {
        // As above.
      }
    },
  };
}
