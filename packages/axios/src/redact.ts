import { redactSentRequest } from '@mcp-oauth/core/adapter';
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
  redactSentRequest(holder.request);
  if (holder.response !== undefined) {
    holder.response.config = config;
    redactSentRequest(holder.response.request);
  }
  return holder;
}
