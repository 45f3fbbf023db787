import fc from 'fast-check';
import { describe, it } from 'vitest';
import { type CallbackParameters, parseCallback, validateCallback } from './callback.js';
import { isOAuthClientError, OAuthClientError } from './errors.js';
import type { PendingAuthorization } from './types.js';

const NOW = 1_700_000_000_000;
const ISSUER = 'https://auth.example.com';

/** A cheap assertion for hot property bodies (vitest's `expect` costs more than the parser). */
function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`property violated: ${what}`);
}

/** Runs `parse`; anything it throws must be an engine error whose message repeats no hostile text. */
function typedOutcome<T>(parse: () => T): T | OAuthClientError {
  try {
    return parse();
  } catch (error) {
    if (!(error instanceof OAuthClientError) || !isOAuthClientError(error)) throw error;
    check(!error.message.includes('SECRET'), 'the message repeats hostile text');
    return error;
  }
}

const WIRE_NAMES = {
  code: 'code',
  state: 'state',
  iss: 'iss',
  error: 'error',
  errorDescription: 'error_description',
  errorUri: 'error_uri',
} as const;

/** Values as an authorization server might send them: canaries, reserved characters, non-ASCII. */
const value = fc.oneof(
  fc.string({ maxLength: 12 }).map((text) => `SECRET${text}`),
  fc.constantFrom('', ' ', '&', '=', '#', '?', '+', '%', 'é', '☕', ISSUER, 'access_denied'),
  fc.string({ unit: 'grapheme', maxLength: 8 }),
);
const model = fc.record(
  { code: value, state: value, iss: value, error: value, errorDescription: value, errorUri: value },
  { requiredKeys: [] },
);

function toSearchParams(parameters: CallbackParameters, extra: [string, string][]): URLSearchParams {
  const search = new URLSearchParams(extra);
  for (const [field, wire] of Object.entries(WIRE_NAMES)) {
    const fieldValue = parameters[field as keyof CallbackParameters];
    if (fieldValue !== undefined) search.append(wire, fieldValue);
  }
  return search;
}

describe('parseCallback properties', () => {
  it('reads back every parameter from a URL, a query string, URLSearchParams and a plain object', () => {
    fc.assert(
      fc.property(
        model,
        fc.array(fc.tuple(fc.constantFrom('foo', 'session_state', 'scope'), value), { maxLength: 2 }),
        fc.constantFrom('url', 'url-object', 'query', 'bare-query', 'search-params', 'record'),
        (parameters, extra, form) => {
          const search = toSearchParams(parameters, extra);
          const record: Record<string, string> = {};
          for (const [name, wire] of search) record[name] = wire;
          const input =
            form === 'url'
              ? `http://127.0.0.1:9/callback?${search}`
              : form === 'url-object'
                ? new URL(`http://127.0.0.1:9/callback?${search}`)
                : form === 'query'
                  ? `?${search}`
                  : form === 'bare-query'
                    ? search.toString()
                    : form === 'search-params'
                      ? search
                      : record;
          const parsed = parseCallback(input);
          for (const field of Object.keys(WIRE_NAMES) as (keyof CallbackParameters)[]) {
            check(parsed[field] === parameters[field], `${field} reads back as sent (${form})`);
          }
        },
      ),
      { numRuns: 6_000 },
    );
  });

  it('throws only authorization_failed on arbitrary input, including repeated parameters', () => {
    const anyInput = fc.oneof(
      fc.string({ maxLength: 60 }),
      fc
        .array(fc.tuple(fc.constantFrom(...Object.values(WIRE_NAMES), 'x'), value), { maxLength: 6 })
        .map((pairs) => new URLSearchParams(pairs)),
      fc.dictionary(
        fc.constantFrom(...Object.values(WIRE_NAMES), '__proto__', 'x'),
        fc.jsonValue({ maxDepth: 2 }),
      ),
      fc.anything({ maxDepth: 2 }),
    );
    fc.assert(
      fc.property(anyInput, (input) => {
        const outcome = typedOutcome(() => parseCallback(input as string));
        if (outcome instanceof OAuthClientError) {
          check(outcome.code === 'authorization_failed', `unexpected code ${outcome.code}`);
          return;
        }
        for (const field of Object.keys(WIRE_NAMES) as (keyof CallbackParameters)[]) {
          const read = outcome[field];
          check(read === undefined || typeof read === 'string', `${field} is a string`);
        }
      }),
      { numRuns: 6_000 },
    );
  });
});

