import fc from 'fast-check';
import { describe, it } from 'vitest';
import { OAuthClientError } from './errors.js';
import { check, field, outcomeTally, responsesOf } from './test-utils/property.js';
import {
  MAXIMUM_EXPIRES_IN_SECONDS,
  parseTokenExchangeResponse,
  parseTokenResponse,
} from './token-response.js';
import type { TokenSet } from './types.js';

const NOW = 1_700_000_000_000;
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

const secretString = fc.string({ minLength: 1, maxLength: 12 }).map((text) => `SECRET-${text}`);
const tokenDocument = fc
  .record(
    {
      access_token: field(secretString),
      token_type: field(fc.constantFrom('Bearer', 'bearer', 'BEARER', 'DPoP', 'dpop', 'mac', 'N_A')),
      expires_in: field(
        fc.oneof(
          fc.nat({ max: 10 ** 9 }),
          fc.double({ min: 0, max: 1e300, noNaN: true }),
          fc.constantFrom('3600', '0', '99999999999999', '1e3', '-5', ' 60', 1e308),
        ),
      ),
      refresh_token: field(secretString),
      scope: field(fc.constantFrom('mcp', 'mcp read', '  mcp   read ', '"bad" \\x', '', 'a\u0000b')),
      id_token: field(secretString),
      issued_token_type: field(fc.constantFrom('urn:ietf:params:oauth:token-type:id-jag', 'x')),
      error: field(fc.constantFrom('invalid_grant', 'server_error', 'SECRET_error')),
      error_description: field(secretString),
    },
    { requiredKeys: [] },
  )
  .map((document) => JSON.parse(JSON.stringify(document)) as Record<string, unknown>);

const response = responsesOf(
  tokenDocument,
  fc.oneof(
    { weight: 8, arbitrary: fc.constant(200) },
    { weight: 2, arbitrary: fc.constantFrom(201, 204, 302, 400, 401, 500, 503) },
  ),
  fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom('application/json', 'application/json;charset=UTF-8') },
    { weight: 1, arbitrary: fc.constantFrom(undefined, 'text/html', 'application/x-www-form-urlencoded') },
  ),
);

const scopes = fc.array(fc.constantFrom('mcp', 'read', 'write'), { maxLength: 3 });
const previous: fc.Arbitrary<TokenSet | undefined> = fc.option(
  fc.record({
    accessToken: fc.constant('SECRET-old-access'),
    tokenType: fc.constant('Bearer' as const),
    refreshToken: fc.constant('SECRET-old-refresh'),
    grantedScopes: scopes,
    requestedScopes: scopes,
    issuedAt: fc.constant(NOW - 1000),
  }),
  { nil: undefined },
);
const grant = fc.constantFrom(
  'authorization_code',
  'refresh_token',
  'client_credentials',
  'jwt_bearer',
  'token_exchange',
) as fc.Arbitrary<
  'authorization_code' | 'refresh_token' | 'client_credentials' | 'jwt_bearer' | 'token_exchange'
>;

function isPresent(value: unknown): boolean {
  return value !== undefined && value !== null;
}

const { typedOutcome, expectBothOutcomes } = outcomeTally();

describe('parseTokenResponse properties', () => {
  it('returns a validated token set or a typed error, whatever the token endpoint answers', () => {
    fc.assert(
      fc.property(
        response,
        scopes,
        fc.boolean(),
        previous,
        grant,
        ({ response: answer, document }, requestedScopes, dpop, before, grantType) => {
          const outcome = typedOutcome(() =>
            parseTokenResponse(answer, {
              now: NOW,
              requestedScopes,
              dpop,
              previous: before,
              grant: grantType,
            }),
          );
          if (outcome instanceof OAuthClientError) {
            const expected =
              answer.status >= 200 && answer.status < 300 ? 'token_response_invalid' : 'token_request_failed';
            check(outcome.code === expected, `code ${outcome.code} for status ${answer.status}`);
            check(outcome.status === answer.status, 'the status is kept');
            return;
          }
          check(answer.status >= 200 && answer.status < 300, 'success only for 2xx');
          check(outcome.accessToken === document.access_token, 'the access token is the one sent');
          check(outcome.accessToken.length > 0, 'the access token is not empty');
          const sentType = String(document.token_type).toLowerCase();
          check(
            (outcome.tokenType === 'Bearer' && sentType === 'bearer') ||
              (outcome.tokenType === 'DPoP' && sentType === 'dpop' && dpop),
            'the token type is the one sent, Bearer or (with a proof) DPoP',
          );
          const { expiresAt } = outcome;
          check(
            expiresAt === undefined ||
              (Number.isFinite(expiresAt) &&
                expiresAt >= NOW &&
                expiresAt <= NOW + MAXIMUM_EXPIRES_IN_SECONDS * 1000 + 1),
            'expiry is finite, not in the past, and capped',
          );
          check(expiresAt !== undefined || !isPresent(document.expires_in), 'a sent expiry is kept');
          const refresh = outcome.refreshToken;
          check(
            refresh === undefined || (typeof refresh === 'string' && refresh.length > 0),
            'refresh token',
          );
          if (!isPresent(document.refresh_token)) {
            check(
              refresh === (grantType === 'refresh_token' ? before?.refreshToken : undefined),
              'an omitted refresh token keeps the old one on refresh only',
            );
          }
          check(
            outcome.grantedScopes.every((scope) => typeof scope === 'string' && SCOPE_TOKEN.test(scope)),
            'granted scopes are scope tokens',
          );
          check(outcome.issuedAt === NOW, 'issued now');
        },
      ),
      { numRuns: 12_000 },
    );
    expectBothOutcomes(12_000);
  });

  it('never throws anything but typed errors on arbitrary bodies and statuses', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 100, max: 599 }),
        fc.oneof(
          fc.string({ maxLength: 60 }),
          fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)),
        ),
        fc.boolean(),
        (status, body, dpop) => {
          typedOutcome(() =>
            parseTokenResponse(
              { status, headers: { 'content-type': 'application/json' }, body },
              { now: NOW, requestedScopes: [], dpop, grant: 'authorization_code' },
            ),
          );
        },
      ),
      { numRuns: 4_000 },
    );
  });
});

describe('parseTokenExchangeResponse properties', () => {
  it('returns a validated exchange result or a typed error, whatever the identity provider answers', () => {
    fc.assert(
      fc.property(response, ({ response: answer, document }) => {
        const outcome = typedOutcome(() => parseTokenExchangeResponse(answer, NOW));
        if (outcome instanceof OAuthClientError) {
          const expected =
            answer.status >= 200 && answer.status < 300 ? 'token_response_invalid' : 'token_request_failed';
          check(outcome.code === expected, `code ${outcome.code} for status ${answer.status}`);
          return;
        }
        check(outcome.accessToken === document.access_token && outcome.accessToken.length > 0, 'the token');
        check(outcome.issuedTokenType === document.issued_token_type, 'the issued token type');
        check(typeof outcome.tokenType === 'string' && outcome.tokenType.length > 0, 'the token type');
        check(
          outcome.expiresAt === undefined ||
            (outcome.expiresAt >= NOW && outcome.expiresAt <= NOW + MAXIMUM_EXPIRES_IN_SECONDS * 1000 + 1),
          'expiry is capped',
        );
        check(
          outcome.grantedScopes.every((scope) => SCOPE_TOKEN.test(scope)),
          'granted scopes',
        );
      }),
      { numRuns: 8_000 },
    );
    expectBothOutcomes(8_000);
  });
});
