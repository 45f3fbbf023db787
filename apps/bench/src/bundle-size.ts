/**
 * 4. Bundle size: each entry bundled by esbuild into one minified ESM file (browser platform),
 * then gzipped (level 9). mcp-oauth is bundled from the built `dist` ESM entries, with the HTTP
 * libraries (peer dependencies) and Node's built-in modules left external; the official SDK's client auth
 * is bundled whole, dependencies included (zod, pkce-challenge, jose), as an application ships it.
 *
 * Two entries per row: everything the packages export (`export *`), and what an application
 * typically imports (the session plus the adapter's two functions; the SDK's `auth`).
 */
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';
import { BENCH_DIR } from './child.js';

export interface BundleRow {
  readonly name: string;
  /** Everything the entry exports. */
  readonly minifiedBytes: number;
  readonly gzipBytes: number;
  /** What an application typically imports. */
  readonly typicalGzipBytes: number;
  readonly ours: boolean;
}

export interface Contributor {
  readonly module: string;
  /** Minified bytes this module adds to the bundle. */
  readonly bytes: number;
  readonly share: number;
}

export interface BundleResults {
  readonly rows: readonly BundleRow[];
  /**
   * Largest source modules of `@mcp-oauth/core` (everything exported), from esbuild's metafile.
   * The built `dist` is one file, so this bundles `packages/core/src/index.ts` the same way.
   */
  readonly coreContributors: readonly Contributor[];
  /** Minified and gzipped size of that source bundle, to compare with the `dist` row. */
  readonly coreSourceBundle: { readonly minifiedBytes: number; readonly gzipBytes: number };
  /** Largest packages of the SDK v1 client auth bundle. */
  readonly sdkV1Contributors: readonly Contributor[];
}

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

interface Entry {
  readonly name: string;
  readonly everything: string;
  readonly typical: string;
  readonly ours: boolean;
}

const adapterEntry = (adapter: string, functions: string): Entry => ({
  name: `core + ${adapter}`,
  everything: `export * from '@mcp-oauth/core'; export * from '@mcp-oauth/${adapter}';`,
  typical: `export { OAuthSession } from '@mcp-oauth/core'; export { ${functions} } from '@mcp-oauth/${adapter}';`,
  ours: true,
});

const ENTRIES: readonly Entry[] = [
  {
    name: 'core',
    everything: `export * from '@mcp-oauth/core';`,
    typical: `export { OAuthSession } from '@mcp-oauth/core';`,
    ours: true,
  },
  adapterEntry('fetch', 'createFetchHttpClient, withOAuth'),
  adapterEntry('ky', 'createKyHttpClient, withOAuth'),
  adapterEntry('axios', 'createAxiosHttpClient, withOAuth'),
  adapterEntry('got', 'createGotHttpClient, withOAuth'),
  {
    name: 'SDK v1 client/auth.js',
    everything: `export * from '@modelcontextprotocol/sdk/client/auth.js';`,
    typical: `export { auth } from '@modelcontextprotocol/sdk/client/auth.js';`,
    ours: false,
  },
  {
    name: 'SDK v2 client (auth exports)',
    everything: `export { ${SDK_AUTH_NAMES} } from '@modelcontextprotocol/client';`,
    typical: `export { auth } from '@modelcontextprotocol/client';`,
    ours: false,
  },
];

/** The HTTP libraries (peer dependencies) and Node's own modules (the got adapter uses `stream`). */
const CORE_DIR = fileURLToPath(new URL('../../../packages/core/', import.meta.url));

const EXTERNAL = ['axios', 'ky', 'got', 'node:*', ...builtinModules];

async function bundle(
  contents: string,
  resolveDir = BENCH_DIR,
): Promise<{ bytes: Uint8Array; metafile: Metafile }> {
  const result = await build({
    stdin: { contents, resolveDir, loader: 'ts', sourcefile: 'entry.ts' },
    absWorkingDir: BENCH_DIR,
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    external: EXTERNAL,
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

export async function measureBundles(): Promise<BundleResults> {
  const rows: BundleRow[] = [];
  let sdkV1Metafile: Metafile | undefined;
  for (const entry of ENTRIES) {
    const everything = await bundle(entry.everything);
    const typical = await bundle(entry.typical);
    if (entry.name.startsWith('SDK v1')) sdkV1Metafile = everything.metafile;
    rows.push({
      name: entry.name,
      minifiedBytes: everything.bytes.byteLength,
      gzipBytes: gzipSize(everything.bytes),
      typicalGzipBytes: gzipSize(typical.bytes),
      ours: entry.ours,
    });
  }
  const coreSource = await bundle(`export * from './src/index.ts';`, CORE_DIR);
  return {
    rows,
    coreContributors: contributors(coreSource.metafile, (path) =>
      path.replace(/^(?:.*\/)?packages\/core\//, ''),
    ),
    coreSourceBundle: { minifiedBytes: coreSource.bytes.byteLength, gzipBytes: gzipSize(coreSource.bytes) },
    sdkV1Contributors: contributors(sdkV1Metafile!, packageOf),
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
