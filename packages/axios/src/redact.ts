import {
  CREDENTIAL_HEADER_NAMES,
  REDACTED,
  redactCredentialHeaders,
  redactRawHeaders,
} from '@mcp-oauth/core/adapter';
import type { AxiosResponse, InternalAxiosRequestConfig } from 'axios';

type Holder = { config?: unknown; request?: unknown; response?: AxiosResponse };

/**
 * Gives a response or an `AxiosError` the caller's own config in place of the one that was sent
 * (which carried the credentials), and redacts the credentials its request objects kept.
 */
export function scrub<T>(target: T, config: InternalAxiosRequestConfig): T {
  if (typeof target !== 'object' || target === null) return target;
  const holder = target as T & Holder;
  if ('config' in holder) holder.config = config;
  redactRequest(holder.request);
  if (holder.response !== undefined) {
    holder.response.config = config;
    redactRequest(holder.response.request);
  }
  return holder;
}

/**
 * Node's `ClientRequest` keeps the raw head it wrote (`_header`, and `outputData` until a socket
 * takes it), the headers it was given (`[kOutHeaders]`: lower-case name → [name, value]) and, while
 * it waits for a socket, its options (`[requestOptions]`); the fetch adapter's `Request`, its headers.
 */
function redactRequest(request: unknown): void {
  if (typeof request !== 'object' || request === null) return;
  const sent = request as { _header?: unknown; outputData?: unknown; headers?: unknown };
  if (typeof sent._header === 'string') sent._header = redactRawHeaders(sent._header);
  for (const chunk of Array.isArray(sent.outputData) ? (sent.outputData as { data?: unknown }[]) : []) {
    if (typeof chunk.data === 'string') chunk.data = redactRawHeaders(chunk.data);
  }
  redactCredentialHeaders(sent.headers);
  for (const key of Object.getOwnPropertySymbols(request)) {
    const value = (request as Record<symbol, Record<string, unknown[] | undefined> | null | undefined>)[key];
    if (key.description === 'kOutHeaders') {
      for (const name of CREDENTIAL_HEADER_NAMES) value?.[name]?.splice(1, 1, REDACTED);
    } else redactCredentialHeaders(value?.headers);
  }
}
