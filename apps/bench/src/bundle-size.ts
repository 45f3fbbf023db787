/**
 * 4. Bundle size: each entry bundled by esbuild into one minified ESM file (browser platform,
 * es2022), then gzipped (level 9). mcp-oauth is bundled from the built `dist` ESM entries, with the
 * HTTP libraries (peer dependencies) and Node's built-in modules left external; the official SDK's
 * client auth is bundled whole, dependencies included (zod, pkce-challenge, jose), as an
 * application ships it.
 *
 * - every entry point of `@mcp-oauth/core`, with everything it exports (`export *`);
 * - the common path of each adapter: what an application imports, `OAuthSession` and the
 *   adapter's `withOAuth` — everything statically reachable from those two names;
 * - the SDK's auth, everything and `auth` alone.
 *
 * Below them, the source modules of the fetch common path by minified bytes (esbuild's metafile).
 */
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';
import { BENCH_DIR } from './child.js';
import { ADAPTER_NAMES } from './code-size.js';

export interface EntrySize {
  readonly name: string;
  /** What the bundled entry imports. */
  readonly contents: string;
  readonly minifiedBytes: number;
  readonly gzipBytes: number;
  /** Why the entry could not be bundled (an adapter that is not built, for example). */
  readonly error?: string;
}

export interface Contributor {
  readonly module: string;
  /** Minified bytes this module adds to the bundle. */
  readonly bytes: number;
  readonly share: number;
}

export interface BundleResults {
  /** Each entry point of `@mcp-oauth/core`, everything it exports. */
  readonly coreEntries: readonly EntrySize[];
  /** `OAuthSession` plus the adapter's `withOAuth`, for each adapter. */
  readonly commonPaths: readonly (EntrySize & { readonly adapter: string })[];
  /** The official SDK's client auth, everything and `auth` alone. */
  readonly sdk: readonly EntrySize[];
  /**
   * Source modules of the fetch common path, bundled the same way from `src` (the built `dist` is
   * split in chunks, not modules), largest first.
   */
  readonly commonPathContributors: readonly Contributor[];
  /** Minified and gzipped size of that source bundle, to compare with the `dist` row. */
  readonly commonPathSourceBundle: { readonly minifiedBytes: number; readonly gzipBytes: number };
  /** Largest packages of the SDK v1 client auth bundle. */
  readonly sdkV1Contributors: readonly Contributor[];
}

/** The subpaths of `@mcp-oauth/core` (its `exports` map, `./package.json` aside). */
export const CORE_ENTRIES = ['', '/adapter', '/protocol', '/dpop', '/jwt', '/enterprise', '/device'] as const;

/** The names v1's `client/auth.js` exports; v2 has no auth entry point, so they are imported from its main one. */
const SDK_AUTH_NAMES = [
  'UnauthorizedError',
  'auth',
  'buildDiscoveryUrls',
  'discoverAuthorizationServerMetadata',
  'discoverOAuthMetadata',
  'discoverOAuthProtectedResourceMetadata',
  'discoverOAuthServerInfo',
  'exchangeAuthorization',
  'extractResourceMetadataUrl',
  'extractWWWAuthenticateParams',
  'fetchToken',
  'isHttpsUrl',
  'parseErrorResponse',
  'prepareAuthorizationCodeRequest',
  'refreshAuthorization',
  'registerClient',
  'selectClientAuthMethod',
  'selectResourceURL',
  'startAuthorization',
].join(', ');

const SDK_ENTRIES = [
  {
    name: 'SDK v1 client/auth.js, everything',
    contents: `export * from '@modelcontextprotocol/sdk/client/auth.js';`,
  },
  {
    name: 'SDK v1 client/auth.js, auth',
    contents: `export { auth } from '@modelcontextprotocol/sdk/client/auth.js';`,
  },
  {
    name: 'SDK v2 client, the auth exports',
    contents: `export { ${SDK_AUTH_NAMES} } from '@modelcontextprotocol/client';`,
  },
  { name: 'SDK v2 client, auth', contents: `export { auth } from '@modelcontextprotocol/client';` },
];

export const commonPath = (adapter: string) =>
  `export { OAuthSession } from '@mcp-oauth/core'; export { withOAuth } from '@mcp-oauth/${adapter}';`;

const PACKAGES_DIR = fileURLToPath(new URL('../../../packages/', import.meta.url));

/** The HTTP libraries (peer dependencies) and Node's own modules (the got adapter uses `stream`). */
const EXTERNAL = ['axios', 'ky', 'got', 'node:*', ...builtinModules];

