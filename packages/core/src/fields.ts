/**
 * Reading the members of a JSON document one by one, each checked by name, so every response
 * parser reports a bad member the same way: `<document> "<member>" <rule>`.
 */
import type { OAuthClientError } from './errors.js';

export function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

/** `record` without its `undefined` members (optional fields are left out, not set to `undefined`). */
export function withoutUndefined<T extends object>(record: { [K in keyof T]: T[K] | undefined }): T {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined)) as T;
}

/** The error for a member that breaks a rule. */
export type FieldFailure = (field: string, rule: string) => OAuthClientError;

/**
 * Optional members of a response body, where JSON `null` reads as absent (RFC 6749 §5.1 and
 * RFC 7591 §3.2 servers send `null` for members they do not set).
 */
export function fieldReader(body: Record<string, unknown>, fail: FieldFailure) {
  const get = (field: string): unknown => body[field] ?? undefined;
  return {
    get,
    /** A non-empty string; `required` makes an absent member an error too. */
    string(field: string, required?: boolean): string | undefined {
      const value = get(field);
      if (value === undefined && !required) return undefined;
      if (!isNonEmptyString(value)) throw fail(field, 'must be a non-empty string');
      return value;
    },
    /** A finite number ≥ 0 (`value`: the member as read, when the caller converted it). */
    number(field: string, value = get(field)): number | undefined {
      if (value === undefined) return undefined;
      if (typeof value !== 'number' || !(value >= 0) || value === Infinity) {
        throw fail(field, 'must be a non-negative number');
      }
      return value;
    },
    /** A list of strings. */
    strings(field: string): string[] | undefined {
      const value = get(field);
      if (value === undefined) return undefined;
      if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
        throw fail(field, 'must be a list of strings');
      }
      return value;
    },
  };
}

/** The `error` and `error_description` of an error body (RFC 6749 §5.2), when it is a JSON object. Never throws. */
export function readErrorBody(response: { readonly body: string }): {
  readonly error?: string | undefined;
  readonly description?: unknown;
} {
  try {
    const body: unknown = JSON.parse(response.body);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return {};
    const { error, error_description: description } = body as Record<string, unknown>;
    return { error: isNonEmptyString(error) ? error : undefined, description };
  } catch {
    return {};
  }
}
