import { defineConfig } from 'tsup';

/**
 * The build every published package shares: ESM + CJS + declarations. `entry` maps output names
 * to sources (default: `index` from `src/index.ts`); each becomes a subpath of the package.
 * No source maps: the output is unminified ES2022 that reads like the source, and a map either
 * carries the whole TypeScript source (most of a package's size) or points at files the tarball
 * does not hold (bundlers then warn about every import of the package).
 */
export function packageBuild(
  platform: 'neutral' | 'node' = 'neutral',
  entry: Record<string, string> = { index: 'src/index.ts' },
) {
  return defineConfig({
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
    sourcemap: false,
    target: 'es2022',
    platform,
  });
}
