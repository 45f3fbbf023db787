/**
 * 7. Code size: how big each adapter is, and how many names the core root exports. Counted by the
 * TypeScript compiler, from the sources:
 *
 * - code lines of an adapter: the lines of its shipped source (the files `src/index.ts` reaches
 *   within the package, so no test, fixture or example) that hold at least one token — blank lines
 *   and lines holding only comments are not counted. They are also split by role: the `withOAuth`
 *   shim (the files `src/with-oauth.ts` reaches, the `OAuthHttpClient` aside), the
 *   `OAuthHttpClient` that carries the session's own OAuth requests (`src/http-client.ts`), and
 *   the rest (other exports, such as fetch's SDK auth provider);
 * - root exports: every name `@mcp-oauth/core` exports from its root entry, values and types.
 */
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const ADAPTER_NAMES = ['fetch', 'ky', 'axios', 'got'] as const;
export type AdapterName = (typeof ADAPTER_NAMES)[number];

export interface AdapterCode {
  readonly adapter: AdapterName;
  /** Lines with code (not blank, not only a comment), all files together. */
  readonly codeLines: number;
  /** Each source file the entry reaches, relative to the package, with its code lines. */
  readonly files: readonly { readonly file: string; readonly codeLines: number }[];
  /** The same lines by role: the `withOAuth` shim, the `OAuthHttpClient`, everything else. */
  readonly roles: { readonly shim: number; readonly httpClient: number; readonly other: number };
}

const SHIM_ENTRY = 'src/with-oauth.ts';
const HTTP_CLIENT = 'src/http-client.ts';

export interface CodeSizeResults {
  readonly adapters: readonly AdapterCode[];
  readonly coreRootExports: {
    readonly total: number;
    /** Names with a runtime value (classes, functions, constants). */
    readonly values: number;
    /** Names that are types only. */
    readonly types: number;
    readonly names: readonly string[];
  };
}

const PACKAGES_DIR = fileURLToPath(new URL('../../../packages/', import.meta.url));

/** Compiles `entry` (no emit) and returns the program, resolving workspace packages to their sources. */
function programFor(entry: string): ts.Program {
  return ts.createProgram([entry], {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  });
}

/** Lines of `file` that hold at least one token outside comments. */
export function countCodeLines(file: ts.SourceFile): number {
  const lines = new Set<number>();
  const visit = (node: ts.Node): void => {
    if (ts.isJSDoc(node)) return;
    const children = node.getChildren(file);
    if (children.length === 0) {
      if (node.getWidth(file) === 0) return; // an empty list, the end of the file
      // A token: every line it spans (a multi-line template literal counts on each line).
      const first = file.getLineAndCharacterOfPosition(node.getStart(file)).line;
      const last = file.getLineAndCharacterOfPosition(node.getEnd()).line;
      for (let line = first; line <= last; line++) lines.add(line);
      return;
    }
    for (const child of children) visit(child);
  };
  visit(file);
  return lines.size;
}

/** The package's own source files `entry` reaches (itself included), relative to the package. */
function reachedFiles(packageDir: string, entry: string): ts.SourceFile[] {
  return programFor(join(packageDir, entry))
    .getSourceFiles()
    .filter((file) => !file.isDeclarationFile && file.fileName.startsWith(join(packageDir, 'src')));
}

function measureAdapter(adapter: AdapterName): AdapterCode {
  const packageDir = join(PACKAGES_DIR, adapter);
  const files = reachedFiles(packageDir, 'src/index.ts')
    .map((file) => ({ file: relative(packageDir, file.fileName), codeLines: countCodeLines(file) }))
    .sort((a, b) => a.file.localeCompare(b.file));
  const shimFiles = new Set(
    reachedFiles(packageDir, SHIM_ENTRY).map((file) => relative(packageDir, file.fileName)),
  );
  shimFiles.delete(HTTP_CLIENT);
  const linesOf = (keep: (file: string) => boolean) =>
    files.filter((each) => keep(each.file)).reduce((sum, each) => sum + each.codeLines, 0);
  const roles = {
    shim: linesOf((file) => shimFiles.has(file)),
    httpClient: linesOf((file) => file === HTTP_CLIENT),
    other: linesOf((file) => !shimFiles.has(file) && file !== HTTP_CLIENT),
  };
  return { adapter, codeLines: linesOf(() => true), files, roles };
}

function measureRootExports(): CodeSizeResults['coreRootExports'] {
  const entry = join(PACKAGES_DIR, 'core', 'src', 'index.ts');
  const program = programFor(entry);
  const checker = program.getTypeChecker();
  const file = program.getSourceFile(entry);
  const module = file === undefined ? undefined : checker.getSymbolAtLocation(file);
  if (module === undefined) throw new Error(`cannot read the exports of ${entry}`);
  const exported = checker.getExportsOfModule(module);
  const isValue = (symbol: ts.Symbol) => {
    const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
    return (target.flags & ts.SymbolFlags.Value) !== 0 && !isTypeOnlyExport(symbol);
  };
  const values = exported.filter(isValue).length;
  return {
    total: exported.length,
    values,
    types: exported.length - values,
    names: exported.map((symbol) => symbol.name).sort(),
  };
}

/** `export type { X }` or `export { type X }`: a value-backed name exported as a type only. */
function isTypeOnlyExport(symbol: ts.Symbol): boolean {
  return (symbol.declarations ?? []).some(
    (declaration) =>
      ts.isExportSpecifier(declaration) && (declaration.isTypeOnly || declaration.parent.parent.isTypeOnly),
  );
}

export function measureCodeSize(): CodeSizeResults {
  return { adapters: ADAPTER_NAMES.map(measureAdapter), coreRootExports: measureRootExports() };
}
