import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_CHALLENGES, MAX_PARAMS, parseWwwAuthenticate, readResourceChallenge } from './challenge.js';

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** A challenge as the model knows it, before serialisation. */
type ModelChallenge =
  | { readonly scheme: string; readonly token68: string }
  | { readonly scheme: string; readonly params: ReadonlyArray<readonly [name: string, value: string]> };

const token = fc.stringMatching(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,10}$/);
const paramName = fc.oneof(
  token,
  fc.constantFrom(
    'realm',
    'scope',
    'error',
    'error_description',
    'resource_metadata',
    '__proto__',
    'constructor',
  ),
);
const token68 = fc.stringMatching(/^[A-Za-z0-9\-._~+/]{1,20}={0,2}$/);
/** Any text a quoted-string can carry: HTAB, SP, VCHAR and non-ASCII, including `"` and `\`. */
const quotableText = fc.string({
  unit: fc.oneof(
    fc.constantFrom('"', '\\', ' ', '\t', ',', '=', 'é', '☕', '😀'),
    fc.integer({ min: 0x21, max: 0x7e }).map((code) => String.fromCharCode(code)),
  ),
  maxLength: 20,
});
const paramValue = fc.oneof(token, quotableText);

const modelChallenge: fc.Arbitrary<ModelChallenge> = fc.oneof(
  fc.record({ scheme: token, token68 }),
  fc.record({ scheme: token, params: fc.array(fc.tuple(paramName, paramValue), { maxLength: 6 }) }),
);

/** Parser output the model predicts: names and schemes lower-cased, first duplicate wins, `__proto__` dropped. */
function expected(model: readonly ModelChallenge[]): unknown[] {
  return model.map((challenge) => {
    const scheme = challenge.scheme.toLowerCase();
    if ('token68' in challenge) return { scheme, token68: challenge.token68, params: {} };
    const params: Record<string, string> = {};
    for (const [name, value] of challenge.params) {
      const key = name.toLowerCase();
      if (key !== '__proto__' && !Object.hasOwn(params, key)) params[key] = value;
    }
    return { scheme, params };
  });
}

function plain(challenges: ReturnType<typeof parseWwwAuthenticate>): unknown[] {
  return challenges.map((challenge) =>
    challenge.token68 === undefined
      ? { scheme: challenge.scheme, params: { ...challenge.params } }
      : { scheme: challenge.scheme, token68: challenge.token68, params: { ...challenge.params } },
  );
}

