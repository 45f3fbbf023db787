import { describe, expect, it } from 'vitest';
import {
  type AuthChallenge,
  MAX_CHALLENGES,
  MAX_HEADER_LENGTH,
  MAX_PARAMS,
  parseWwwAuthenticate,
  readResourceChallenge,
} from './challenge.js';

interface Expected {
  scheme: string;
  token68?: string;
  params: Record<string, string>;
}

function challenge(scheme: string, params: Record<string, string> = {}, token68?: string): Expected {
  return token68 === undefined ? { scheme, params } : { scheme, token68, params };
}

/** Copies parser output into plain objects so `toStrictEqual` also checks that `token68` is absent. */
function plain(challenges: AuthChallenge[]): Expected[] {
  return challenges.map((item) => {
    const params = { ...item.params };
    return item.token68 === undefined
      ? { scheme: item.scheme, params }
      : { scheme: item.scheme, token68: item.token68, params };
  });
}

type Vector = readonly [
  name: string,
  header: string | readonly string[] | null | undefined,
  expected: Expected[],
];

const valid: Vector[] = [
  ['scheme only', 'Bearer', [challenge('bearer')]],
  ['one quoted param', 'Bearer realm="example"', [challenge('bearer', { realm: 'example' })]],
  [
    'RFC 6750 §3 example',
    'Bearer realm="example", error="invalid_token", error_description="The access token expired"',
    [
      challenge('bearer', {
        realm: 'example',
        error: 'invalid_token',
        error_description: 'The access token expired',
      }),
    ],
  ],
  ['token value', 'Bearer error=invalid_token', [challenge('bearer', { error: 'invalid_token' })]],
  ['token68 with padding', 'Basic dXNlcjpwYXNz==', [challenge('basic', {}, 'dXNlcjpwYXNz==')]],
  ['token68 with one pad', 'Negotiate abc=', [challenge('negotiate', {}, 'abc=')]],
  ['token68 of every allowed character', 'Custom aZ09-._~+/==', [challenge('custom', {}, 'aZ09-._~+/==')]],
  [
    'RFC 9110 §11.6.1 example: two challenges, escaped quotes',
    'Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple"',
    [
      challenge('newauth', { realm: 'apps', type: '1', title: 'Login to "apps"' }),
      challenge('basic', { realm: 'simple' }),
    ],
  ],
  [
    'several challenges with params',
    'Bearer realm="a", scope="x y", DPoP algs="ES256 PS256", error="use_dpop_nonce"',
    [
      challenge('bearer', { realm: 'a', scope: 'x y' }),
      challenge('dpop', { algs: 'ES256 PS256', error: 'use_dpop_nonce' }),
    ],
  ],
  [
    'token68 challenge followed by another challenge',
    'Basic YWxhZGRpbjpvcGVuc2VzYW1l, Bearer realm="x"',
    [challenge('basic', {}, 'YWxhZGRpbjpvcGVuc2VzYW1l'), challenge('bearer', { realm: 'x' })],
  ],
  ['two bare schemes', 'Bearer, Basic', [challenge('bearer'), challenge('basic')]],
  [
    'bare scheme after params',
    'Bearer realm="x", Basic',
    [challenge('bearer', { realm: 'x' }), challenge('basic')],
  ],
  [
    'new challenge after several spaces',
    'Bearer realm="x", Basic   realm="y"',
    [challenge('bearer', { realm: 'x' }), challenge('basic', { realm: 'y' })],
  ],
  [
    'repeated header lines',
    ['Bearer realm="a"', 'DPoP algs="ES256"'],
    [challenge('bearer', { realm: 'a' }), challenge('dpop', { algs: 'ES256' })],
  ],
  [
    'repeated header lines with empty ones',
    ['', 'Bearer realm="a"', '', 'Basic x'],
    [challenge('bearer', { realm: 'a' }), challenge('basic', {}, 'x')],
  ],
  [
    'the same parameter in two challenges stays in each',
    'Bearer realm="a", DPoP realm="b"',
    [challenge('bearer', { realm: 'a' }), challenge('dpop', { realm: 'b' })],
  ],
  [
    'every tchar in a name',
    'Custom a!#$%&\'*+-.^_`|~9="1"',
    [challenge('custom', { "a!#$%&'*+-.^_`|~9": '1' })],
  ],
];

