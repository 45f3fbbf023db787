/**
 * Helpers for the parsers' property tests (fast-check): hostile field values, a cheap check for
 * hot property bodies, and a tally proving that a property exercised both acceptance and refusal.
 */
import fc from 'fast-check';
import { beforeEach, expect } from 'vitest';
import { isOAuthClientError, OAuthClientError } from '../errors.js';
import type { OAuthHttpResponse } from '../http.js';

/** A cheap assertion for hot property bodies (vitest's `expect` costs more than the parsers). */
export function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`property violated: ${what}`);
}

/** Values a hostile server puts where a field belongs, some carrying text no message may repeat. */
export const hostile = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.string({ maxLength: 10 }).map((text) => `SECRET${text}`),
  fc.constantFrom('', null, 0, -1, true, [], {}),
);

/** A field that is mostly well-formed, sometimes hostile, sometimes absent. */
export function field(valid: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 16, arbitrary: valid }, { weight: 1, arbitrary: hostile });
}

/**
 * Counts, per test, the parses accepted and refused. `typedOutcome` runs a parse: anything it
 * throws must be an engine error whose message repeats no hostile text. `expectBothOutcomes` then
 * requires both branches, since a property that only ever refuses (or accepts) proves little.
 */
export function outcomeTally() {
  const tally = { accepted: 0, refused: 0 };
  beforeEach(() => {
    tally.accepted = 0;
    tally.refused = 0;
  });
  return {
    typedOutcome<T>(parse: () => T): T | OAuthClientError {
      try {
        const result = parse();
        tally.accepted++;
        return result;
      } catch (error) {
        tally.refused++;
        if (!(error instanceof OAuthClientError) || !isOAuthClientError(error)) throw error;
        check(!error.message.includes('SECRET'), 'the message repeats hostile text');
        return error;
      }
    },
    expectBothOutcomes(numRuns: number): void {
      expect(tally.accepted).toBeGreaterThan(numRuns / 50);
      expect(tally.refused).toBeGreaterThan(numRuns / 50);
    },
  };
}

/**
 * Responses carrying `document`: with `status` and `contentType` as drawn, and a body that is
 * mostly the document's JSON, sometimes truncated, wrapped in an array or in HTML.
 */
export function responsesOf(
  document: fc.Arbitrary<Record<string, unknown>>,
  status: fc.Arbitrary<number>,
  contentType: fc.Arbitrary<string | undefined>,
): fc.Arbitrary<{ response: OAuthHttpResponse; document: Record<string, unknown> }> {
  const shape = fc.oneof(
    { weight: 9, arbitrary: fc.constant('json') },
    { weight: 1, arbitrary: fc.constantFrom('truncated', 'array', 'garbage') },
  );
  return fc.tuple(document, status, contentType, shape).map(([document, status, contentType, shape]) => {
    const text = JSON.stringify(document);
    const body =
      shape === 'truncated'
        ? text.slice(0, Math.max(0, text.length - 3))
        : shape === 'array'
          ? `[${text}]`
          : shape === 'garbage'
            ? `<html>${text}</html>`
            : text;
    const headers: Record<string, string> = contentType === undefined ? {} : { 'content-type': contentType };
    return { response: { status, headers, body }, document };
  });
}
