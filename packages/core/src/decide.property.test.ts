import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readResourceChallenge } from './challenge.js';
import { type DecisionInput, decide } from './decide.js';
import { includesAllScopes, unionScopes } from './scopes.js';

/** A cheap assertion for hot property bodies (vitest's `expect` costs more than `decide`). */
function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`property violated: ${what}`);
}

const scopes = fc.uniqueArray(fc.constantFrom('mcp', 'read', 'write', 'admin', 'offline_access'), {
  maxLength: 4,
});
const challengeHeader = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .record(
        {
          error: fc.constantFrom('invalid_token', 'insufficient_scope', 'use_dpop_nonce', 'invalid_request'),
          scope: scopes.map((list) => list.join(' ')),
          resource_metadata: fc.constant('https://mcp.example.com/.well-known/oauth-protected-resource'),
        },
        { requiredKeys: [] },
      )
      .map((params) =>
        `Bearer ${Object.entries(params)
          .map(([name, text]) => `${name}="${text}"`)
          .join(', ')}`.trim(),
      ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
);

/** Weighted so that every kind of decision, step-ups included, comes up often. */
const likely = fc.oneof(
  { weight: 3, arbitrary: fc.constant(true) },
  { weight: 1, arbitrary: fc.constant(false) },
);
const input: fc.Arbitrary<DecisionInput> = fc.record({
  status: fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(401, 403) },
    { weight: 1, arbitrary: fc.integer({ min: 100, max: 599 }) },
  ),
  challenge: challengeHeader.map((header) => readResourceChallenge(header)),
  retries: fc.record({
    authorization: fc.oneof(
      { weight: 3, arbitrary: fc.constant(0) },
      { weight: 1, arbitrary: fc.nat({ max: 3 }) },
    ),
    dpopNonce: fc.oneof(
      { weight: 3, arbitrary: fc.constant(0) },
      { weight: 1, arbitrary: fc.nat({ max: 3 }) },
    ),
  }),
  nonceReceived: fc.boolean(),
  sentToken: likely,
  held: fc.option(
    fc.record({
      sentTokenIsCurrent: likely,
      canRefresh: fc.boolean(),
      requestedScopes: scopes,
      grantedScopes: scopes,
    }),
    { nil: undefined },
  ),
  stepUps: fc.record({ recent: fc.nat({ max: 5 }), max: fc.nat({ max: 4 }) }),
});

describe('decide properties: no loops', () => {
  it('retries a request at most once, steps up a bounded number of times, and only for new scopes', () => {
    const seen = new Map<string, number>();
    fc.assert(
      fc.property(input, (decisionInput) => {
        const decision = decide(decisionInput);
        seen.set(decision.type, (seen.get(decision.type) ?? 0) + 1);
        const { retries } = decisionInput;
        if (retries.authorization >= 1 && decision.type !== 'pass')
          check(
            decision.type === 'retry' && decision.reason === 'dpop_nonce' && retries.dpopNonce < 1,
            'after the authorization retry only one DPoP-nonce retry may follow',
          );
        if (decision.type === 'retry' && decision.reason === 'dpop_nonce')
          check(retries.dpopNonce < 1 && decisionInput.nonceReceived, 'one nonce retry, only with a nonce');
        if (decisionInput.status !== 401 && decisionInput.status !== 403)
          check(decision.type === 'pass', 'pass');
        if (decision.type === 'step_up') {
          const held = decisionInput.held!;
          check(decisionInput.stepUps.recent < decisionInput.stepUps.max, 'step-ups are bounded');
          const before = unionScopes(held.requestedScopes, held.grantedScopes);
          check(!includesAllScopes(before, decision.scopes), 'a step-up asks for something new');
          check(includesAllScopes(decision.scopes, before), 'a step-up keeps what was held');
        }
        if (decision.type === 'fail')
          check(decision.error.code === 'insufficient_scope', 'fails with insufficient_scope');
        if (decision.type === 'refresh')
          check(decisionInput.held?.canRefresh === true, 'refresh only when possible');
      }),
      { numRuns: 6_000 },
    );
    // Every kind of decision was reached, so each bound above was exercised.
    expect([...seen.keys()].sort()).toEqual(['authorize', 'fail', 'pass', 'refresh', 'retry', 'step_up']);
  });
});