/** Random choices for one serialisation, drawn from a stream of integers. */
class Choices {
  #index = 0;
  constructor(private readonly values: readonly number[]) {}
  next(range: number): number {
    const value = this.values[this.#index % this.values.length] ?? 0;
    this.#index++;
    return value % range;
  }
  whitespace(minimum: number): string {
    let result = minimum > 0 ? ' ' : '';
    for (let count = this.next(3); count > 0; count--) result += this.next(2) === 0 ? ' ' : '\t';
    return result;
  }
  /** OWS, sometimes with empty list elements (`, ,`) in it, ending just before the next element. */
  separator(allowEmptyElements: boolean): string {
    let result = `${this.whitespace(0)},${this.whitespace(0)}`;
    if (allowEmptyElements) {
      for (let count = this.next(4) === 0 ? this.next(3) : 0; count > 0; count--)
        result += `,${this.whitespace(0)}`;
    }
    return result;
  }
  randomCase(value: string): string {
    return [...value].map((char) => (this.next(2) === 0 ? char.toLowerCase() : char.toUpperCase())).join('');
  }
}

function quote(value: string, choices: Choices): string {
  let result = '"';
  for (const char of value) {
    result += char === '"' || char === '\\' || choices.next(5) === 0 ? `\\${char}` : char;
  }
  return `${result}"`;
}

function serialiseChallenge(challenge: ModelChallenge, choices: Choices): string {
  const scheme = choices.randomCase(challenge.scheme);
  if ('token68' in challenge) return `${scheme}${choices.whitespace(1)}${challenge.token68}`;
  if (challenge.params.length === 0) return scheme;
  const params = challenge.params.map(([name, value], index) => {
    const written = TOKEN.test(value) && choices.next(2) === 0 ? value : quote(value, choices);
    const pair = `${choices.randomCase(name)}${choices.whitespace(0)}=${choices.whitespace(0)}${written}`;
    return index === 0 ? pair : `${choices.separator(true)}${pair}`;
  });
  return `${scheme}${choices.whitespace(1)}${params.join('')}`;
}

/** Serialises per RFC 9110, sometimes splitting the list across repeated header lines. */
function serialise(model: readonly ModelChallenge[], choices: Choices): string | string[] {
  const lines: string[] = [];
  let line = choices.whitespace(0);
  model.forEach((challenge, index) => {
    if (index > 0) {
      if (choices.next(4) === 0) {
        lines.push(line);
        line = choices.whitespace(0);
      } else {
        line += choices.separator(true);
      }
    }
    line += serialiseChallenge(challenge, choices);
  });
  line += choices.next(3) === 0 ? choices.separator(true) : choices.whitespace(0);
  lines.push(line);
  return lines.length === 1 && choices.next(2) === 0 ? lines[0]! : lines;
}

/** Output that holds for every input: bounded, lower-case, well-formed names. */
function assertWellFormed(result: ReturnType<typeof parseWwwAuthenticate>): void {
  expect(result.length).toBeLessThanOrEqual(MAX_CHALLENGES);
  for (const challenge of result) {
    expect(challenge.scheme).toMatch(TOKEN);
    expect(challenge.scheme).toBe(challenge.scheme.toLowerCase());
    const names = Object.keys(challenge.params);
    expect(names.length).toBeLessThanOrEqual(MAX_PARAMS);
    if (challenge.token68 !== undefined) expect(names).toEqual([]);
    for (const name of names) {
      expect(name).toMatch(TOKEN);
      expect(name).toBe(name.toLowerCase());
      expect(name).not.toBe('__proto__');
    }
  }
}

describe('parseWwwAuthenticate properties', () => {
  it('round-trips generated challenges through random quoting, whitespace, case and line splits', () => {
    fc.assert(
      fc.property(
        fc.array(modelChallenge, { maxLength: 5 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 64 }),
        (model, stream) => {
          const header = serialise(model, new Choices(stream));
          expect(plain(parseWwwAuthenticate(header))).toStrictEqual(expected(model));
        },
      ),
      { numRuns: 12_000 },
    );
  });

  it('never throws on arbitrary strings and arrays of them', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ maxLength: 200 }), fc.array(fc.string({ maxLength: 50 }), { maxLength: 5 })),
        (header) => {
          assertWellFormed(parseWwwAuthenticate(header));
          readResourceChallenge(header);
        },
      ),
      { numRuns: 8_000 },
    );
  });

  it('never throws on strings built from the grammar’s own punctuation', () => {
    const unit = fc.constantFrom(
      'Bearer',
      'DPoP',
      ' ',
      '\t',
      ',',
      '=',
      '"',
      '\\',
      'a',
      'realm',
      'x==',
      '\u0000',
      'é',
    );
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 60 }), (header) => {
        const result = parseWwwAuthenticate(header);
        assertWellFormed(result);
        expect(parseWwwAuthenticate(header)).toStrictEqual(result);
      }),
      { numRuns: 8_000 },
    );
  });

  it('never throws on anything at all', () => {
    fc.assert(
      fc.property(fc.anything(), (header) => {
        assertWellFormed(parseWwwAuthenticate(header as string));
        expect(readResourceChallenge(header as string).schemes).toBeInstanceOf(Array);
      }),
      { numRuns: 2_000 },
    );
  });

  it('keeps valid challenges that come before a garbage tail', () => {
    fc.assert(
      fc.property(
        fc.array(modelChallenge, { minLength: 1, maxLength: 3 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 32 }),
        fc.string({ maxLength: 40 }),
        (model, stream, tail) => {
          // A token glued to junk cannot be a parameter, so the tail cannot reach back into the
          // challenges before it (it may add challenges of its own after them).
          const header = serialise(model, new Choices(stream));
          const lines = [...(typeof header === 'string' ? [header] : header), `x\u0000${tail}`];
          const parsed = plain(parseWwwAuthenticate(lines));
          expect(parsed.slice(0, model.length)).toStrictEqual(expected(model));
        },
      ),
      { numRuns: 2_000 },
    );
  });
});