const odd: Vector[] = [
  [
    'extra whitespace and BWS around "="',
    '   Bearer    realm = "x" ,   scope =   "a b"   ',
    [challenge('bearer', { realm: 'x', scope: 'a b' })],
  ],
  ['tab after the scheme', 'Bearer\trealm="x"', [challenge('bearer', { realm: 'x' })]],
  [
    'mixed-case scheme and names, value case kept',
    'bEaReR ReAlM="MiXeD"',
    [challenge('bearer', { realm: 'MiXeD' })],
  ],
  [
    'escaped quotes',
    'Bearer error_description="say \\"hi\\""',
    [challenge('bearer', { error_description: 'say "hi"' })],
  ],
  ['escaped backslash', 'Bearer realm="a\\\\b"', [challenge('bearer', { realm: 'a\\b' })]],
  ['quoted-pair of ordinary characters', 'Bearer realm="\\a\\b"', [challenge('bearer', { realm: 'ab' })]],
  [
    'commas and a scheme-like text inside quoted strings',
    'Bearer scope="a,b", realm="x, Basic y"',
    [challenge('bearer', { scope: 'a,b', realm: 'x, Basic y' })],
  ],
  ['empty quoted string', 'Bearer realm=""', [challenge('bearer', { realm: '' })]],
  [
    'duplicate params: the first wins',
    'Bearer realm="a", REALM="b", realm=c',
    [challenge('bearer', { realm: 'a' })],
  ],
  [
    'empty list elements everywhere',
    ', , Bearer , , realm="x", ,scope="s" ,',
    [challenge('bearer', { realm: 'x', scope: 's' })],
  ],
  [
    'param right after a comma belongs to the challenge',
    'Bearer,realm="x"',
    [challenge('bearer', { realm: 'x' })],
  ],
  ['trailing commas', 'Bearer realm="x",,,', [challenge('bearer', { realm: 'x' })]],
  [
    'unicode in a quoted string',
    'Bearer error_description="café ☕ 日本"',
    [challenge('bearer', { error_description: 'café ☕ 日本' })],
  ],
  [
    'obs-text (latin-1) in a quoted string',
    'Bearer realm="\u00e9\u00ff"',
    [challenge('bearer', { realm: '\u00e9\u00ff' })],
  ],
  ['tab inside a quoted string', 'Bearer realm="a\tb"', [challenge('bearer', { realm: 'a\tb' })]],
  [
    '"name=" with nothing after it is a token68 by the grammar',
    'Bearer realm=',
    [challenge('bearer', {}, 'realm=')],
  ],
  [
    '__proto__ is dropped, other names are kept',
    'Bearer __proto__="x", constructor="y", toString=z',
    [challenge('bearer', { constructor: 'y', tostring: 'z' })],
  ],
  [
    'param without a scheme before a valid challenge',
    'realm="x", Bearer scope="a"',
    [challenge('bearer', { scope: 'a' })],
  ],
  [
    'params after a token68 challenge are stray, the token68 challenge stays',
    'Basic abc=, realm="x", Bearer',
    [challenge('basic', {}, 'abc='), challenge('bearer')],
  ],
];

