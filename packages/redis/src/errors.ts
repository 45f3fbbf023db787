import { OAuthClientError } from '@mcp-oauth/core';

/**
 * A store failure. Messages name Redis keys (hashes and the prefix: no secret) and, for a failed
 * command, only the kind of failure (`ECONNREFUSED`, `SocketClosedUnexpectedlyError`, the leading
 * word of a Redis error such as `NOAUTH`), never a value, a token or a Redis error's full text.
 */
export function storeFailed(message: string, error?: unknown): OAuthClientError {
  const kind = error === undefined ? undefined : describeRedisError(error);
  return new OAuthClientError('store_failed', kind === undefined ? message : `${message} (${kind})`);
}

/** A short, secret-free name for what went wrong, or undefined when there is none to give. */
export function describeRedisError(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && /^E[A-Z0-9_]{1,31}$/.test(code)) return code;
  if (isReplyError(error)) return replyErrorPrefix(error);
  const name = (error as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === 'string' && /^[A-Za-z]{1,48}Error$/.test(name) && name !== 'Error'
    ? name
    : undefined;
}

/** An error Redis itself answered with (node-redis: `ErrorReply` and its subclasses). */
export function isReplyError(error: unknown): boolean {
  let prototype: unknown = typeof error === 'object' && error !== null ? Object.getPrototypeOf(error) : null;
  while (prototype !== null && prototype !== Error.prototype && prototype !== Object.prototype) {
    const name = (prototype as { constructor?: { name?: unknown } }).constructor?.name;
    if (name === 'ErrorReply' || name === 'ReplyError') return true;
    prototype = Object.getPrototypeOf(prototype);
  }
  return false;
}

/** The leading upper-case word of a Redis error (`NOSCRIPT`, `LOADING`, `WRONGTYPE`, `NOAUTH`…). */
export function replyErrorPrefix(error: unknown): string | undefined {
  const message = (error as { message?: unknown }).message;
  if (typeof message !== 'string') return undefined;
  return /^([A-Z][A-Z_-]{1,31})(?:\s|$)/.exec(message)?.[1];
}
