// Usage (in a package, after tsup): node ../../scripts/cts-types-from-esm.mjs ky [more modules]
//
// The CommonJS declarations (dist/*.d.cts) of an adapter whose library is ESM only (ky; got 12+)
// import that library's types. Read as CommonJS, such an import is a `require` of an ES module:
// TypeScript reports TS1479 in every `module: node16`/`nodenext` CommonJS project. A type-only
// import with `resolution-mode: import` (TypeScript 5.3+) reads the same types the way an
// `import()` would. tsup's declaration bundler drops import attributes from the source, so this
// step rewrites the bundled files, and fails on any import of those modules it cannot rewrite.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const modules = process.argv.slice(2);
if (modules.length === 0) throw new Error('name the ESM-only modules whose type imports to rewrite');
const dist = join(process.cwd(), 'dist');
const ATTRIBUTES = "with { 'resolution-mode': 'import' }";

/** `import X, { A, B as C }` → `{ default as X, A, B as C }`; `* as N` stays a namespace import. */
function typeOnlyClause(clause) {
  const namespace = /^\*\s+as\s+([\w$]+)$/.exec(clause);
  if (namespace) return `* as ${namespace[1]}`;
  const match = /^(?:([\w$]+))?\s*,?\s*(?:\{([^}]*)\})?$/.exec(clause);
  if (!match || (match[1] === undefined && match[2] === undefined)) return undefined;
  const names = [];
  if (match[1] !== undefined) names.push(`default as ${match[1]}`);
  for (const name of (match[2] ?? '').split(',')) {
    const trimmed = name.trim().replace(/^type\s+/, '');
    if (trimmed !== '') names.push(trimmed);
  }
  return `{ ${names.join(', ')} }`;
}

let rewritten = 0;
for (const file of readdirSync(dist).filter((name) => name.endsWith('.d.cts'))) {
  const path = join(dist, file);
  const lines = readFileSync(path, 'utf8').split('\n');
  const output = lines.map((line, index) => {
    const mentions = modules.filter((name) => line.includes(`'${name}'`) || line.includes(`"${name}"`));
    if (mentions.length === 0 || line.trimEnd().endsWith(`${ATTRIBUTES};`)) return line;
    const statement = /^import\s+(?:type\s+)?(.+?)\s+from\s+(['"])([^'"]+)\2;$/.exec(line.trim());
    const clause = statement && modules.includes(statement[3]) ? typeOnlyClause(statement[1]) : undefined;
    if (statement === null || clause === undefined) {
      throw new Error(`${file}:${index + 1}: cannot rewrite this use of ${mentions.join(', ')}: ${line}`);
    }
    rewritten += 1;
    return `import type ${clause} from '${statement[3]}' ${ATTRIBUTES};`;
  });
  writeFileSync(path, output.join('\n'));
}
console.log(
  `cts-types-from-esm: ${rewritten} import(s) of ${modules.join(', ')} made type-only with resolution-mode "import"`,
);
