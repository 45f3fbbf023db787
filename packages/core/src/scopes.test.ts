import { describe, expect, it } from 'vitest';
import {
  formatScope,
  includesAllScopes,
  parseScope,
  type ScopeSelectionInput,
  selectScopes,
  unionScopes,
} from './scopes.js';

describe('parseScope', () => {
  it.each([
    ['a single scope', 'read', ['read']],
    ['space-separated scopes', 'read write', ['read', 'write']],
    ['runs of spaces and edges', '  read   write  ', ['read', 'write']],
    ['duplicates, first kept', 'b a b c a', ['b', 'a', 'c']],
    [
      'URI and colon scopes',
      'mcp:tools https://api.example/files.read',
      ['mcp:tools', 'https://api.example/files.read'],
    ],
    [
      'every allowed punctuation character',
      "!#$%&'()*+,-./:;<=>?@[]^_`{|}~",
      ["!#$%&'()*+,-./:;<=>?@[]^_`{|}~"],
    ],
    ['a token with a double quote is dropped', 'a b"c d', ['a', 'd']],
    ['a token with a backslash is dropped', 'a b\\c d', ['a', 'd']],
    ['a tab is not a separator: the token is dropped', 'a\tb c', ['c']],
    ['a newline is not a separator: the token is dropped', 'a\nb c', ['c']],
    ['non-ASCII tokens are dropped', 'café read ☕', ['read']],
    ['control characters are dropped', 'a\u0000 b\u007f c', ['c']],
    ['empty string', '', []],
    ['only spaces', '    ', []],
    ['__proto__ is just a scope', '__proto__ constructor', ['__proto__', 'constructor']],
  ])('%s', (_name, input, expected) => {
    expect(parseScope(input)).toEqual(expected);
  });

  it.each([[undefined], [null], [42], [['read']], [{ scope: 'read' }], [Symbol('x')], [() => 'read']])(
    'gives [] for a non-string (%s)',
    (input) => {
      expect(parseScope(input)).toEqual([]);
    },
  );
});

describe('formatScope', () => {
  it.each([
    [['read'], 'read'],
    [['read', 'write'], 'read write'],
    [['read', 'read', 'write'], 'read write'],
    [['read', 'has space', 'write'], 'read write'],
    [['', 'read'], 'read'],
    [[], undefined],
    [[''], undefined],
    [['bad"quote'], undefined],
  ])('%j → %j', (input, expected) => {
    expect(formatScope(input)).toBe(expected);
  });
});

describe('unionScopes', () => {
  it.each([
    [[], []],
    [[['a', 'b']], ['a', 'b']],
    [
      [
        ['a', 'b'],
        ['b', 'c'],
      ],
      ['a', 'b', 'c'],
    ],
    [
      [
        ['b', 'a'],
        ['a', 'b'],
      ],
      ['b', 'a'],
    ],
    [
      [undefined, ['a'], undefined, ['a', 'c']],
      ['a', 'c'],
    ],
    [[['a', 'a'], []], ['a']],
  ] as const)('%j → %j', (sets, expected) => {
    expect(unionScopes(...sets)).toEqual(expected);
  });
});

describe('includesAllScopes', () => {
  it.each([
    [['a', 'b'], ['a'], true],
    [['a', 'b'], ['b', 'a'], true],
    [['a', 'b'], [], true],
    [[], [], true],
    [['a'], ['a', 'b'], false],
    [[], ['a'], false],
    [['A'], ['a'], false],
    [['mcp:read'], ['mcp:read', 'mcp:read'], true],
  ] as const)('%j holds %j: %s', (held, wanted, expected) => {
    expect(includesAllScopes(held, wanted)).toBe(expected);
  });
});