const malformed: Vector[] = [
  ['null', null, []],
  ['undefined', undefined, []],
  ['empty string', '', []],
  ['empty array', [], []],
  ['only whitespace', ' \t  ', []],
  ['lone comma', ',', []],
  ['lone commas', ' , ,, ', []],
  ['lone quote', '"', []],
  ['param without a scheme', 'realm="x"', []],
  ['unterminated quote', 'Bearer realm="abc', []],
  ['unterminated quote after a good challenge', 'Basic x, Bearer realm="abc', [challenge('basic', {}, 'x')]],
  ['backslash at the end of an unterminated quote', 'Bearer realm="abc\\', []],
  ['"=" without a name', 'Bearer =x', []],
  [
    '"=" without a name inside a challenge drops it',
    'Bearer realm="x", =y, Basic z',
    [challenge('basic', {}, 'z')],
  ],
  ['param without a value', 'Bearer a="b", c=', []],
  ['param without a value, then a challenge', 'Bearer a="b", c=, Basic z', [challenge('basic', {}, 'z')]],
  ['two tokens where a param was expected', 'Bearer realm x', []],
  ['garbage after a quoted value', 'Bearer realm="x"y, Basic z', [challenge('basic', {}, 'z')]],
  ['token value with characters outside tchar', 'Bearer resource_metadata=https://rs.example/x', []],
  [
    'control character inside a quoted string',
    'Bearer realm="a\u0001b", Basic z',
    [challenge('basic', {}, 'z')],
  ],
  ['DEL inside a quoted string', 'Bearer realm="a\u007fb"', []],
  ['NUL in the scheme', 'Basic z, Bea\u0000rer x', [challenge('basic', {}, 'z')]],
  ['NUL after the scheme', 'Bearer\u0000realm="x"', []],
  ['CRLF injection', 'Bearer realm="x"\r\nSet-Cookie: a=b', []],
  ['non-ASCII scheme', 'Bëarer realm="x"', []],
  ['quote where a scheme should be', '"Bearer" realm="x", Basic z', [challenge('basic', {}, 'z')]],
  ['scheme glued to a quote', 'Bearer"x"', []],
  [
    'recovery skips commas inside a quoted string',
    'Bearer x y="a, Basic q", Basic z',
    [challenge('basic', {}, 'z')],
  ],
  [
    'non-string array elements are ignored',
    ['Bearer', 42, null] as unknown as string[],
    [challenge('bearer')],
  ],
];

