/**
 * Test helpers shared by the protocol modules' tests: catching the typed error an operation must
 * fail with, checking that nothing secret is in it, and a JSON response for the fake HTTP client.
 */
import { inspect } from 'node:util';
import { expect } from 'vitest';
import { isOAuthClientError, type OAuthClientError } from '../errors.js';
import type { OAuthHttpResponse } from '../http.js';

/** The `OAuthClientError` that `promise` rejects with (the test fails on anything else). */
export async function catchAsync(promise: Promise<unknown>): Promise<OAuthClientError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(isOAuthClientError(error), String(error)).toBe(true);
  return error as OAuthClientError;
}

/** The `OAuthClientError` that `action` throws (the test fails on anything else). */
export function catchError(action: () => unknown): OAuthClientError {
  try {
    action();
  } catch (error) {
    expect(isOAuthClientError(error), String(error)).toBe(true);
    return error as OAuthClientError;
  }
  throw new Error('expected an error');
}

/** No text the value shows (its message, string, JSON and inspection, and its cause's) holds `SECRET`. */
export function expectNoSecret(value: unknown): void {
  const shown = [String(value), JSON.stringify(value) ?? '', inspect(value, { depth: 5 })];
  if (isOAuthClientError(value)) shown.push(value.message);
  for (const text of shown) expect(text).not.toContain('SECRET');
  if (isOAuthClientError(value) && value.cause !== undefined) expectNoSecret(value.cause);
}

/** A JSON response as the fake HTTP client hands it over. */
export function json(body: unknown, status = 200, headers: Record<string, string> = {}): OAuthHttpResponse {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}