/** `@mcp-oauth/x` from `packages/x/src` instead of its `dist`, for the module breakdown. */
const FROM_SOURCE = {
  '@mcp-oauth/core': `${PACKAGES_DIR}core/src/index.ts`,
  '@mcp-oauth/core/adapter': `${PACKAGES_DIR}core/src/entries/adapter.ts`,
  '@mcp-oauth/fetch': `${PACKAGES_DIR}fetch/src/index.ts`,
};

async function bundle(
  contents: string,
  alias: Record<string, string> = {},
): Promise<{ bytes: Uint8Array; metafile: Metafile }> {
  const result = await build({
    stdin: { contents, resolveDir: BENCH_DIR, loader: 'ts', sourcefile: 'entry.ts' },
    absWorkingDir: BENCH_DIR,
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    external: EXTERNAL,
    alias,
    write: false,
    metafile: true,
    logLevel: 'silent',
    legalComments: 'none',
  });
  const output = result.outputFiles[0];
  if (output === undefined) throw new Error('esbuild produced no output');
  return { bytes: output.contents, metafile: result.metafile };
}

const gzipSize = (bytes: Uint8Array) => gzipSync(bytes, { level: 9 }).byteLength;

async function measure(name: string, contents: string): Promise<EntrySize & { metafile?: Metafile }> {
  try {
    const { bytes, metafile } = await bundle(contents);
    return { name, contents, minifiedBytes: bytes.byteLength, gzipBytes: gzipSize(bytes), metafile };
  } catch (error) {
    // One entry that cannot be bundled (an adapter not built yet) is reported, not fatal.
    const message = (error as { errors?: { text: string }[] }).errors?.[0]?.text ?? String(error);
    return { name, contents, minifiedBytes: Number.NaN, gzipBytes: Number.NaN, error: message };
  }
}

const withoutMetafile = ({ metafile: _metafile, ...size }: EntrySize & { metafile?: Metafile }): EntrySize =>
  size;

export async function measureBundles(): Promise<BundleResults> {
  const coreEntries: EntrySize[] = [];
  for (const subpath of CORE_ENTRIES) {
    const specifier = `@mcp-oauth/core${subpath}`;
    coreEntries.push(withoutMetafile(await measure(specifier, `export * from '${specifier}';`)));
  }
  const commonPaths: (EntrySize & { adapter: string })[] = [];
  for (const adapter of ADAPTER_NAMES) {
    commonPaths.push({
      adapter,
      ...withoutMetafile(await measure(`core + ${adapter}`, commonPath(adapter))),
    });
  }
  const sdk: EntrySize[] = [];
  let sdkV1Metafile: Metafile | undefined;
  for (const entry of SDK_ENTRIES) {
    const size = await measure(entry.name, entry.contents);
    sdkV1Metafile ??= size.metafile;
    sdk.push(withoutMetafile(size));
  }
  const source = await bundle(commonPath('fetch'), FROM_SOURCE);
  return {
    coreEntries,
    commonPaths,
    sdk,
    commonPathContributors: contributors(source.metafile, (path) => path.replace(/^(?:.*\/)?packages\//, '')),
    commonPathSourceBundle: { minifiedBytes: source.bytes.byteLength, gzipBytes: gzipSize(source.bytes) },
    sdkV1Contributors: sdkV1Metafile === undefined ? [] : contributors(sdkV1Metafile, packageOf),
  };
}

/** Minified bytes per input module (grouped by `group`), largest first. */
function contributors(metafile: Metafile, group: (path: string) => string): Contributor[] {
  const output = Object.values(metafile.outputs)[0];
  if (output === undefined) return [];
  const sizes = new Map<string, number>();
  for (const [path, { bytesInOutput }] of Object.entries(output.inputs)) {
    const key = group(path);
    sizes.set(key, (sizes.get(key) ?? 0) + bytesInOutput);
  }
  const total = [...sizes.values()].reduce((sum, bytes) => sum + bytes, 0);
  return [...sizes.entries()]
    .map(([module, bytes]) => ({ module, bytes, share: total === 0 ? 0 : bytes / total }))
    .filter((each) => each.bytes > 0)
    .sort((a, b) => b.bytes - a.bytes);
}

/** `…/node_modules/.pnpm/x/node_modules/zod/v4/core/schemas.js` → `zod`. */
function packageOf(path: string): string {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules\/)/.exec(path);
  return match?.[1] ?? path;
}
