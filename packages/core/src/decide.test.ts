import { describe, expect, it } from 'vitest';
import { readResourceChallenge } from './challenge.js';
import { type Decision, decide, type HeldTokens } from './decide.js';

const current: HeldTokens = {
  sentTokenIsCurrent: true,
  canRefresh: true,
  requestedScopes: ['read'],
  grantedScopes: ['read'],
};
const noRefresh: HeldTokens = { ...current, canRefresh: false };
const replaced: HeldTokens = { ...current, sentTokenIsCurrent: false };

type Row = [
  name: string,
  status: number,
  header: string | undefined,
  held: HeldTokens | undefined,
  sentToken: boolean,
  attempt: number,
  stepUps: number,
  expected: Decision['type'] | `step_up:${string}` | `fail:${string}` | `authorize:${string}`,
];

// status × challenge × held tokens × attempt → action
const table: Row[] = [
  ['2xx passes', 200, undefined, current, true, 0, 0, 'pass'],
  ['500 passes', 500, 'Bearer error="invalid_token"', current, true, 0, 0, 'pass'],
  ['400 passes', 400, undefined, current, true, 0, 0, 'pass'],
  [
    'first 401 with no tokens authorizes with challenged scopes',
    401,
    'Bearer scope="a b"',
    undefined,
    false,
    0,
    0,
    'authorize:a b',
  ],
  ['401 with no tokens and no challenge authorizes', 401, undefined, undefined, false, 0, 0, 'authorize:'],
  [
    '401 invalid_token on the current token refreshes',
    401,
    'Bearer error="invalid_token"',
    current,
    true,
    0,
    0,
    'refresh',
  ],
  ['401 without error on the current token refreshes', 401, 'Bearer', current, true, 0, 0, 'refresh'],
  ['401 garbage header on the current token refreshes', 401, '"""===', current, true, 0, 0, 'refresh'],
  [
    '401 on the current token without refresh re-authorizes',
    401,
    'Bearer error="invalid_token", scope="x"',
    noRefresh,
    true,
    0,
    0,
    'authorize:x',
  ],
  [
    '401 on a token already replaced retries',
    401,
    'Bearer error="invalid_token"',
    replaced,
    true,
    0,
    0,
    'retry',
  ],
  ['401 on a request sent before a token existed retries', 401, 'Bearer', current, false, 0, 0, 'retry'],
  ['401 use_dpop_nonce retries', 401, 'DPoP error="use_dpop_nonce"', current, true, 0, 0, 'retry'],
  ['401 after the retry passes', 401, 'Bearer error="invalid_token"', current, true, 1, 0, 'pass'],
  ['401 with no tokens after the retry passes', 401, 'Bearer', undefined, false, 1, 0, 'pass'],
  ['403 without insufficient_scope passes', 403, 'Bearer error="invalid_token"', current, true, 0, 0, 'pass'],
  ['403 with no header passes', 403, undefined, current, true, 0, 0, 'pass'],
  [
    '403 insufficient_scope without tokens passes',
    403,
    'Bearer error="insufficient_scope", scope="w"',
    undefined,
    false,
    0,
    0,
    'pass',
  ],
  [
    '403 insufficient_scope steps up to the union',
    403,
    'Bearer error="insufficient_scope", scope="write"',
    current,
    true,
    0,
    0,
    'step_up:read write',
  ],
  [
    '403 insufficient_scope keeps requested and granted scopes',
    403,
    'Bearer error="insufficient_scope", scope="c"',
    { ...current, requestedScopes: ['a'], grantedScopes: ['b'] },
    true,
    0,
    0,
    'step_up:a b c',
  ],
  [
    '403 insufficient_scope on a replaced token retries',
    403,
    'Bearer error="insufficient_scope", scope="write"',
    replaced,
    true,
    0,
    0,
    'retry',
  ],
  [
    '403 insufficient_scope asking for held scopes fails',
    403,
    'Bearer error="insufficient_scope", scope="read"',
    current,
    true,
    0,
    0,
    'fail:insufficient_scope',
  ],
  [
    '403 insufficient_scope without a scope fails',
    403,
    'Bearer error="insufficient_scope"',
    current,
    true,
    0,
    0,
    'fail:insufficient_scope',
  ],
  [
    '403 insufficient_scope at the step-up limit fails',
    403,
    'Bearer error="insufficient_scope", scope="write"',
    current,
    true,
    0,
    3,
    'fail:insufficient_scope',
  ],
  [
    '403 insufficient_scope below the limit steps up',
    403,
    'Bearer error="insufficient_scope", scope="write"',
    current,
    true,
    0,
    2,
    'step_up:read write',
  ],
  [
    '403 after the retry passes',
    403,
    'Bearer error="insufficient_scope", scope="write"',
    current,
    true,
    1,
    0,
    'pass',
  ],
  [
    '403 scheme is case-insensitive',
    403,
    'bEaReR ERROR="insufficient_scope", SCOPE="write"',
    current,
    true,
    0,
    0,
    'step_up:read write',
  ],
];

function summarize(decision: Decision): string {
  switch (decision.type) {
    case 'step_up':
      return `step_up:${decision.scopes.join(' ')}`;
    case 'fail':
      return `fail:${decision.error.code}`;
    case 'authorize':
      return `authorize:${decision.challengeScopes.join(' ')}`;
    default:
      return decision.type;
  }
}

describe('decide: the DPoP nonce budget', () => {
  const nonce = readResourceChallenge('DPoP error="use_dpop_nonce"');
  const base = {
    status: 401,
    challenge: nonce,
    sentToken: true,
    held: current,
    stepUps: { recent: 0, max: 3 },
  };
  it.each([
    ['retries with a new nonce on the first answer', { authorization: 0, dpopNonce: 0 }, true, 'retry'],
    [
      'retries with a new nonce after the authorization retry',
      { authorization: 1, dpopNonce: 0 },
      true,
      'retry',
    ],
    [
      'hands the response back once the nonce retry is spent',
      { authorization: 1, dpopNonce: 1 },
      true,
      'pass',
    ],
    ['hands the response back when no nonce came with it', { authorization: 0, dpopNonce: 0 }, false, 'pass'],
  ] as const)('%s', (_name, retries, nonceReceived, expected) => {
    expect(decide({ ...base, retries, nonceReceived }).type).toBe(expected);
  });
});

describe('decide', () => {
  it.each(table)('%s', (_name, status, header, held, sentToken, attempt, stepUps, expected) => {
    const decision = decide({
      status,
      challenge: readResourceChallenge(header),
      retries: { authorization: attempt, dpopNonce: 0 },
      nonceReceived: true,
      sentToken,
      held,
      stepUps: { recent: stepUps, max: 3 },
    });
    expect(summarize(decision)).toBe(expected);
  });

  it('fails with the OAuth error and status of the challenge', () => {
    const decision = decide({
      status: 403,
      challenge: readResourceChallenge('Bearer error="insufficient_scope", scope="read"'),
      retries: { authorization: 0, dpopNonce: 0 },
      nonceReceived: false,
      sentToken: true,
      held: current,
      stepUps: { recent: 0, max: 3 },
    });
    expect(decision.type).toBe('fail');
    if (decision.type === 'fail')
      expect(decision.error).toMatchObject({ oauthError: 'insufficient_scope', status: 403 });
  });
});
