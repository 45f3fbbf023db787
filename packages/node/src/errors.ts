import { OAuthClientError } from '@mcp-oauth/core';

/** The `code` of a Node system error (`ENOENT`, `EEXIST`, …), when there is one. */
export function systemErrorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** A store failure. Messages may name a store file (its path holds no secret), never its content. */
export function storeFailed(message: string, error?: unknown): OAuthClientError {
  const code = systemErrorCode(error);
  return new OAuthClientError('store_failed', code === undefined ? message : `${message} (${code})`);
}