describe('parseWwwAuthenticate', () => {
  it.each([
    ...valid.map((vector) => ['valid', ...vector] as const),
    ...odd.map((vector) => ['odd', ...vector] as const),
    ...malformed.map((vector) => ['malformed', ...vector] as const),
  ])('%s: %s', (_kind, _name, header, expected) => {
    expect(plain(parseWwwAuthenticate(header))).toStrictEqual(expected);
  });

  it('has at least 60 vectors', () => {
    expect(valid.length + odd.length + malformed.length).toBeGreaterThanOrEqual(60);
  });

  it('gives params objects with a null prototype and never pollutes Object.prototype', () => {
    const [parsed] = parseWwwAuthenticate('Bearer __proto__="polluted", constructor="x", hasOwnProperty="y"');
    expect(parsed).toBeDefined();
    expect(Object.getPrototypeOf(parsed!.params)).toBeNull();
    expect(Object.keys(parsed!.params)).toEqual(['constructor', 'hasownproperty']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const copy = Object.assign({}, parsed!.params);
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
  });

  it(`keeps at most ${MAX_CHALLENGES} challenges`, () => {
    const header = Array.from({ length: 40 }, (_, index) => `S${index} p="${index}"`).join(', ');
    const parsed = parseWwwAuthenticate(header);
    expect(parsed).toHaveLength(MAX_CHALLENGES);
    expect(parsed[0]).toEqual(challenge('s0', { p: '0' }));
    expect(parsed[MAX_CHALLENGES - 1]).toEqual(
      challenge(`s${MAX_CHALLENGES - 1}`, { p: `${MAX_CHALLENGES - 1}` }),
    );
  });

  it(`keeps at most ${MAX_PARAMS} params per challenge, the first ones`, () => {
    const params = Array.from({ length: 100 }, (_, index) => `p${index}=${index}`).join(', ');
    const parsed = parseWwwAuthenticate(`Bearer ${params}, Basic z`);
    expect(parsed).toHaveLength(2);
    const keys = Object.keys(parsed[0]!.params);
    expect(keys).toHaveLength(MAX_PARAMS);
    expect(keys[0]).toBe('p0');
    expect(keys.at(-1)).toBe(`p${MAX_PARAMS - 1}`);
    expect(parsed[1]).toEqual(challenge('basic', {}, 'z'));
  });

  it('ignores input beyond the length limit and drops the challenge the cut went through', () => {
    const value = 'b'.repeat(MAX_HEADER_LENGTH);
    const parsed = parseWwwAuthenticate(`Basic x, Bearer realm="r", foo=${value}`);
    // The token value `bbb…` was cut: returning it shortened would be wrong, so Bearer is dropped.
    expect(plain(parsed)).toStrictEqual([challenge('basic', {}, 'x')]);
  });

  it('keeps a challenge that ends just before the length limit', () => {
    const header = `Bearer realm="r", ${' '.repeat(MAX_HEADER_LENGTH - 30)}, Basic ${'z'.repeat(100)}`;
    expect(header.length).toBeGreaterThan(MAX_HEADER_LENGTH);
    expect(plain(parseWwwAuthenticate(header))).toStrictEqual([challenge('bearer', { realm: 'r' })]);
  });

  it('applies the length limit to repeated header lines combined', () => {
    const lines = ['Bearer realm="r"', `Basic ${'y'.repeat(MAX_HEADER_LENGTH)}`, 'DPoP algs="ES256"'];
    expect(plain(parseWwwAuthenticate(lines))).toStrictEqual([challenge('bearer', { realm: 'r' })]);
  });

  it.each([
    ['a 1 MB quoted string', `Bearer realm="${'a'.repeat(1024 * 1024)}"`, []],
    ['1 MB of commas', ','.repeat(1024 * 1024), []],
    ['1 MB of params', `Bearer ${'a=b, '.repeat(256 * 1024)}`, []],
    ['1 MB of quotes', '"'.repeat(1024 * 1024), []],
    ['1 MB of backslashes in a quote', `Bearer realm="${'\\'.repeat(1024 * 1024)}`, []],
    [
      'a good challenge then 1 MB of junk',
      `Bearer realm="x", junk${'\u0000'.repeat(1024 * 1024)}`,
      [challenge('bearer', { realm: 'x' })],
    ],
    ['a good challenge then 1 MB of NULs', `Bearer realm="x", ${'\u0000'.repeat(1024 * 1024)}`, []],
  ] as const)('returns quickly on %s', (_name, header, expected) => {
    const started = performance.now();
    const parsed = parseWwwAuthenticate(header);
    expect(performance.now() - started).toBeLessThan(500);
    expect(plain(parsed)).toStrictEqual(expected);
  });

  it('returns quickly on 100,000 repeated header lines', () => {
    const lines = Array.from({ length: 100_000 }, () => 'Bearer realm="x"');
    const started = performance.now();
    const parsed = parseWwwAuthenticate(lines);
    expect(performance.now() - started).toBeLessThan(500);
    expect(parsed).toHaveLength(MAX_CHALLENGES);
  });
});

describe('readResourceChallenge', () => {
  const prm = 'https://rs.example/.well-known/oauth-protected-resource/mcp';

  it('reads a Bearer 401', () => {
    expect(
      readResourceChallenge(
        `Bearer resource_metadata="${prm}", scope="files:read files:write", error="invalid_token"`,
      ),
    ).toStrictEqual({
      schemes: ['bearer'],
      resourceMetadata: prm,
      scope: ['files:read', 'files:write'],
      error: 'invalid_token',
    });
  });

  it('reads insufficient_scope from a 403', () => {
    expect(
      readResourceChallenge(
        `Bearer error="insufficient_scope", scope="mcp:basic mcp:write", resource_metadata="${prm}", error_description="Need write"`,
      ),
    ).toStrictEqual({
      schemes: ['bearer'],
      resourceMetadata: prm,
      scope: ['mcp:basic', 'mcp:write'],
      error: 'insufficient_scope',
      errorDescription: 'Need write',
    });
  });

  it('reads use_dpop_nonce and algs from a DPoP challenge', () => {
    expect(
      readResourceChallenge(
        'DPoP error="use_dpop_nonce", error_description="Resource server requires nonce", algs="ES256  PS256"',
      ),
    ).toStrictEqual({
      schemes: ['dpop'],
      error: 'use_dpop_nonce',
      errorDescription: 'Resource server requires nonce',
      dpopAlgs: ['ES256', 'PS256'],
    });
  });

  it('merges Bearer and DPoP, Bearer first, schemes in the order sent', () => {
    expect(
      readResourceChallenge(
        `DPoP algs="ES256", error="use_dpop_nonce", scope="dpop:scope", Bearer resource_metadata="${prm}", scope="a b"`,
      ),
    ).toStrictEqual({
      schemes: ['dpop', 'bearer'],
      resourceMetadata: prm,
      scope: ['a', 'b'],
      error: 'use_dpop_nonce',
      dpopAlgs: ['ES256'],
    });
  });

  it("prefers Bearer's error when both challenges carry one", () => {
    const result = readResourceChallenge('DPoP error="invalid_dpop_proof", Bearer error="invalid_token"');
    expect(result.error).toBe('invalid_token');
    expect(result.schemes).toEqual(['dpop', 'bearer']);
  });

  it('merges across repeated header lines', () => {
    expect(
      readResourceChallenge(['Bearer realm="mcp"', `DPoP algs="ES256", resource_metadata="${prm}"`]),
    ).toStrictEqual({
      schemes: ['bearer', 'dpop'],
      resourceMetadata: prm,
      dpopAlgs: ['ES256'],
    });
  });

  it('splits scope on runs of spaces, dedupes and drops invalid tokens', () => {
    expect(readResourceChallenge('Bearer scope="  a   b a c\\\\d e\\"f  "').scope).toEqual(['a', 'b']);
  });

  it('leaves scope out when it holds no valid scope, and falls back to DPoP', () => {
    expect(readResourceChallenge('Bearer scope=""')).toStrictEqual({ schemes: ['bearer'] });
    expect(readResourceChallenge('Bearer scope="", DPoP scope="x"').scope).toEqual(['x']);
  });

  it('ignores algs on a Bearer challenge and other schemes entirely', () => {
    expect(
      readResourceChallenge('Basic realm="x", error="basic_error", Bearer algs="ES256", Negotiate abc='),
    ).toStrictEqual({ schemes: ['bearer'] });
  });

  it('returns only empty schemes for nothing, garbage or other schemes', () => {
    for (const header of [null, undefined, '', 'Basic realm="x"', 'Bearer realm="unterminated', '\u0000']) {
      expect(readResourceChallenge(header)).toStrictEqual({ schemes: [] });
    }
  });

  it('skips empty string values', () => {
    expect(readResourceChallenge('Bearer error="", DPoP error="use_dpop_nonce"').error).toBe(
      'use_dpop_nonce',
    );
  });
});

describe('readResourceChallenge: DPoP nonce requests', () => {
  it('reports use_dpop_nonce even when a Bearer challenge names another error first', () => {
    const challenge = readResourceChallenge(
      'Bearer error="invalid_token", DPoP error="use_dpop_nonce", algs="ES256"',
    );
    expect(challenge.error).toBe('use_dpop_nonce');
    expect(challenge.schemes).toEqual(['bearer', 'dpop']);
  });
});
