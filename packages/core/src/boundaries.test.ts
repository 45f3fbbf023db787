import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// Core must run in browsers, Deno, Bun and workers: no Node built-ins, no HTTP library, no fetch.
const sourceDirectory = new URL('.', import.meta.url).pathname;
const sources = readdirSync(sourceDirectory)
  .filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts'))
  .map((name) => ({ name, text: stripComments(readFileSync(join(sourceDirectory, name), 'utf8')) }));

function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
}

const forbidden: Array<[string, RegExp]> = [
  ['a node: import', /from\s+['"]node:/],
  ['a Node built-in', /from\s+['"](fs|path|http|https|crypto|url|util|stream|buffer|os|net|tls)['"]/],
  ['an HTTP library', /from\s+['"](ky|axios|got|undici|node-fetch|cross-fetch)['"]/],
  ['fetch', /\bfetch\s*\(/],
  ['Buffer', /\bBuffer\./],
  ['process', /\bprocess\./],
  ['require', /\brequire\s*\(/],
];

describe('core boundaries', () => {
  it('has source files to check', () => {
    expect(sources.length).toBeGreaterThan(10);
  });

  for (const [what, pattern] of forbidden) {
    it(`no source file uses ${what}`, () => {
      const offenders = sources.filter((source) => pattern.test(source.text)).map((source) => source.name);
      expect(offenders).toEqual([]);
    });
  }

  it('declares no runtime dependency', () => {
    const manifest = JSON.parse(readFileSync(join(sourceDirectory, '..', 'package.json'), 'utf8'));
    expect(manifest.dependencies ?? {}).toEqual({});
  });
});