describe('selectScopes', () => {
  const as = ['openid', 'mcp:read', 'offline_access'];
  const vectors: ReadonlyArray<readonly [string, ScopeSelectionInput, string[]]> = [
    ['nothing known: omit scope', { offlineAccess: true }, []],
    [
      'explicit wins over everything',
      { explicit: ['x'], challenge: ['c'], resourceMetadataScopes: ['p'], offlineAccess: false },
      ['x'],
    ],
    [
      'challenge before PRM',
      { challenge: ['c'], resourceMetadataScopes: ['p'], offlineAccess: false },
      ['c'],
    ],
    [
      'PRM scopes_supported when no challenge scope',
      { resourceMetadataScopes: ['p', 'q'], offlineAccess: false },
      ['p', 'q'],
    ],
    [
      'an empty explicit list counts as absent',
      { explicit: [], challenge: ['c'], offlineAccess: false },
      ['c'],
    ],
    [
      'an empty challenge list counts as absent',
      { challenge: [], resourceMetadataScopes: ['p'], offlineAccess: false },
      ['p'],
    ],
    [
      'AS scopes_supported are not used without the opt-in',
      { authorizationServerScopes: ['openid', 'mcp:read'], defaults: ['d'], offlineAccess: false },
      [],
    ],
    [
      'AS scopes_supported with the opt-in',
      {
        authorizationServerScopes: ['openid', 'mcp:read'],
        fallbackToAuthorizationServer: true,
        offlineAccess: false,
      },
      ['openid', 'mcp:read'],
    ],
    [
      'defaults after AS scopes_supported with the opt-in',
      { defaults: ['d'], fallbackToAuthorizationServer: true, offlineAccess: false },
      ['d'],
    ],
    [
      'PRM still before the AS fallback',
      {
        resourceMetadataScopes: ['p'],
        authorizationServerScopes: ['openid'],
        fallbackToAuthorizationServer: true,
        offlineAccess: false,
      },
      ['p'],
    ],
    [
      'offline_access appended when the AS lists it',
      { challenge: ['c'], authorizationServerScopes: as, offlineAccess: true },
      ['c', 'offline_access'],
    ],
    [
      'offline_access appended to explicit scopes too',
      { explicit: ['x'], authorizationServerScopes: as, offlineAccess: true },
      ['x', 'offline_access'],
    ],
    [
      'no offline_access when the client cannot refresh',
      { challenge: ['c'], authorizationServerScopes: as, offlineAccess: false },
      ['c'],
    ],
    [
      'no offline_access when the AS does not list it',
      { challenge: ['c'], authorizationServerScopes: ['openid'], offlineAccess: true },
      ['c'],
    ],
    ['no offline_access without AS metadata', { challenge: ['c'], offlineAccess: true }, ['c']],
    [
      'no offline_access alone when nothing else is selected',
      { authorizationServerScopes: as, offlineAccess: true },
      [],
    ],
    [
      'offline_access never duplicated (already in the challenge)',
      { challenge: ['offline_access', 'c'], authorizationServerScopes: as, offlineAccess: true },
      ['offline_access', 'c'],
    ],
    [
      'offline_access never duplicated (AS fallback lists it)',
      { fallbackToAuthorizationServer: true, authorizationServerScopes: as, offlineAccess: true },
      ['openid', 'mcp:read', 'offline_access'],
    ],
    [
      "the AS fallback leaves out offline_access when the client can't refresh",
      { fallbackToAuthorizationServer: true, authorizationServerScopes: as, offlineAccess: false },
      ['openid', 'mcp:read'],
    ],
    [
      'AS listing only offline_access, client cannot refresh: defaults',
      {
        fallbackToAuthorizationServer: true,
        authorizationServerScopes: ['offline_access'],
        defaults: ['d'],
        offlineAccess: false,
      },
      ['d'],
    ],
    [
      'invalid tokens and duplicates are dropped from the chosen source',
      { challenge: ['a', 'a', 'b c', 'd"'], offlineAccess: false },
      ['a'],
    ],
    [
      'a source with only invalid tokens counts as absent',
      { challenge: ['has space'], resourceMetadataScopes: ['p'], offlineAccess: false },
      ['p'],
    ],
  ];

  it.each(vectors)('%s', (_name, input, expected) => {
    expect(selectScopes(input)).toEqual(expected);
  });

  it('does not modify its inputs', () => {
    const challenge = ['c'];
    const authorizationServerScopes = ['offline_access'];
    selectScopes({ challenge, authorizationServerScopes, offlineAccess: true });
    expect(challenge).toEqual(['c']);
    expect(authorizationServerScopes).toEqual(['offline_access']);
  });
});
