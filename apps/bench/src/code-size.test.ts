import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { countCodeLines } from './code-size.js';

const count = (text: string) =>
  countCodeLines(ts.createSourceFile('x.ts', text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS));

describe('countCodeLines', () => {
  it('counts lines with a token, not blank or comment-only lines', () => {
    const text = [
      '/**',
      ' * A doc comment.',
      ' */',
      'export const a = 1; // a trailing comment keeps its line',
      '',
      '// a line comment',
      '/* a block */ const b = 2;',
      'function f() {',
      '  return `one',
      '// inside a template literal, not a comment',
      'three`;',
      '}',
    ].join('\n');
    expect(count(text)).toBe(7);
  });

  it('counts nothing in a file of comments', () => {
    expect(count('// one\n\n/* two\n   three */\n')).toBe(0);
  });
});
