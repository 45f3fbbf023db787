/**
 * Structured, opt-in logging. Events are stable names (`discovery.prm.fetched`, `decision`, …) and
 * `data` holds only non-secret facts: URLs without query, issuers, scopes, status codes, counts.
 */
export interface OAuthLogger {
  debug(event: string, data?: Record<string, unknown>): void;
  warn(event: string, data?: Record<string, unknown>): void;
}

export const silentLogger: OAuthLogger = {
  debug() {},
  warn() {},
};
