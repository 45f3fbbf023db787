/**
 * Canary secrets: every token, code, refresh token and client secret the hostile servers hand out
 * contains `SECRET`. After each case, the error (its message, its causes, `JSON.stringify` and
 * `util.inspect` of each) and every log line must be free of it, and of any other secret the test
 * saw on the wire (a PKCE verifier, a state).
 */
import { inspect } from 'node:util';
import { isOAuthClientError, type OAuthClientErrorCode, type OAuthLogger } from '@mcp-oauth/core';
import { expect } from 'vitest';

export const CANARY = 'SECRET';

export interface RecordingLogger extends OAuthLogger {
  readonly lines: readonly string[];
}

export function createRecordingLogger(): RecordingLogger {
  const lines: string[] = [];
  const record = (level: string) => (event: string, data?: Record<string, unknown>) => {
    lines.push(`${level} ${event} ${JSON.stringify(data ?? {})}`);
  };
  return { lines, debug: record('debug'), warn: record('warn') };
}

/** Every way an application might print the error: its text, JSON and inspection, cause by cause. */
export function renderings(error: unknown): string[] {
  const rendered: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 10; depth++) {
    rendered.push(
      String(current),
      JSON.stringify(current) ?? '',
      inspect(current, { depth: 10 }),
      inspect(current, { depth: 10, showHidden: true }),
    );
    if (typeof current === 'object' && 'message' in current) rendered.push(String(current.message));
    current = (current as { cause?: unknown }).cause;
  }
  return rendered;
}

/** The rejection of `promise`; fails the test when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

/** Asserts that no canary (nor any of `secrets`) appears in the error's renderings or in a log line. */
export function expectNoSecrets(
  error: unknown,
  logger: RecordingLogger,
  secrets: ReadonlyArray<string | undefined> = [],
): void {
  const needles = [CANARY, ...secrets.filter((secret): secret is string => secret !== undefined)];
  const texts = [...(error === undefined ? [] : renderings(error)), ...logger.lines];
  for (const needle of needles) {
    for (const text of texts) expect(text).not.toContain(needle);
  }
}

/** Asserts a typed `OAuthClientError` with `code` that carries no secret. */
export function expectOAuthError(
  error: unknown,
  code: OAuthClientErrorCode,
  logger: RecordingLogger,
  secrets: ReadonlyArray<string | undefined> = [],
): void {
  expect(isOAuthClientError(error), `expected an OAuthClientError, got ${String(error)}`).toBe(true);
  expect((error as { code: string }).code).toBe(code);
  expectNoSecrets(error, logger, secrets);
}

/** The chain of `code`s from the error down its causes. */
export function codeChain(error: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = error;
  while (isOAuthClientError(current)) {
    codes.push(current.code);
    current = current.cause;
  }
  return codes;
}
