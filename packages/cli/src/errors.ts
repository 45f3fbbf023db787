/**
 * What the user reads when a command fails: one line naming what went wrong (the engine's
 * messages never hold a secret), the stable error code, and what to do about it.
 */
import { isOAuthClientError } from '@mcp-oauth/core';

export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERRUPTED = 130;

/** A mistake on the command line: the usage of the command follows the message. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A failure the CLI explains itself (not signed in, a tool error, …). */
export class CommandError extends Error {
  override readonly name = 'CommandError';
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

const HINTS: Readonly<Record<string, string>> = {
  authorization_denied: 'The sign-in was denied. Run the command again to retry.',
  authorization_required: 'Sign in first: mcp-oauth login <url>',
  device_code_expired: 'The code expired before it was confirmed. Run the command again for a new one.',
  device_flow_unsupported:
    "The server's authorization server does not offer the device flow: sign in with the browser (leave out --device).",
  device_authorization_failed:
    'The authorization server refused the device flow for this client; sign in with the browser (leave out --device).',
  client_configuration_required:
    'The authorization server offers no way to register this client; it cannot be used with mcp-oauth yet.',
  refresh_failed: 'The stored sign-in could not be renewed. Sign in again: mcp-oauth login <url>',
  store_failed: 'The credential files could not be used; the message names the file.',
  network_error: 'Check the URL and your connection.',
  timeout: 'The server did not answer in time. Try again.',
  unsafe_url: 'Only https URLs are accepted (http only on 127.0.0.1 or localhost).',
  insufficient_scope: 'The server wants more permissions than the sign-in may ask for.',
};

/** The lines printed to stderr for `error`. */
export function describeError(error: unknown, url?: string): string[] {
  const withUrl = (text: string) => (url === undefined ? text : text.replaceAll('<url>', url));
  if (isOAuthClientError(error)) {
    const hint = HINTS[error.code];
    return [
      `mcp-oauth: ${error.message} (${error.code})`,
      ...(error.cause === undefined ? [] : [`  because: ${error.cause.message} (${error.cause.code})`]),
      ...(hint === undefined ? [] : [withUrl(hint)]),
    ];
  }
  if (error instanceof CommandError) {
    return [`mcp-oauth: ${error.message}`, ...(error.hint === undefined ? [] : [withUrl(error.hint)])];
  }
  if (error instanceof UsageError) return [`mcp-oauth: ${error.message}`];
  const message = error instanceof Error ? error.message : String(error);
  return [`mcp-oauth: ${message}`];
}