/** The documented order of checks, as a model: the code the validation must end with. */
function expectedOutcome(
  parameters: CallbackParameters,
  pending: PendingAuthorization | undefined,
  now: number,
): string {
  if (pending === undefined) return 'state_mismatch';
  if (parameters.state === undefined || parameters.state === '') return 'state_mismatch';
  if (parameters.state !== pending.state) return 'state_mismatch';
  if (now > pending.expiresAt) return 'state_mismatch';
  if (parameters.iss === undefined ? pending.issParameterSupported : parameters.iss !== pending.issuer) {
    return 'issuer_mismatch';
  }
  if (parameters.error !== undefined) {
    return parameters.error === 'access_denied' ? 'authorization_denied' : 'authorization_failed';
  }
  if (parameters.code === undefined || parameters.code === '') return 'authorization_failed';
  return 'ok';
}

describe('validateCallback properties', () => {
  const STATE = 'state-SECRET-1';
  const pending = fc.option(
    fc.record({
      state: fc.constant(STATE),
      codeVerifier: fc.constant('verifier-SECRET'),
      issuer: fc.constantFrom(ISSUER, `${ISSUER}/`),
      resource: fc.constant('https://mcp.example.com/mcp'),
      serverUrl: fc.constant('https://mcp.example.com/mcp'),
      clientId: fc.constant('client'),
      redirectUri: fc.constant('http://127.0.0.1:9/callback'),
      scopes: fc.constant([]),
      issParameterSupported: fc.boolean(),
      createdAt: fc.constant(NOW - 60_000),
      expiresAt: fc.constantFrom(NOW - 1, NOW, NOW + 1, NOW + 600_000),
    }),
    { nil: undefined, freq: 10 },
  );
  const parameters = fc.record(
    {
      state: fc.oneof(
        { weight: 6, arbitrary: fc.constant(STATE) },
        { weight: 1, arbitrary: fc.constantFrom('', 'state-SECRET-2', `${STATE} `, STATE.toUpperCase()) },
      ),
      code: fc.oneof(
        { weight: 6, arbitrary: fc.constant('code-SECRET') },
        { weight: 1, arbitrary: fc.constant('') },
      ),
      iss: fc.constantFrom(ISSUER, `${ISSUER}/`, 'https://evil.example.com', 'HTTPS://auth.example.com'),
      error: fc.constantFrom('access_denied', 'server_error', 'SECRET', 'invalid_scope'),
      errorDescription: fc.constant('consent SECRETdGhpcyBpcyBhIHJlZmxlY3RlZCB0b2tlbg'),
    },
    { requiredKeys: [] },
  );

  it('follows the documented order of checks exactly, with typed errors only', () => {
    fc.assert(
      fc.property(parameters, pending, fc.constantFrom(NOW - 1, NOW, NOW + 1), (received, record, now) => {
        const expected = expectedOutcome(received, record, now);
        const outcome = typedOutcome(() => validateCallback(received, record, now));
        if (outcome instanceof OAuthClientError) {
          check(outcome.code === expected, `expected ${expected}, got ${outcome.code}`);
          check(!outcome.message.includes('SECRET'), 'a token-like run of the description is never repeated');
          if (outcome.message.includes('consent')) {
            check(
              outcome.message.includes('(the server said: "consent [redacted]")'),
              'the description is marked',
            );
          }
          return;
        }
        check(expected === 'ok' && outcome.code === received.code, 'the code is returned');
      }),
      { numRuns: 8_000 },
    );
  });
});
